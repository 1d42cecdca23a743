"""Settings: the one place configuration enters QuotaFlow (env prefix ``QUOTAFLOW_``).

Every choice between embedded and external infrastructure lives here, so the same code
runs on the embedded broker and chDB, and on Apache Kafka and a ClickHouse server.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class BrokerMode(StrEnum):
    EMBEDDED = "embedded"
    EXTERNAL = "external"


class EmbeddedBroker(StrEnum):
    NOIDA = "noida"
    TANSU = "tansu"


class ClickHouseMode(StrEnum):
    EMBEDDED = "embedded"
    SERVER = "server"


class Settings(BaseSettings):
    """Runtime settings; read from ``QUOTAFLOW_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="QUOTAFLOW_", extra="ignore")

    data_dir: Path = Path(".quotaflow")
    app_id: str = "quotaflow"
    plan_file: Path = Path("examples/plans/reference.yaml")

    broker_mode: BrokerMode = BrokerMode.EMBEDDED
    embedded_broker: EmbeddedBroker = EmbeddedBroker.NOIDA
    embedded_broker_port: int = 0
    bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    topic_partitions: int = Field(default=6, ge=1)
    # The hot path takes up to ``batch_size`` messages at a time: what has arrived,
    # or, when nothing has, the first to come within ``batch_seconds`` (the agents
    # take what came within it). It writes the rows of its takes together, at most
    # ``write_seconds`` after the first, or as soon as nothing more is waiting: an
    # event crosses three takes (route, claim, fold), and none of them waits for a
    # batch to fill or for an insert (``streams.hot.takes``).
    batch_size: int = Field(default=2000, ge=1)
    batch_seconds: float = Field(default=0.05, gt=0)
    write_seconds: float = Field(default=0.25, gt=0)
    # The worker's local copy of its partitions' checkpoints: ``rocksdb://``
    # (rocksdict, under ``data_dir``, so a restarted worker reads only the
    # checkpoint topic's tail) or ``memory://`` (none: it reads the whole topic).
    store: str = Field(default="memory://", pattern=r"^(memory|rocksdb)://")
    # How often each partition checkpoints the state that changed (the hot path).
    snapshot_seconds: float = Field(default=5.0, gt=0)
    # A name of this worker that outlives its process (the container's, the
    # host's): both consumer groups know it as a static member (KIP-345), so a
    # worker restarted after a crash or a kill -9 takes its partitions back at
    # once instead of waiting for the broker to expire its dead self. Unset: a
    # dynamic member, which leaves the group when it stops cleanly (a static one
    # does not: its partitions wait ``session.timeout.ms``, 10 s, to move).
    instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,100}$")

    # How long a failing ClickHouse write is retried (with backoff) before the
    # worker stops; the batch stays unacknowledged meanwhile.
    write_retry_seconds: float = Field(default=120.0, ge=0)

    clickhouse_mode: ClickHouseMode = ClickHouseMode.EMBEDDED
    clickhouse_host: str = "localhost"
    clickhouse_port: int = 8123
    clickhouse_user: str = "default"
    clickhouse_password: SecretStr = SecretStr("")
    clickhouse_database: str = "quotaflow"
    clickhouse_secure: bool = False
    # With a cluster name, migrations create replicated tables on every node and
    # Distributed tables over them (``projections.cluster``).
    clickhouse_cluster: str | None = Field(default=None, pattern=r"^[A-Za-z_]\w*$")

    # The address the web server listens on; ``web_host`` only names it in URLs.
    # Loopback by default: a container that must be scraped sets 0.0.0.0 itself.
    web_bind: str = "127.0.0.1"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    # The digests of the API's bearer tokens (`quotaflow token issue`); by default
    # ``<data_dir>/access.json``.
    access_file: Path | None = None

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"

    @property
    def clickhouse_dir(self) -> Path:
        return self.data_dir / "clickhouse"

    @property
    def access_path(self) -> Path:
        return self.access_file or self.data_dir / "access.json"

    @property
    def checkpoint_dir(self) -> Path:
        return self.data_dir / "checkpoints"

    @property
    def faust_dir(self) -> Path:
        return self.data_dir / "faust"

    def confluent_config(self) -> dict[str, Any]:
        """librdkafka settings for producers, consumers and the admin client."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.kafka_security_protocol,
        }
        if self.kafka_sasl_mechanism:
            config["sasl.mechanism"] = self.kafka_sasl_mechanism
        if self.kafka_sasl_username:
            config["sasl.username"] = self.kafka_sasl_username
        if self.kafka_sasl_password is not None:
            config["sasl.password"] = self.kafka_sasl_password.get_secret_value()
        if self.kafka_ssl_cafile is not None:
            config["ssl.ca.location"] = str(self.kafka_ssl_cafile)
        return config

    def redacted(self) -> dict[str, Any]:
        """Settings safe to log: secrets are shown as ``**********``."""
        return self.model_dump(mode="json")
