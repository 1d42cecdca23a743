import json
import logging

import pytest

from streams.infra.settings import BrokerMode, ClickHouseMode, Settings


def test_defaults_are_embedded_broker_and_embedded_clickhouse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("QUOTAFLOW_BROKER_MODE", "QUOTAFLOW_CLICKHOUSE_MODE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.broker_mode is BrokerMode.EMBEDDED
    assert settings.clickhouse_mode is ClickHouseMode.EMBEDDED


def test_environment_selects_external_infrastructure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTAFLOW_BROKER_MODE", "external")
    monkeypatch.setenv("QUOTAFLOW_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("QUOTAFLOW_CLICKHOUSE_MODE", "server")
    monkeypatch.setenv("QUOTAFLOW_CLICKHOUSE_PORT", "8443")
    settings = Settings()
    assert settings.broker_mode is BrokerMode.EXTERNAL
    assert settings.confluent_config()["bootstrap.servers"] == "kafka:9092"
    assert settings.clickhouse_port == 8443


def test_sasl_settings_reach_the_kafka_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAFLOW_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("QUOTAFLOW_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("QUOTAFLOW_KAFKA_SASL_USERNAME", "qf")
    monkeypatch.setenv("QUOTAFLOW_KAFKA_SASL_PASSWORD", "kafka-s3cret")
    config = Settings().confluent_config()
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["sasl.password"] == "kafka-s3cret"


def test_secrets_never_appear_in_logged_settings(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("QUOTAFLOW_KAFKA_SASL_PASSWORD", "kafka-s3cret")
    monkeypatch.setenv("QUOTAFLOW_CLICKHOUSE_PASSWORD", "ch-s3cret")
    settings = Settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("quotaflow").info("settings: %s", settings.redacted())
    text = (
        caplog.text + json.dumps(settings.redacted()) + repr(settings) + str(settings)
    )
    assert "kafka-s3cret" not in text
    assert "ch-s3cret" not in text
    assert settings.redacted()["clickhouse_password"] == "**********"


def test_partition_count_below_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAFLOW_TOPIC_PARTITIONS", "0")
    with pytest.raises(ValueError, match="topic_partitions"):
        Settings()


def test_store_and_cluster_settings_refuse_what_they_cannot_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTAFLOW_STORE", "rocksdb://")
    monkeypatch.setenv("QUOTAFLOW_CLICKHOUSE_CLUSTER", "qf_cluster")
    settings = Settings()
    assert (settings.store, settings.clickhouse_cluster) == ("rocksdb://", "qf_cluster")
    for name, value in (
        ("QUOTAFLOW_STORE", "redis://"),
        ("QUOTAFLOW_CLICKHOUSE_CLUSTER", "c; DROP TABLE x"),
    ):
        monkeypatch.setenv(name, value)
        with pytest.raises(ValueError, match=name.removeprefix("QUOTAFLOW_").lower()):
            Settings()
        monkeypatch.delenv(name)
