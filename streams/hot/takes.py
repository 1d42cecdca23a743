"""How the hot path takes messages and when it settles what it took.

An event crosses three takes (route, claim, fold). A take never waits for a batch to
fill: at 100 events/s each stage waited out the whole ``batch_seconds`` before its
batch was handled. The takes' rows wait in one batch, settled (written, checkpoints
that are due, offsets committed) when nothing more is waiting, when it is
``write_seconds`` old, or when it holds ``MAX_ROWS`` lines: with a write per take,
every stage of every event waited for the inserts (four tables, about 25 ms each on
chDB here).

A consumer that has found nothing for ``IDLE_AFTER`` seconds *rests* after each empty
take: its partitions are paused for ``Rest.seconds``, then resumed where they were.
A Kafka broker holds a fetch that finds nothing for ``fetch.wait.max.ms``; noida-db
answers it at once and librdkafka asks again at once, which kept an idle worker at a
third of a core. A rest costs the first event after a quiet spell at most
``Rest.seconds``. Not sooner: a pause drops what the client fetched for those
partitions and not handed over yet, and a stage between two takes of a backlog
often finds nothing for a moment (resting at once made ``bench stream --events
2000`` take 27.2 s instead of 7.4 s)."""

from __future__ import annotations

import threading
import time
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer

from projections.writer import MAX_ROWS
from streams.hot.stages import Batch

# Seconds without a message before the consumer rests.
IDLE_AFTER = 1.0


@dataclass
class Rest:
    """How long an idle consumer rests (0: never), the partitions it must leave
    paused (stopped by an offset regression), the event that cuts a rest short, and
    since when the takes found nothing."""

    seconds: float
    stopped: Container[tuple[str, int]]
    stop: threading.Event
    idle_since: float | None = None

    def idle(self) -> bool:
        """Another empty take: whether the consumer has been idle long enough."""
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        return self.seconds > 0 and now - self.idle_since >= IDLE_AFTER


def take(
    consumer: Consumer,
    size: int,
    wait: float,
    *,
    at_once: bool,
    rest: Rest | None = None,
) -> list[Any]:
    """Whatever has arrived, up to ``size``; when nothing has (and not ``at_once``),
    the first message to come within ``wait`` and what came with it, or a ``rest``
    when none came. Under load the takes grow by themselves, with what arrives while
    one is handled."""
    waiting: list[Any] = consumer.consume(size, 0)
    if waiting or at_once:
        return _busy(waiting, rest)
    first: list[Any] = consumer.consume(1, wait)
    if not first:
        if rest is not None and rest.idle():
            _rest(consumer, rest)
        return first
    return _busy(first + consumer.consume(size - 1, 0), rest)


def _busy(messages: list[Any], rest: Rest | None) -> list[Any]:
    if messages and rest is not None:
        rest.idle_since = None
    return messages


def _rest(consumer: Consumer, rest: Rest) -> None:
    """Pause the consumer's partitions (but those stopped), wait, resume them: no
    fetch goes out meanwhile. The assignment cannot change during the rest: a
    rebalance's callbacks run inside ``consume``."""
    resting = [
        tp
        for tp in consumer.assignment()
        if (tp.topic, tp.partition) not in rest.stopped
    ]
    if not resting:
        return
    consumer.pause(resting)
    try:
        rest.stop.wait(rest.seconds)
    finally:
        consumer.resume(resting)


class Pending:
    """The batch of the takes handled and not yet settled: their state is ahead of
    what was written, and their offsets are not committed."""

    def __init__(self, write_seconds: float) -> None:
        self._seconds = write_seconds
        self.batch: Batch | None = None
        self._opened = 0.0

    def joined(self) -> Batch:
        """The batch the next take's rows go in (a new one after a settle)."""
        if self.batch is None:
            self.batch, self._opened = Batch(), time.monotonic()
        return self.batch

    def due(self) -> bool:
        """Whether the batch is old or large enough to be settled now."""
        batch = self.batch
        return batch is not None and (
            time.monotonic() - self._opened >= self._seconds
            or len(batch.folded.lines) >= MAX_ROWS
        )

    def taken(self) -> Batch | None:
        """The batch, to settle; none pending after."""
        batch, self.batch = self.batch, None
        return batch
