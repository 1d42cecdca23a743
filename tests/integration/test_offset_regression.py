"""Offset regression (issue 14 item 5): the ``deals`` topic deleted and recreated
under a running worker hands out offsets it has applied already. The worker stops
that partition instead of skipping the new messages as replays: the alert metric
and ``/health`` say so, and nothing is booked twice or guessed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import sample_events
from streams.infra.embedded import BrokerProcess
from streams.infra.settings import EmbeddedBroker
from streams.infra.topics import DEALS, TopicSpec, ensure_topics
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.integration.conftest import fetch, settings_on, unique, wait_for
from tests.integration.test_stream_equals_simulate import booked, publish, simulated

pytestmark = pytest.mark.integration
PARTITIONS = 2


@pytest.fixture
def noida(tmp_path: Path) -> Iterator[BrokerProcess]:
    # A broker of its own: the test deletes a topic every other test sends to.
    with BrokerProcess(EmbeddedBroker.NOIDA, tmp_path / "noida") as running:
        yield running


def _regressions(port: int) -> float:
    text = fetch(port, "/metrics").decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("quotaflow_offset_regressions_total{")
    )


def test_a_topic_recreated_under_the_worker_stops_its_partitions_and_books_nothing(
    noida: BrokerProcess, store: Store, plan: Plan, tmp_path: Path
) -> None:
    own = settings_on(noida, tmp_path / "worker", unique("qf-regress"), PARTITIONS,
                      batch_size=200)  # fmt: skip
    admin = AdminClient(own.confluent_config())
    before, after = unique("rg") + "-", unique("rg") + "-"
    first = [e for e in sample_events(600, seed=31, prefix=before) if e[0] == DEALS]
    expected = simulated(plan, first)
    producer = Producer(own.confluent_config())
    with WorkerThread(lambda: QuotaFlowApp(own, store, plan)):
        publish(producer, first)
        wait_for(lambda: booked(store, before) == expected, timeout=120, every=0.5,
                 what="the first deals booked")  # fmt: skip
        for done in admin.delete_topics([DEALS]).values():
            done.result(30)
        wait_for(lambda: DEALS not in admin.list_topics(timeout=10).topics,
                 timeout=30, what="the deals topic gone")  # fmt: skip
        ensure_topics(admin, [TopicSpec(DEALS, PARTITIONS)])
        # Empty again: each partition's end is below what the worker applied, which
        # the lag measurement (every 5 s) notices before any message comes.
        wait_for(lambda: _regressions(own.web_port) >= PARTITIONS, timeout=60,
                 every=0.5, what="both deals partitions stopped")  # fmt: skip
        # New deals at offsets the worker applied already: not taken for replays,
        # not applied either.
        second = [e for e in sample_events(200, seed=37, prefix=after)
                  if e[0] == DEALS]  # fmt: skip
        publish(producer, second)
        health = json.loads(fetch(own.web_port, "/health"))
        assert health["live"] is True
        stopped = health["stopped_partitions"]
        assert len(stopped) == PARTITIONS
        assert all(found.startswith(f"{DEALS}/") for found in stopped), stopped
        assert booked(store, before) == expected  # nothing booked twice
        assert booked(store, after) == {}  # nothing guessed
        assert _regressions(own.web_port) == PARTITIONS  # each stopped once
