"""Prometheus metrics of one worker, on a registry of its own (tests run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "quotaflow_events",
            "Events handled, by source topic and outcome.",
            ["topic", "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "quotaflow_dead_letters",
            "Events set aside on the dead-letter topic, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.processing_latency = Histogram(
            "quotaflow_processing_latency_seconds",
            "From the event's arrival on the broker to its ledger lines in ClickHouse.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
