"""The broker stopped and started again mid-run (issue 14): the worker waits for it
and books exactly ``simulate``'s totals, nothing lost or booked twice.

The broker is noida-db, its Kafka service restarted through its own commands
(``BrokerProcess.restart_kafka``): a SIGTERM of its process loses writes it has
already acknowledged, which no worker can make good."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import sample_events
from streams.infra.embedded import BrokerProcess
from streams.infra.settings import EmbeddedBroker
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.integration.conftest import settings_on, unique, wait_for
from tests.integration.test_stream_equals_simulate import booked, publish, simulated

pytestmark = pytest.mark.integration
PARTITIONS = 2
DOWN_SECONDS = 5


@pytest.fixture
def noida(tmp_path: Path) -> Iterator[BrokerProcess]:
    with BrokerProcess(EmbeddedBroker.NOIDA, tmp_path / "noida") as running:
        yield running


def test_a_broker_restarted_mid_run_loses_and_doubles_nothing(
    noida: BrokerProcess, store: Store, plan: Plan, tmp_path: Path
) -> None:
    own = settings_on(noida, tmp_path / "worker", unique("qf-restart"), PARTITIONS,
                      batch_size=200, snapshot_seconds=0.5)  # fmt: skip
    prefix = unique("rs") + "-"
    events = sample_events(4_000, seed=43, prefix=prefix)
    expected = simulated(plan, events)
    with WorkerThread(lambda: QuotaFlowApp(own, store, plan)) as worker:
        publish(Producer(own.confluent_config()), events[:2_000])
        wait_for(lambda: booked(store, prefix) != {}, timeout=120, every=0.2,
                 what="the first lines booked")  # fmt: skip
        noida.restart_kafka(DOWN_SECONDS)
        publish(Producer(own.confluent_config()), events[2_000:])
        wait_for(lambda: booked(store, prefix) == expected, timeout=300, every=1,
                 what="simulate's totals after the restart")  # fmt: skip
        assert worker.failure is None
