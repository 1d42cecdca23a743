"""How the hot path takes messages and when it settles what it took.

An event crosses three takes (route, claim, fold). A take never waits for a batch to
fill: at 100 events/s each stage waited out the whole ``batch_seconds`` before its
batch was handled. The takes' rows wait in one batch, settled (written, checkpoints
that are due, offsets committed) when nothing more is waiting, when it is
``write_seconds`` old, or when it holds ``MAX_ROWS`` lines: with a write per take,
every stage of every event waited for the inserts (four tables, about 25 ms each on
chDB here)."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer

from projections.writer import MAX_ROWS
from streams.hot.stages import Batch


def take(consumer: Consumer, size: int, wait: float, *, at_once: bool) -> list[Any]:
    """Whatever has arrived, up to ``size``; when nothing has (and not ``at_once``),
    the first message to come within ``wait`` and what came with it. Under load the
    takes grow by themselves, with what arrives while one is handled."""
    waiting: list[Any] = consumer.consume(size, 0)
    if waiting or at_once:
        return waiting
    first: list[Any] = consumer.consume(1, wait)
    if not first:
        return first
    return first + consumer.consume(size - 1, 0)


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
