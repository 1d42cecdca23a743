"""A ClickHouse outage mid-run (issue 14): the table the ledger lines go to is gone
for 30 s under the running worker. Its writes are retried with backoff, the metrics
and ``/health`` say so, and once the table is back every line is there: the totals
equal ``simulate``'s, nothing lost or booked twice."""

from __future__ import annotations

import json
import time
import urllib.error

import pytest
from confluent_kafka import Producer

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import sample_events
from streams.infra.settings import Settings
from streams.worker.app import QuotaFlowApp
from tests.integration.conftest import fetch, metrics_text, sample, unique, wait_for
from tests.integration.test_stream_equals_simulate import booked, publish, simulated

pytestmark = pytest.mark.integration
OUTAGE_SECONDS = 30


def _health(settings: Settings) -> dict[str, object]:
    try:
        return dict(json.loads(fetch(settings.web_port, "/health")))
    except urllib.error.HTTPError as answer:  # 503 while not ready
        return dict(json.load(answer))


def test_a_30_second_clickhouse_outage_delays_the_lines_and_loses_none(
    worker: QuotaFlowApp,
    settings: Settings,
    store: Store,
    producer: Producer,
    plan: Plan,
) -> None:
    prefix = unique("outage") + "-"
    events = sample_events(1_000, seed=41, prefix=prefix)
    expected = simulated(plan, events)
    errors_before = sample(metrics_text(settings),
                           "quotaflow_clickhouse_write_errors_total")  # fmt: skip
    publish(producer, events[:400])
    wait_for(lambda: booked(store, prefix) != {}, timeout=120, every=0.5,
             what="the first lines booked")  # fmt: skip
    store.command("DETACH TABLE ledger_lines")
    gone = time.monotonic()
    try:
        publish(producer, events[400:])
        wait_for(
            lambda: _health(settings).get("clickhouse") == "retrying",
            timeout=OUTAGE_SECONDS,
            every=0.2,
            what="/health saying the writes are retried",
        )
        text = metrics_text(settings)
        assert sample(text, "quotaflow_clickhouse_failing") == 1
        assert sample(text, "quotaflow_clickhouse_write_errors_total") > errors_before
        health = _health(settings)
        assert (health["live"], health["ready"]) == (True, False)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - gone)))
        assert worker.failure is None, "the worker stopped during the outage"
    finally:
        store.command("ATTACH TABLE ledger_lines")
    wait_for(lambda: booked(store, prefix) == expected, timeout=180, every=1,
             what="every line written once the table is back")  # fmt: skip
    wait_for(lambda: _health(settings).get("ready") is True, timeout=30,
             what="/health ready again")  # fmt: skip
    assert sample(metrics_text(settings), "quotaflow_clickhouse_failing") == 0
