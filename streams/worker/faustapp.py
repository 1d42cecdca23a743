"""The faust app of a worker: its broker and credentials, its web server, and what of
faust is turned off (tables, its own pages, waiting for dead agents)."""

from __future__ import annotations

from typing import Any

import faust

from streams.infra.settings import Settings
from streams.worker.calmfetch import calm_empty_fetches


def faust_broker_url(bootstrap_servers: str) -> str:
    return ";".join(
        f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")
    )


def faust_app(settings: Settings) -> faust.App:
    settings.faust_dir.mkdir(parents=True, exist_ok=True)
    calm_empty_fetches()
    return faust.App(
        settings.app_id,
        broker=faust_broker_url(settings.bootstrap_servers),
        broker_credentials=_credentials(settings),
        datadir=str(settings.faust_dir),
        # faust holds no tables: partition state is checkpointed by the hot path.
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_disable_leader=True,
        topic_allow_declare=False,
        web_enabled=True,
        web_bind=settings.web_bind,
        web_host=settings.web_host,
        # faust's own pages (/router/, /table/, stats, graph) would show
        # partition assignments and table contents to anyone: off.
        web_router_enabled=False,
        web_tables_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_metrics_enabled=False,
        web_port=settings.web_port,
        broker_session_timeout=10,
        consumer_group_instance_id=settings.instance_id,
        broker_heartbeat_interval=1,
        # After an agent crashed, faust's stop would wait for ever for the dead
        # agent's events; nothing here relies on that wait (state and rows are
        # idempotent, offsets are acknowledged after the batch's writes).
        stream_wait_empty=False,
    )


def _credentials(settings: Settings) -> Any:
    if settings.kafka_sasl_mechanism and settings.kafka_sasl_username:
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else "",
            mechanism=settings.kafka_sasl_mechanism,
        )
    if settings.kafka_security_protocol.upper() == "SSL":
        import ssl  # noqa: PLC0415 - only TLS deployments need it

        return faust.SSLCredentials(
            ssl.create_default_context(
                cafile=str(settings.kafka_ssl_cafile)
                if settings.kafka_ssl_cafile
                else None
            )
        )
    return None
