"""The consumer lag of the hot group, as kafka_exporter names it."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from streams.hot.regression import Regression
from streams.infra.metrics import Metrics

log = logging.getLogger(__name__)
LAG_SECONDS = 5.0


class HotLag:
    """Measured every ``LAG_SECONDS`` on a thread of its own, with a consumer of its
    own: asking the broker for high-water marks takes a round trip per partition,
    which the consumer loop must not wait for."""

    def __init__(self, config: dict[str, Any], group: str, metrics: Metrics) -> None:
        self._config = config
        self._group = group
        self._metrics = metrics
        # Set by the consumer loop: what it owns and what it has processed.
        self.assignment: list[TopicPartition] = []
        self.processed: dict[tuple[str, int], tuple[int, float]] = {}
        # What the partition states applied; where an end below it is reported.
        self.applied_of: Callable[[str, int], int | None] = lambda _t, _p: None
        self.found: queue.SimpleQueue[Regression] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quotaflow-lag")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        probe = Consumer({**self._config, "group.id": f"{self._group}-lag-probe"})
        try:
            while not self._stop.wait(LAG_SECONDS):
                self.measure(probe)
        except Exception as exc:  # the gauges stop moving; the worker goes on
            log.warning("lag measurement stopped: %r", exc)
        finally:
            probe.close()

    def measure(self, probe: Consumer) -> None:
        """kafka_exporter's lag of the hot group, from the partitions' high-water
        marks and what this worker processed."""
        wall = time.time()
        processed = self.processed.copy()
        for tp in list(self.assignment):
            done = processed.get((tp.topic, tp.partition))
            applied = self.applied_of(tp.topic, tp.partition)
            if done is None and applied is None:
                continue
            try:
                _, end = probe.get_watermark_offsets(tp, timeout=2.0)
            except KafkaException as exc:  # measured again in LAG_SECONDS
                log.debug("no high-water mark of %s/%d: %s", tp.topic,
                          tp.partition, exc)  # fmt: skip
                continue
            if applied is not None and end < applied + 1:
                why = "the partition's end offset is below the offset applied"
                self.found.put(Regression(tp.topic, tp.partition, applied, end, why))
            if done is None:
                continue
            lag = max(end - (done[0] + 1), 0)
            self._metrics.set_lag(
                self._group, tp.topic, tp.partition, lag, done[1], wall
            )
