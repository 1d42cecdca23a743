"""A stopped worker leaves no Kafka client behind: each librdkafka client runs
threads of its own (``rdk:main`` one per client), and one left open goes on trying
to reach its broker, logging "Connection refused" every second once the broker
stops, until the process exits (it did after ``quotaflow run``'s Ctrl-C)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from domain.plan import Plan
from projections.store import Store
from streams.infra.embedded import BrokerProcess
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.integration.conftest import settings_on, unique

pytestmark = pytest.mark.integration


def _clients() -> int:
    """How many librdkafka clients this process runs (one ``rdk:main`` thread each)."""
    count = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            count += (task / "comm").read_text().strip() == "rdk:main"
        except FileNotFoundError:  # a thread that ended while we looked
            continue
    return count


def _settled(at_most: int, seconds: float) -> int:
    """The count of clients once it is at most ``at_most``, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    count = _clients()
    while count > at_most and time.monotonic() < deadline:
        time.sleep(0.1)
        count = _clients()
    return count


def test_a_stopped_worker_closes_every_kafka_client_it_opened(
    broker: BrokerProcess, store: Store, plan: Plan, tmp_path: Path
) -> None:
    # The session broker's topics have the session worker's 3 partitions.
    own = settings_on(broker, tmp_path / "worker", unique("qf-clients"), 3)
    before = _clients()
    with WorkerThread(lambda: QuotaFlowApp(own, store, plan)):
        running = _clients()
    # The count can see the worker's clients (else the check below proves nothing).
    assert running > before
    assert _settled(before, 10) == before
