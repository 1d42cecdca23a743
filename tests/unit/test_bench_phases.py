"""The latency figures of ``quotaflow bench stream`` come from the worker's own
histogram, read between two moments."""

from __future__ import annotations

from streams.bench.phases import counter_total, latency_buckets, quantile_bound
from streams.infra.metrics import Metrics


def test_the_quantiles_of_a_phase_count_only_what_was_observed_during_it() -> None:
    metrics = Metrics()
    for _ in range(50):
        metrics.processing_latency.observe(20.0)  # before the phase: not counted
    before = latency_buckets(metrics)
    for seconds in [0.04] * 60 + [0.3] * 39 + [2.0]:
        metrics.processing_latency.observe(seconds)
    after = latency_buckets(metrics)
    assert quantile_bound(before, after, 0.50) == 0.05
    assert quantile_bound(before, after, 0.99) == 0.5
    assert quantile_bound(before, after, 1.0) == 2.5


def test_a_phase_without_observations_has_no_quantile() -> None:
    metrics = Metrics()
    reading = latency_buckets(metrics)
    assert quantile_bound(reading, latency_buckets(metrics), 0.99) is None


def test_a_counter_is_read_by_its_name_and_labels() -> None:
    metrics = Metrics()
    assert counter_total(metrics, "quotaflow_snapshot_bytes") == 0.0
    metrics.snapshot_bytes.inc(1_500)
    metrics.snapshots.labels("written").inc(3)
    assert counter_total(metrics, "quotaflow_snapshot_bytes") == 1_500.0
    assert counter_total(metrics, "quotaflow_snapshot_rounds", outcome="written") == 3
    assert counter_total(metrics, "quotaflow_snapshot_rounds", outcome="other") == 0
