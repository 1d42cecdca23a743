"""ClickHouse writes retried with backoff: an outage of the read side delays a
batch, it never loses one. The batch stays unacknowledged while its writes retry
(its offsets are committed only after them), and the inserts carry deduplication
tokens, so a write that failed half-way is whole once it succeeds. After
``write_retry_seconds`` without success the worker stops, as before retries."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from streams.infra.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_WAIT, LONGEST_WAIT = 0.5, 8.0


class WriteRetries:
    """How the worker's writes to ClickHouse are going: retried with backoff
    (0.5 s doubling to 8 s) for ``budget`` seconds; ``failing`` while one is."""

    def __init__(self, metrics: Metrics, budget: float) -> None:
        self._metrics = metrics
        self._budget = budget
        self._failing = 0  # writers retrying now (the hot path, the faust loop)
        self._lock = threading.Lock()

    @property
    def failing(self) -> bool:
        return self._failing > 0

    def waits(self) -> list[float]:
        """The waits between attempts within the budget (the last may be short)."""
        found, wait, total = [], FIRST_WAIT, 0.0
        while total < self._budget:
            step = min(wait, self._budget - total)
            found.append(step)
            total += step
            wait = min(wait * 2, LONGEST_WAIT)
        return found

    def run(self, write: Callable[[], T], stop: threading.Event) -> T:
        """``write()`` until it succeeds or the budget is spent (then its last
        failure is raised); each failure counted, logged (its type only: a message
        may quote rows) and waited out, or cut short by ``stop``."""
        waits, failed = iter(self.waits()), False
        try:
            while True:
                try:
                    result = write()
                except Exception as exc:
                    wait = self._failed(exc, waits, first=not failed)
                    failed = True
                    if wait is None or stop.is_set():
                        raise
                    stop.wait(wait)
                    continue
                return result
        finally:
            self._recovered(failed)

    async def run_async(self, write: Callable[[], Awaitable[T]]) -> T:
        """``run`` for a coroutine's write, waiting on the event loop."""
        waits, failed = iter(self.waits()), False
        try:
            while True:
                try:
                    result = await write()
                except Exception as exc:
                    wait = self._failed(exc, waits, first=not failed)
                    failed = True
                    if wait is None:
                        raise
                    await asyncio.sleep(wait)
                    continue
                return result
        finally:
            self._recovered(failed)

    def _failed(
        self, exc: Exception, waits: Iterator[float], *, first: bool
    ) -> float | None:
        self._metrics.write_errors.inc()
        if first:
            self._change(+1)
        wait = next(waits, None)
        if wait is not None:
            log.warning("ClickHouse write failed (%s); retrying in %.1f s",
                        type(exc).__name__, wait)  # fmt: skip
        return wait

    def _recovered(self, failed: bool) -> None:
        if failed:
            self._change(-1)

    def _change(self, by: int) -> None:
        with self._lock:
            self._failing += by
            self._metrics.clickhouse_failing.set(1 if self._failing else 0)
