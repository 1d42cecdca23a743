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
from streams.bench.generator import Message
from streams.bench.phases import (
    counter_total,
    latency_buckets,
    produce_at,
    quantile_bound,
    raw_consume_rate,
    undrained,
)
from streams.bench.year import MONTHS, BenchYear
from streams.hot.consumer import hot_group
from streams.infra import topics
from streams.infra.embedded import free_port
from streams.infra.metrics import LATENCY_BUCKETS
from streams.infra.runtime import Runtime, runtime
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


def bench_stream(  # noqa: PLR0913, PLR0917 - the figures' knobs
    count: int,
    partitions: int,
    data_dir: Path,
    broker: EmbeddedBroker,
    batch_size: int,
    progress: Progress,
    rate: float = 0,
    seconds: float = 0,
    reps: int = 1_000,
    plan_file: Path = Path("examples/plans/reference.yaml"),
) -> dict[str, float | None]:
    """One run on the same topics: the raw consume ceiling over a backlog of
    ``count`` events, the worker's end-to-end rate over it, then (with ``rate`` and
    ``seconds``) events produced at ``rate`` for ``seconds`` and the latency from
    production to the row, and the time a restarted worker takes to take the
    partitions up again and apply what came while it was away. The events are one
    generated sales year of ``reps`` reps (``streams.bench.year``), in time order."""
    settings = Settings(
        data_dir=data_dir,
        app_id=f"bench-{uuid.uuid4().hex[:6]}",
        broker_mode=BrokerMode.EMBEDDED,
        embedded_broker=broker,
        topic_partitions=partitions,
        batch_size=batch_size,
        web_port=free_port(),
        store="rocksdb://",
        plan_file=plan_file,
    )
    live = int(rate * seconds)
    restart = max(1_000, count // 100)
    progress(f"generating a year of {count + live + restart:,} events ...")
    # Period closes are left out: on the stream a close reaches a rep's world when
    # the control topic delivers it, not after the month's deals as in a file, and
    # the true-ups that make both books agree are issue 13's (SPEC §9).
    year = BenchYear(count + live + restart + MONTHS + 5, reps, seed=3).messages()
    events = [m for m in year if m[0] != topics.CONTROL][: count + live + restart]
    backlog = events[:count]
    figures: dict[str, float | None] = {
        "events": count,
        "reps": reps,
        "partitions": partitions,
    }
    with runtime(settings) as running:
        config = running.settings.confluent_config()
        progress(f"computing the expected totals of {count:,} events offline ...")
        expected = expected_totals(running.plan, backlog)
        progress("producing the backlog ...")
        producer = Producer(config)
        produce_at(producer, backlog, float("inf"), progress)
        progress("raw consume ceiling: a plain consumer over the same topics ...")
        raw = raw_consume_rate(config, list(topics.EVENT_TOPICS), count)
        figures["raw_consume_events_per_s"] = round(raw, 1)
        progress("running the worker until ClickHouse holds every total ...")

        def make() -> QuotaFlowApp:
            return QuotaFlowApp(running.settings, running.store, running.plan)

        started = time.perf_counter()
        with WorkerThread(make) as app:
            _until(running, expected, 3_600)
            elapsed = time.perf_counter() - started
            figures["seconds"] = round(elapsed, 1)
            figures["events_per_s"] = round(count / elapsed, 1)
            figures["ratio_to_raw"] = round(count / elapsed / raw, 4)
            figures["rep_round_kb"] = _round_kb(app)
            if live:
                figures |= _sustained(
                    running,
                    app,
                    producer,
                    events,
                    count,
                    live,
                    rate,
                    progress,
                )
        progress("restart: the worker away while events arrive, then started again ...")
        produce_at(producer, events[count + live :], float("inf"), progress)
        expected = expected_totals(running.plan, events)
        started = time.perf_counter()
        with WorkerThread(make):
            _until(running, expected, 3_600)
            figures["restart_seconds"] = round(time.perf_counter() - started, 1)
        figures["restart_history_events"] = count + live
        figures["max_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        )
    return figures


def _round_kb(app: QuotaFlowApp) -> float:
    """What a rep partition's checkpoint round wrote so far, on average, in KB."""
    rounds = counter_total(app.metrics, "quotaflow_snapshot_rounds", outcome="written")
    written = counter_total(app.metrics, "quotaflow_snapshot_bytes")
    return round(written / max(rounds, 1) / 1024, 1)


def _until(running: Runtime, expected: Totals, timeout: float) -> None:
    """Until the worker has committed every message of the high-rate topics (so
    their rows are written) and booked ``simulate``'s totals. The totals are read
    on a client of their own, as the board reads: on the worker's, each query would
    hold its writes back."""
    store = running.store.reader()
    try:
        _poll(running, store, expected, timeout)
    finally:
        if store is not running.store:
            store.close()


def _poll(running: Runtime, store: Store, expected: Totals, timeout: float) -> None:
    settings = running.settings
    group = hot_group(settings.app_id)
    app_id = settings.app_id
    watched = [
        *topics.DEAL_KEYED,
        topics.claims_topic(app_id),
        topics.rep_deals_topic(app_id),
    ]
    deadline = time.monotonic() + timeout
    while True:
        drained = not undrained(settings.confluent_config(), group, watched)
        if drained and booked_totals(store, "") == expected:
            return
        if time.monotonic() > deadline:
            booked = booked_totals(store, "")
            wrong = sum(1 for rep in expected if booked.get(rep) != expected[rep])
            msg = f"within {timeout:.0f}s the worker booked simulate's totals "
            msg += f"for {len(expected) - wrong} of {len(expected)} reps"
            raise TimeoutError(msg)
        time.sleep(0.5)


def _sustained(  # noqa: PLR0913, PLR0917 - a phase of the run above
    running: Runtime,
    app: QuotaFlowApp,
    producer: Producer,
    events: list[Message],
    count: int,
    live: int,
    rate: float,
    progress: Progress,
) -> dict[str, float | None]:
    # Worked out before the phase: folded in this process while the worker runs,
    # it would take the interpreter from the worker for seconds and count in the
    # very latencies this phase measures.
    expected = expected_totals(app.plan, events[: count + live])
    progress(f"sustained: {live:,} events at {rate:,.0f}/s ...")
    before = latency_buckets(app.metrics)
    taken = produce_at(producer, events[count : count + live], rate, progress)
    _until(running, expected, 3_600)
    after = latency_buckets(app.metrics)
    p50, p99 = (quantile_bound(before, after, q) for q in (0.50, 0.99))
    top = max(LATENCY_BUCKETS)
    return {
        "sustained_rate": rate,
        "sustained_produced_per_s": round(live / taken, 1),
        # null: beyond the histogram's largest bucket (``latency_top_bucket_s``).
        "latency_p50_s_at_most": p50 if p50 is not None and p50 <= top else None,
        "latency_p99_s_at_most": p99 if p99 is not None and p99 <= top else None,
        "latency_top_bucket_s": top,
    }
