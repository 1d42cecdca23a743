"""Composition root: settings in, running infrastructure and a wired app out."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from confluent_kafka.admin import AdminClient
from pydantic import ValidationError

from domain.plan import Plan
from projections.migrations import migrate
from projections.store import Store
from streams.infra.embedded import BrokerProcess
from streams.infra.settings import BrokerMode, ClickHouseMode, Settings
from streams.infra.topics import ensure_topics, topic_specs

log = logging.getLogger(__name__)


class PlanFileError(Exception):
    """A plan file that cannot be read or does not validate."""


def load_plan(path: Path) -> Plan:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read plan file {path}: {exc.strerror}"
        raise PlanFileError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"plan file {path} is not valid YAML: {exc}"
        raise PlanFileError(msg) from exc
    try:
        return Plan.model_validate(document)
    except ValidationError as exc:
        msg = f"plan file {path} is not a valid plan:\n{exc}"
        raise PlanFileError(msg) from exc


def open_store(settings: Settings) -> Store:
    if settings.clickhouse_mode is ClickHouseMode.EMBEDDED:
        return Store.embedded(settings.clickhouse_dir, settings.clickhouse_database)
    return Store.server(
        host=settings.clickhouse_host,
        port=settings.clickhouse_port,
        user=settings.clickhouse_user,
        password=settings.clickhouse_password.get_secret_value(),
        database=settings.clickhouse_database,
        secure=settings.clickhouse_secure,
    )


@dataclass(frozen=True)
class Runtime:
    """Running infrastructure: settings pointing at the live broker, an open store."""

    settings: Settings
    store: Store
    plan: Plan


@contextmanager
def broker_ready(settings: Settings) -> Iterator[Settings]:
    """Start the embedded broker if asked for; create topics; yield live settings."""
    with ExitStack() as stack:
        if settings.broker_mode is BrokerMode.EMBEDDED:
            broker = stack.enter_context(
                BrokerProcess(
                    settings.embedded_broker,
                    settings.broker_dir,
                    settings.embedded_broker_port,
                )
            )
            settings = settings.model_copy(
                update={"bootstrap_servers": broker.bootstrap_servers}
            )
        ensure_topics(
            AdminClient(settings.confluent_config()),
            topic_specs(settings.app_id, settings.topic_partitions),
        )
        yield settings


class InUse(RuntimeError):
    """The data dir or the web port is taken: the message says by what and how to
    go on."""


@contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Hold ``data_dir`` for this process: a second worker on it would share the
    embedded broker's and ClickHouse's files."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "worker.lock"
    with path.open("a+") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.seek(0)
            owner = held.read().strip() or "another process"
            msg = f"{data_dir} is in use by another QuotaFlow worker ({owner}); stop "
            msg += "it, or give this one its own --data-dir"
            raise InUse(msg) from None
        held.seek(0)
        held.truncate()
        held.write(f"pid {os.getpid()}")
        held.flush()
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def port_free(host: str, port: int) -> None:
    """Refuse to start when the web port is taken, before anything else starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            msg = f"port {port} on {host} is taken ({exc.strerror}); stop what uses "
            msg += "it, or choose another with --web-port"
            raise InUse(msg) from None


@contextmanager
def runtime(settings: Settings) -> Iterator[Runtime]:
    """Everything the worker needs, started in order and stopped in reverse."""
    plan = load_plan(settings.plan_file)
    with ExitStack() as stack:
        stack.enter_context(data_dir_lock(settings.data_dir))
        port_free(settings.web_bind, settings.web_port)
        live = stack.enter_context(broker_ready(settings))
        store = open_store(live)
        stack.callback(store.close)
        applied = migrate(store, settings.clickhouse_cluster)
        if applied:
            log.info("applied ClickHouse migrations: %s", ", ".join(applied))
        yield Runtime(live, store, plan)
