"""``quotaflow bench stream``: events/s end to end, on the real broker and ClickHouse.

A generated realistic stream is put on the topics first; then a worker starts and the
clock runs until ClickHouse holds every rep's totals as ``simulate`` computes them
from the same events. Figures are printed, never asserted.
"""

from __future__ import annotations

import resource
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from confluent_kafka import Producer

from domain.plan import Plan
from domain.replay import replay, summary
from projections.store import Store
from streams.bench.generator import Message, sample_events
from streams.infra.embedded import free_port
from streams.infra.runtime import runtime
from streams.infra.settings import BrokerMode, EmbeddedBroker, Settings
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread

Totals = dict[str, str]
Progress = Callable[[str], None]


def expected_totals(plan: Plan, events: list[Message]) -> Totals:
    """Each rep's earned commission as ``simulate`` computes it."""
    reps = summary(replay([plan], [value for _, _, value in events]))["reps"]
    return {rep: figures["earned_commission"] for rep, figures in reps.items()}  # type: ignore[attr-defined]


def booked_totals(store: Store, prefix: str) -> Totals:
    rows = store.rows(
        "SELECT rep_id, sum(amount) FROM ledger_lines FINAL "
        "WHERE kind = 'earned' AND startsWith(rep_id, {prefix:String}) GROUP BY rep_id",
        {"prefix": prefix},
    )
    return {rep: str(Decimal(total).quantize(Decimal("0.01"))) for rep, total in rows}


def bench_stream(
    count: int,
    partitions: int,
    data_dir: Path,
    broker: EmbeddedBroker,
    batch_size: int,
    progress: Progress,
) -> dict[str, float]:
    prefix = f"b{uuid.uuid4().hex[:6]}-"
    settings = Settings(
        data_dir=data_dir,
        app_id=f"bench-{prefix[:-1]}",
        broker_mode=BrokerMode.EMBEDDED,
        embedded_broker=broker,
        topic_partitions=partitions,
        batch_size=batch_size,
        web_port=free_port(),
    )
    events = sample_events(count, seed=3, prefix=prefix)
    with runtime(settings) as running:
        progress(f"computing the expected totals of {count} events offline ...")
        expected = expected_totals(running.plan, events)
        progress("producing ...")
        producer = Producer(running.settings.confluent_config())
        for topic, key, value in events:
            producer.produce(topic, key=key, value=value)
            producer.poll(0)
        producer.flush(120)
        progress("running the worker until ClickHouse holds every total ...")
        worker = WorkerThread(
            lambda: QuotaFlowApp(running.settings, running.store, running.plan)
        )
        started = time.perf_counter()
        with worker:
            while booked_totals(running.store, prefix) != expected:
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
        return {
            "events": count,
            "partitions": partitions,
            "seconds": round(elapsed, 1),
            "events_per_s": round(count / elapsed, 1),
            "max_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
        }
