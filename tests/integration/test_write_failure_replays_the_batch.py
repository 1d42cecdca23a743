"""Issue 14, item 2: no acknowledgement runs ahead of what was applied. A ClickHouse
write that still fails in the middle of a batch once its retries are spent
(``write_retry_seconds``) stops the worker with that batch not
acknowledged (whatever faust's ``take_events`` does in its ``finally``); the worker
restarted on the same group replays it and books exactly simulate's totals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from domain.plan import Plan
from projections.migrations import migrate
from projections.store import Store
from streams.bench.generator import sample_events
from streams.infra.embedded import BrokerProcess, free_port
from streams.infra.settings import BrokerMode, EmbeddedBroker, Settings
from streams.infra.topics import ensure_topics, topic_specs
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerFailed, WorkerThread
from tests.integration.conftest import sample, unique, wait_for
from tests.integration.test_stream_equals_simulate import booked, publish, simulated

pytestmark = pytest.mark.integration


@pytest.fixture
def noida(tmp_path: Path) -> Iterator[BrokerProcess]:
    # A broker of its own: the session's event topics hold the other tests' events.
    with BrokerProcess(EmbeddedBroker.NOIDA, tmp_path / "noida") as running:
        yield running


def test_a_ledger_write_failing_mid_run_is_replayed_after_the_restart(
    noida: BrokerProcess, store: Store, plan: Plan, tmp_path: Path
) -> None:
    database = unique("write_failure").replace("-", "_")
    own_store = store.in_database(database)
    migrate(own_store)
    own = Settings(
        broker_mode=BrokerMode.EXTERNAL,
        bootstrap_servers=noida.bootstrap_servers,
        data_dir=tmp_path / "worker",
        app_id=unique("qf-writefail"),
        topic_partitions=2,
        web_port=free_port(),
        clickhouse_database=database,
        batch_size=200,
        snapshot_seconds=0.5,
        # Retried for a second only: the write still failing then stops the worker.
        write_retry_seconds=1,
    )
    ensure_topics(AdminClient(own.confluent_config()), topic_specs(own.app_id, 2))
    prefix = unique("wf") + "-"
    events = sample_events(6_000, seed=31, prefix=prefix)
    expected = simulated(plan, events)
    producer = Producer(own.confluent_config())
    publish(producer, events[:3_000])
    first = WorkerThread(lambda: QuotaFlowApp(own, own_store, plan))
    try:
        app = first.start()
        wait_for(lambda: booked(own_store, prefix), 120, "the first lines booked", 0.2)
        # The table goes away under the running worker: its next insert fails.
        own_store.command("RENAME TABLE ledger_lines TO ledger_lines_away")
        try:
            publish(producer, events[3_000:])
            wait_for(
                lambda: not first.is_alive(), 60, "the worker stopping on the failure"
            )
        finally:
            own_store.command("RENAME TABLE ledger_lines_away TO ledger_lines")
        assert isinstance(first.error, WorkerFailed), first.error
        text = app.metrics.exposition().decode()
        assert sample(text, "quotaflow_clickhouse_write_errors_total") >= 1
        partial = booked(own_store, prefix)
        assert partial != expected, "the failed batch's lines are missing"
    finally:
        first.stop(30)
    with WorkerThread(lambda: QuotaFlowApp(own, own_store, plan)):
        wait_for(
            lambda: booked(own_store, prefix) == expected,
            timeout=300,
            every=1,
            what="the restarted worker's totals to equal simulate's",
        )
