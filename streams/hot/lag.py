"""The consumer lag of the hot group, as kafka_exporter names it."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from streams.hot.regression import Regression
from streams.infra.metrics import Metrics

log = logging.getLogger(__name__)
LAG_SECONDS = 5.0
CONFIRM_SECONDS = 2.0
"""How long a measurement looks for the message at a partition's offset applied when
the broker reported an end below it."""
UNANSWERED_ROUNDS = 3
"""Measurements running in which that message must go unanswered to be missing."""


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
        # How long the message at the offset applied is looked for, and in how many
        # measurements running the broker neither served nor denied it.
        self.confirm_seconds = CONFIRM_SECONDS
        self._unanswered: dict[tuple[str, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quotaflow-lag")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def open_probe(self) -> Consumer:
        """The consumer ``measure`` asks the broker with (the caller closes it)."""
        return Consumer(
            {
                **self._config,
                "group.id": f"{self._group}-lag-probe",
                "enable.auto.commit": False,
                # An offset the log no longer holds comes back as an error.
                "auto.offset.reset": "error",
            }
        )

    def _run(self) -> None:
        probe = self.open_probe()
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
                try:
                    served = self._served(probe, tp, applied)
                except KafkaException as exc:  # measured again in LAG_SECONDS
                    log.debug("could not look for %s/%d@%d: %s", tp.topic,
                              tp.partition, applied, exc)  # fmt: skip
                    continue
                if served is None:  # not known this time: measured again
                    continue
                if served:
                    end = applied + 1  # the broker understated its end
                else:
                    why = "the partition's end offset is below the offset applied"
                    regression = Regression(tp.topic, tp.partition, applied, end, why)
                    self.found.put(regression)
            if done is None:
                continue
            lag = max(end - (done[0] + 1), 0)
            self._metrics.set_lag(
                self._group, tp.topic, tp.partition, lag, done[1], wall
            )

    def _served(self, probe: Consumer, tp: TopicPartition, applied: int) -> bool | None:
        """Whether the message at ``applied`` is served (``_still_served``). Tansu
        answers an offset past its log with nothing rather than an error: unanswered
        in ``UNANSWERED_ROUNDS`` measurements running, it is not served."""
        where = (tp.topic, tp.partition)
        served = _still_served(probe, tp, applied, self.confirm_seconds)
        if served is None:
            unanswered = self._unanswered.get(where, 0) + 1
            if unanswered < UNANSWERED_ROUNDS:
                self._unanswered[where] = unanswered
                return None
            served = False
        self._unanswered.pop(where, None)
        return served


def _still_served(
    probe: Consumer, tp: TopicPartition, applied: int, seconds: float
) -> bool | None:
    """Whether the broker still serves the message at offset ``applied``: then the
    log reaches past it, whatever end offset the broker reported. Apache Kafka
    reports the true end; Tansu reports the first offset of the partition's last
    batch plus one, below what a consumer already read from that batch, and a
    partition idle after a batch of several messages would look regressed. A
    regression (a topic recreated, a broker that lost messages) serves nothing
    there, or, when the log is refilled that far, other bytes, which the consumer
    loop's digests tell. None: no answer either way (measured again later)."""
    probe.assign([TopicPartition(tp.topic, tp.partition, applied)])
    try:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            for message in probe.consume(1, timeout=left):
                error = message.error()
                if error is not None and error.code() in _NOT_HELD:
                    return False
                if error is not None:
                    log.debug("looking for %s/%d@%d: %s", tp.topic, tp.partition,
                              applied, error)  # fmt: skip
                elif (message.topic(), message.partition()) == (tp.topic, tp.partition):
                    return message.offset() == applied
        return None
    finally:
        probe.unassign()


# What a consumer hears when the log does not hold an offset it asked for.
_NOT_HELD = {KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE}
