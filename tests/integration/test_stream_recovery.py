"""Crashes and rebalances change nothing: a worker killed with SIGKILL mid-stream and
restarted, and two workers sharing the partitions, book exactly simulate's totals."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import urllib.error
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import sample_events
from streams.infra.embedded import BrokerProcess, free_port
from streams.infra.settings import BrokerMode, EmbeddedBroker, Settings
from streams.infra.topics import DEALS, ensure_topics, topic_specs
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.integration.conftest import (
    admin_of,
    app_env,
    fetch,
    routed,
    sample,
    unique,
    wait_for,
)
from tests.integration.test_stream_equals_simulate import (
    KINDS,
    Totals,
    booked,
    publish,
    simulated,
)

pytestmark = pytest.mark.integration
QUOTAFLOW = str(Path(sys.executable).parent / "quotaflow")


def _statement(port: int, rep: str, token: str) -> list[dict[str, str]] | None:
    try:
        lines: list[dict[str, str]] = json.loads(
            fetch(port, f"/api/reps/{rep}/statement", token)
        )
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return lines


def _booked_via_api(port: int, reps: list[str], token: str) -> Totals | None:
    found: Totals = {}
    for rep in reps:
        lines = _statement(port, rep, token)
        if lines is None:
            return None
        if lines:
            sums = dict.fromkeys(KINDS, Decimal(0))
            for line in lines:
                sums[line["kind"]] += Decimal(line["amount"])
            found[rep] = {
                KINDS[k]: str(v.quantize(Decimal("0.01"))) for k, v in sums.items()
            }
    return found


def _assert_rebuilt_from_tables(log: str) -> None:
    """The restarted worker took the first one's state from the faust tables and
    read only the log after it, for at least one partition of each kind."""
    worlds = re.findall(
        r"rebuilt \d+ reps of \S+: (\d+) snapshots[^,]*, then \d+ messages "
        r"from (\d+)",
        log,
    )
    assert any(int(found) and int(start) for found, start in worlds), worlds
    routes = re.findall(
        r"rebuilt routing of \S+: (\d+) deals from the table, then \d+ messages "
        r"from (\d+)",
        log,
    )
    assert any(int(found) and int(start) for found, start in routes), routes


def _snapshot_rounds(port: int) -> float:
    try:
        text = fetch(port, "/metrics").decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0.0
    return sample(text, 'quotaflow_snapshot_rounds_total{outcome="written"}')


@pytest.fixture
def tansu(tmp_path: Path) -> Iterator[BrokerProcess]:
    # The kill test runs on Tansu: noida-db never expires the group member that
    # SIGKILL left behind, so a restarted worker waits forever to join (Apache Kafka
    # expires it after the session timeout, 10 s here, as Tansu does).
    with BrokerProcess(EmbeddedBroker.TANSU, tmp_path / "tansu") as running:
        yield running


def test_a_worker_killed_mid_stream_and_restarted_books_exactly_once(
    tansu: BrokerProcess, plan: Plan, tmp_path: Path
) -> None:
    worker_env = app_env(
        tansu, unique("qf-kill"), 3, tmp_path / "worker",
        web_port=str(free_port()), batch_size="200", snapshot_seconds="0.5",
    )  # fmt: skip
    prefix = unique("kill") + "-"
    events = sample_events(8_000, seed=13, prefix=prefix)
    expected = simulated(plan, events)
    producer = Producer({"bootstrap.servers": tansu.bootstrap_servers})
    # The rest comes after the kill, so the restarted worker has to take up every
    # partition's state (from the tables) whatever the first one got done.
    publish(producer, events[:4_800])
    port = int(worker_env["QUOTAFLOW_WEB_PORT"])
    token = admin_of(Settings(data_dir=tmp_path / "worker"))
    reps = sorted(expected)

    def start(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        return subprocess.Popen(
            [QUOTAFLOW, "worker"], env=worker_env, stdout=log, stderr=subprocess.STDOUT
        )

    first = start("first")
    try:
        wait_for(
            lambda: _snapshot_rounds(port) > 0,
            timeout=120,
            every=0.2,
            what="the first worker's first snapshot round",
        )
        partial = wait_for(
            lambda: (
                (found := _booked_via_api(port, reps, token)) and found != {} and found
            ),
            timeout=120,
            every=0.5,
            what="the first worker booking some lines",
        )
        assert partial != expected, "the worker finished before it could be killed"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    publish(producer, events[4_800:])
    second = start("second")
    try:
        wait_for(
            lambda: _booked_via_api(port, reps, token) == expected,
            timeout=400,
            every=2,
            what="the restarted worker's totals to equal simulate's",
        )
    finally:
        second.send_signal(signal.SIGINT)
        assert second.wait(60) == 0, (tmp_path / "second.log").read_text()
    _assert_rebuilt_from_tables((tmp_path / "second.log").read_text())


def test_two_workers_sharing_the_partitions_book_exactly_once(
    worker: QuotaFlowApp,
    settings: Settings,
    store: Store,
    producer: Producer,
    plan: Plan,
) -> None:
    prefix = unique("pair") + "-"
    events = sample_events(5_000, seed=17, prefix=prefix)
    expected = simulated(plan, events)
    other = settings.model_copy(update={"web_port": free_port()})
    with WorkerThread(lambda: QuotaFlowApp(other, store, worker.plan)) as second:
        # Its share assigned before the events come, so both workers fold some.
        wait_for(second.hot.assigned.is_set, 60, "the second worker's share")
        routed_before = routed(other, DEALS)
        publish(producer, events)
        wait_for(
            lambda: booked(store, prefix) == expected,
            timeout=400,
            every=2,
            what="two workers' totals to equal simulate's",
        )
        assert routed(other, DEALS) > routed_before, "the second worker took no deal"


@pytest.fixture
def noida(tmp_path: Path) -> Iterator[BrokerProcess]:
    # A broker of its own: the session's event topics hold the other tests' events.
    with BrokerProcess(EmbeddedBroker.NOIDA, tmp_path / "noida") as running:
        yield running


def test_a_worker_restarted_on_its_rocksdb_table_goes_on_from_its_snapshots(
    noida: BrokerProcess,
    store: Store,
    plan: Plan,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # On noida-db: with a faust table, Tansu recovers the changelog but then leaves
    # the consumer idle (seen with a 20-line faust app as well).
    own = Settings(
        broker_mode=BrokerMode.EXTERNAL,
        bootstrap_servers=noida.bootstrap_servers,
        data_dir=tmp_path / "worker",
        app_id=unique("qf-rocks"),
        topic_partitions=2,
        web_port=free_port(),
        clickhouse_database="quotaflow_test",
        store="rocksdb://",
        snapshot_seconds=0.5,
        batch_size=200,
    )
    ensure_topics(AdminClient(own.confluent_config()), topic_specs(own.app_id, 2))
    prefix = unique("rocks") + "-"
    events = sample_events(6_000, seed=23, prefix=prefix)
    expected = simulated(plan, events)
    publish(Producer(own.confluent_config()), events[:3_000])
    with WorkerThread(lambda: QuotaFlowApp(own, store, plan)):
        wait_for(
            lambda: _snapshot_rounds(own.web_port) > 1,
            timeout=120,
            what="the first worker's snapshot rounds",
        )
        assert (own.data_dir / "faust").exists()
    caplog.set_level(logging.INFO, logger="streams.state.recovery")
    publish(Producer(own.confluent_config()), events[3_000:])
    with WorkerThread(lambda: QuotaFlowApp(own, store, plan)):
        wait_for(
            lambda: booked(store, prefix) == expected,
            timeout=300,
            every=2,
            what="the restarted worker's totals to equal simulate's",
        )
    _assert_rebuilt_from_tables(caplog.text)
