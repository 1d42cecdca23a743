"""Partition state is checkpointed with the offsets it reflects: a worker that takes a
partition, restarted or after a rebalance, loads the checkpoint and reads only the log
after it, and books exactly simulate's totals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import sample_events
from streams.infra.embedded import BrokerProcess, free_port
from streams.infra.settings import BrokerMode, EmbeddedBroker, Settings
from streams.infra.topics import (
    DEAL_KEYED,
    claims_topic,
    ensure_topics,
    rep_deals_topic,
    topic_specs,
)
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.integration.conftest import (
    metrics_text,
    partition_rebuilds,
    sample,
    unique,
    wait_for,
)
from tests.integration.test_stream_equals_simulate import booked, publish, simulated

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """A broker of this module's own: the session broker's deal topics hold every
    other test's events, which a new group would read from the start."""
    path = tmp_path_factory.mktemp("noida")
    with BrokerProcess(EmbeddedBroker.NOIDA, path) as running:
        yield running


def _settings(broker: BrokerProcess, data_dir: Path, app_id: str) -> Settings:
    own = Settings(
        broker_mode=BrokerMode.EXTERNAL,
        bootstrap_servers=broker.bootstrap_servers,
        data_dir=data_dir,
        app_id=app_id,
        topic_partitions=2,
        web_port=free_port(),
        clickhouse_database="quotaflow_test",
        store="rocksdb://",
        snapshot_seconds=0.5,
        batch_size=200,
    )
    ensure_topics(AdminClient(own.confluent_config()), topic_specs(app_id, 2))
    return own


def _read_to_rebuild(settings: Settings) -> dict[str, float]:
    """Messages the worker read from the log to rebuild its partitions, by topic."""
    text = metrics_text(settings)
    app_id = settings.app_id
    topics = (*DEAL_KEYED, claims_topic(app_id), rep_deals_topic(app_id))
    return {
        topic: sample(text, f'quotaflow_rebuild_messages_total{{topic="{topic}"}}')
        for topic in topics
    }


def test_a_restarted_worker_reads_only_the_log_after_its_checkpoint(
    broker: BrokerProcess, store: Store, plan: Plan, tmp_path: Path
) -> None:
    own = _settings(broker, tmp_path / "worker", unique("qf-ckpt"))
    prefix = unique("ckpt") + "-"
    events = sample_events(4_000, seed=29, prefix=prefix)
    first, rest = events[:3_000], events[3_000:]
    # Worked out once: a probe that replayed them would take the workers' GIL.
    expected_first, expected = simulated(plan, first), simulated(plan, events)
    publish(Producer(own.confluent_config()), first)
    with WorkerThread(lambda: QuotaFlowApp(own, store, plan)):
        wait_for(
            lambda: booked(store, prefix) == expected_first,
            timeout=240,
            every=1,
            what="the first worker's totals",
        )
        assert _read_to_rebuild(own) == dict.fromkeys(_read_to_rebuild(own), 0.0)
    # The first worker checkpointed what changed when it gave its partitions up.
    assert (own.checkpoint_dir).is_dir()
    publish(Producer(own.confluent_config()), rest)
    with WorkerThread(lambda: QuotaFlowApp(own, store, plan)):
        wait_for(
            lambda: booked(store, prefix) == expected,
            timeout=240,
            every=1,
            what="the restarted worker's totals to equal simulate's",
        )
        # Every partition was rebuilt, from its checkpoint: none of the 3,000
        # messages of history (nor the forwards they made) was read again.
        assert partition_rebuilds(own) >= 2
        assert _read_to_rebuild(own) == dict.fromkeys(_read_to_rebuild(own), 0.0)


def test_a_partition_that_moves_to_another_worker_resumes_from_its_checkpoint(
    broker: BrokerProcess, store: Store, plan: Plan, tmp_path: Path
) -> None:
    app_id = unique("qf-move")
    one = _settings(broker, tmp_path / "one", app_id)
    # Another machine: its own data directory, its own local checkpoint store.
    two = one.model_copy(update={"data_dir": tmp_path / "two", "web_port": free_port()})
    prefix = unique("move") + "-"
    events = sample_events(4_500, seed=31, prefix=prefix)
    expected_first, expected = simulated(plan, events[:3_000]), simulated(plan, events)
    producer = Producer(one.confluent_config())
    with WorkerThread(lambda: QuotaFlowApp(one, store, plan)):
        with WorkerThread(lambda: QuotaFlowApp(two, store, plan)) as second:
            # Its share assigned (rebuilds come with a share's first messages: the
            # topics may hold none yet when this test runs first).
            wait_for(second.hot.assigned.is_set, 60, "the second worker's share")
            publish(producer, events[:3_000])
            wait_for(
                lambda: booked(store, prefix) == expected_first,
                timeout=240,
                every=1,
                what="two workers' totals",
            )
            assert partition_rebuilds(two) > 0, "the second worker folded no share"
            taken_before = partition_rebuilds(one)
        # The second worker left: its partitions move to the first, which loads
        # them from the checkpoint topic (its own store never held them).
        publish(producer, events[3_000:])
        wait_for(
            lambda: booked(store, prefix) == expected,
            timeout=240,
            every=1,
            what="the remaining worker's totals to equal simulate's",
        )
        assert partition_rebuilds(one) > taken_before
