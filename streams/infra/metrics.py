"""Prometheus metrics of one worker, on a registry of its own (tests run several).

Consumer lag is named as kafka_exporter names it (``kafka_consumergroup_lag``), so
dashboards and alerts written for it apply unchanged.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30, 60
)  # fmt: skip
FOLD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25)
BATCH_BUCKETS = (1, 10, 50, 100, 500, 1000, 2500, 5000, 10000)
PARTITION = ["consumergroup", "topic", "partition"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.events = Counter(
            "quotaflow_events",
            "Events handled, by source topic and outcome.",
            ["topic", "outcome"],
            registry=registry,
        )
        self.folded = Counter(
            "quotaflow_folded_events",
            "Events folded into a rep's world, by event type and outcome.",
            ["type", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "quotaflow_dead_letters",
            "Events set aside on the dead-letter topic, by reason.",
            ["reason"],
            registry=registry,
        )
        self.processing_latency = Histogram(
            "quotaflow_processing_latency_seconds",
            "From the event's arrival on the broker to its ledger lines in ClickHouse.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.fold_latency = Histogram(
            "quotaflow_fold_seconds",
            "Time the domain fold takes for one event.",
            buckets=FOLD_BUCKETS,
            registry=registry,
        )
        self.write_rows = Histogram(
            "quotaflow_clickhouse_write_rows",
            "Ledger rows per ClickHouse insert.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.write_latency = Histogram(
            "quotaflow_clickhouse_write_seconds",
            "Time of one ClickHouse insert.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.write_errors = Counter(
            "quotaflow_clickhouse_write_errors",
            "ClickHouse inserts that failed (each is retried with backoff for "
            "write_retry_seconds, then the worker stops).",
            registry=registry,
        )
        self.clickhouse_failing = Gauge(
            "quotaflow_clickhouse_failing",
            "1 while a ClickHouse write is being retried, else 0.",
            registry=registry,
        )
        self.rebalances = Counter(
            "quotaflow_rebalances",
            "Partition assignments this worker received.",
            registry=registry,
        )
        self.rebuilds = Counter(
            "quotaflow_partition_rebuilds",
            "Partition states rebuilt from the log, by topic.",
            ["topic"],
            registry=registry,
        )
        self.rebuild_messages = Counter(
            "quotaflow_rebuild_messages",
            "Messages read from the log to rebuild a partition's state, by topic.",
            ["topic"],
            registry=registry,
        )
        self.snapshots = Counter(
            "quotaflow_snapshot_rounds",
            "Snapshot rounds of a rep partition's changed worlds, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.snapshot_bytes = Counter(
            "quotaflow_snapshot_bytes",
            "Bytes of world snapshots written to the checkpoint topic.",
            registry=registry,
        )
        self.offset_regressions = Counter(
            "quotaflow_offset_regressions",
            "Partitions stopped because their log moved back under the offset "
            "applied (an alert: see the README's runbook).",
            ["topic", "partition"],
            registry=registry,
        )
        self.lag = Gauge(
            "kafka_consumergroup_lag",
            "Messages on the partition not yet processed by the group.",
            PARTITION,
            registry=registry,
        )
        self.lag_seconds = Gauge(
            "kafka_consumergroup_lag_seconds",
            "Age of the last processed message while more wait; 0 when caught up.",
            PARTITION,
            registry=registry,
        )

    def set_lag(
        self,
        group: str,
        topic: str,
        partition: int,
        lag: int,
        last_at: float | None,
        now: float,
    ) -> None:
        """The lag gauges of one partition: ``lag`` messages, and how old the last
        processed one (produced at ``last_at``) is while more wait (0 when none)."""
        labels = (group, topic, str(partition))
        self.lag.labels(*labels).set(lag)
        age = now - last_at if last_at is not None and lag else 0.0
        self.lag_seconds.labels(*labels).set(max(age, 0.0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
