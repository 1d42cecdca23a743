"""The consumer lag of the faust agents, as kafka_exporter names it, and their
offset regressions: a partition whose end moved below what the agent processed (a
broker that lost acknowledged messages, a topic deleted and recreated) would have
its new messages skipped as done, silently. It is paused instead, the alert metric
counts it and ``/health`` names it (``streams.hot.regression``, README runbook)."""

from __future__ import annotations

import logging
import time
from typing import Any

from streams.hot.regression import Regression
from streams.infra.metrics import Metrics
from streams.log.history import Record

log = logging.getLogger(__name__)


class AgentLag:
    """The last message each partition's agent processed, and the lag it leaves."""

    def __init__(self, group: str, metrics: Metrics) -> None:
        self._group = group
        self._metrics = metrics
        self._processed: dict[tuple[str, int], tuple[int, float]] = {}
        self.stopped: dict[tuple[str, int], Regression] = {}

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
            if end < position:
                self._regressed(consumer, tp, position - 1, end)
            last_at = done[1] if done else None
            lag = max(end - position, 0)
            self._metrics.set_lag(group, tp.topic, tp.partition, lag, last_at, now)

    def _regressed(self, consumer: Any, tp: Any, applied: int, end: int) -> None:
        where = (tp.topic, tp.partition)
        if where in self.stopped:
            return
        why = "the log's end is below the offset processed"
        found = self.stopped[where] = Regression(*where, applied, end, why)
        consumer.pause_partitions([tp])
        self._metrics.offset_regressions.labels(tp.topic, str(tp.partition)).inc()
        log.critical("offset regression on %s: the partition is paused and nothing "
                     "more of it is processed; see the README's runbook",
                     found.describe())  # fmt: skip
