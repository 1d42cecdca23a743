"""Offset regression (issue 14 item 5): the ``deals`` topic (the hot path's) and the
``targets`` topic (a faust agent's) deleted and recreated under a running worker
hand out offsets it has applied already. The worker stops those partitions instead
of skipping the new messages as replays: the alert metric and ``/health`` say so,
and nothing is booked twice or guessed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import sample_events
from streams.infra.embedded import BrokerProcess
from streams.infra.settings import EmbeddedBroker, Settings
from streams.infra.topics import DEALS, TARGETS, TopicSpec, ensure_topics
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.factories import quota_event
from tests.integration.conftest import fetch, routed, settings_on, unique, wait_for
from tests.integration.test_stream_equals_simulate import (
    Totals,
    booked,
    publish,
    simulated,
)

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
    with WorkerThread(lambda: QuotaFlowApp(own, store, plan)) as app:
        publish(producer, first)
        # A low-rate topic too, read by a faust agent: a target on each partition.
        _targets(producer, before)
        wait_for(lambda: booked(store, before) == expected, timeout=120, every=0.5,
                 what="the first deals booked")  # fmt: skip
        wait_for(lambda: routed(own, TARGETS) == PARTITIONS, timeout=60,
                 what="the targets routed")  # fmt: skip
        try:
            _recreate_and_send(admin, own, producer, after)
            health = json.loads(fetch(own.web_port, "/health"))
        except (OSError, pytest.fail.Exception):  # the worker's web server gone
            _skip_if_faust_fetcher_raced(app, store, before, expected, after)
            raise
        assert health["live"] is True
        stopped = sorted(found.split("/")[0] for found in health["stopped_partitions"])
        assert stopped == [DEALS] * PARTITIONS + [TARGETS] * PARTITIONS
        assert booked(store, before) == expected  # nothing booked twice
        assert booked(store, after) == {}  # nothing guessed
        assert routed(own, TARGETS) == PARTITIONS  # the new targets neither
        assert _regressions(own.web_port) == 2 * PARTITIONS  # each stopped once


def _recreate_and_send(
    admin: AdminClient, own: Settings, producer: Producer, after: str
) -> None:
    """Both topics deleted and created again, empty, under the worker; once it has
    stopped their partitions, new targets and deals sent at offsets it applied."""
    for done in admin.delete_topics([DEALS, TARGETS]).values():
        done.result(30)
    wait_for(lambda: not _listed(admin, DEALS, TARGETS), timeout=30,
             what="the topics gone")  # fmt: skip
    ensure_topics(admin, [TopicSpec(t, PARTITIONS) for t in (DEALS, TARGETS)])
    # Empty again: each partition's end is below what the worker applied, which
    # the lag measurements (every 5 s) notice before any message comes.
    wait_for(lambda: _regressions(own.web_port) >= 2 * PARTITIONS, timeout=60,
             every=0.5, what="deals and targets stopped")  # fmt: skip
    _targets(producer, after)
    # New deals at offsets the worker applied already: not taken for replays,
    # not applied either.
    second = [e for e in sample_events(200, seed=37, prefix=after)
              if e[0] == DEALS]  # fmt: skip
    publish(producer, second)


def _skip_if_faust_fetcher_raced(
    app: QuotaFlowApp, store: Store, before: str, expected: Totals, after: str
) -> None:
    """aiokafka's fetcher (faust's consumer of the low-rate topics) can fail its own
    ``assert assignment.active`` when the rebalances of a deletion and a creation
    come back to back (aio-libs/aiokafka#796, open): its fetch task ends, faust's
    app crashes, and the worker stops (``streams.worker.lifecycle``) for its
    supervisor to restart it. The money guarantees still hold then; what this run
    could not show is the stopped partitions, so it is skipped, with the reason."""
    failure = app.failure
    if failure is None or "AssertionError" not in repr(failure):
        return
    assert booked(store, before) == expected  # nothing booked twice
    assert booked(store, after) == {}  # nothing guessed
    pytest.skip(
        f"faust's fetcher crashed under the recreation (aiokafka#796): {failure!r};"
        " the worker stopped, nothing booked twice or guessed"
    )


def _listed(admin: AdminClient, *names: str) -> set[str]:
    return set(names) & set(admin.list_topics(timeout=10).topics)


def _targets(producer: Producer, prefix: str) -> None:
    """A company target on each partition of ``targets``."""
    for partition in range(PARTITIONS):
        event = quota_event(f"{prefix}CO{partition}", "company", None, "2031", "1000",
                            "2031-01-01T00:00:00+08:00")  # fmt: skip
        producer.produce(TARGETS, orjson.dumps(event), partition=partition)
    producer.flush(10)
