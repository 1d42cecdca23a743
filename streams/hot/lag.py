"""The consumer lag of the hot group, as kafka_exporter names it."""

from __future__ import annotations

import logging
import time

from confluent_kafka import Consumer, KafkaException

from streams.infra.metrics import Metrics

log = logging.getLogger(__name__)
LAG_SECONDS = 5.0


class HotLag:
    """Measured at most every ``LAG_SECONDS``, from the consumer loop."""

    def __init__(self, group: str, metrics: Metrics) -> None:
        self._group = group
        self._metrics = metrics
        self._lag_at = 0.0

    def measure(
        self, consumer: Consumer, processed: dict[tuple[str, int], tuple[int, float]]
    ) -> None:
        """kafka_exporter's lag of the hot group, from the partitions' high-water
        marks and what this worker processed."""
        now = time.monotonic()
        if now - self._lag_at < LAG_SECONDS:
            return
        self._lag_at = now
        wall = time.time()
        for tp in consumer.assignment():
            done = processed.get((tp.topic, tp.partition))
            if done is None:
                continue
            try:
                _, end = consumer.get_watermark_offsets(tp, timeout=1.0)
            except KafkaException as exc:  # measured again in LAG_SECONDS
                log.debug("no high-water mark of %s/%d: %s", tp.topic,
                          tp.partition, exc)  # fmt: skip
                continue
            lag = max(end - (done[0] + 1), 0)
            labels = (self._group, tp.topic, str(tp.partition))
            self._metrics.lag.labels(*labels).set(lag)
            age = wall - done[1] if lag else 0.0
            self._metrics.lag_seconds.labels(*labels).set(max(age, 0.0))
