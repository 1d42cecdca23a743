"""The consumer lag of the faust agents, as kafka_exporter names it."""

from __future__ import annotations

import time
from typing import Any

from streams.infra.metrics import Metrics
from streams.log.history import Record


class AgentLag:
    """The last message each partition's agent processed, and the lag it leaves."""

    def __init__(self, group: str, metrics: Metrics) -> None:
        self._group = group
        self._metrics = metrics
        self._processed: dict[tuple[str, int], tuple[int, float]] = {}

    def progress(self, record: Record) -> None:
        """Remember the last processed message of a partition, for the lag gauges."""
        key = (record.topic, record.partition)
        self._processed[key] = (record.offset, record.timestamp)

    def measure(self, consumer: Any) -> None:
        """kafka_exporter's lag, from the consumer's high-water marks and what this
        worker processed (the group's committed offset before it processed any)."""
        now, group = time.time(), self._group
        # faust keeps the offsets it committed but does not expose them.
        committed_offsets = vars(consumer).get("_committed_offset", {})
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            done = self._processed.get((tp.topic, tp.partition))
            committed = committed_offsets.get(tp)
            position = done[0] + 1 if done else committed
            if end is None or position is None:
                continue
            last_at = done[1] if done else None
            lag = max(end - position, 0)
            self._metrics.set_lag(group, tp.topic, tp.partition, lag, last_at, now)
