"""A caught-up faust consumer that waits instead of spinning.

A Kafka broker holds a fetch that finds nothing new until ``fetch.max.wait.ms`` has
passed (long polling). noida-db answers it at once, and aiokafka's fetcher then asks
again at once: an idle worker on noida spent a whole core, on the GIL the hot path
needs. faust's consumer here only reads the low-rate topics (plans, targets, org,
activities, control, period shares), so after a fetch that brought nothing it waits
``EMPTY_FETCH_PAUSE`` before asking that broker again. On Apache Kafka this adds at
most that pause to a low-rate event's way in; the hot path is not affected.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.consumer.fetcher import Fetcher

EMPTY_FETCH_PAUSE = 0.2
_CALM = "_quotaflow_calm"

FetchRequest = Callable[..., Awaitable[bool]]


def calm_empty_fetches(pause: float = EMPTY_FETCH_PAUSE) -> None:
    """Make aiokafka's fetcher pause ``pause`` seconds after an empty fetch (once
    per process; faust creates the fetcher itself, so the class is wrapped)."""
    fetch: FetchRequest = Fetcher._proc_fetch_request
    if getattr(fetch, _CALM, False):
        return

    async def calmed(self: Any, *args: Any, **kwargs: Any) -> bool:
        found = await fetch(self, *args, **kwargs)
        if not found:
            # aiokafka's close cancels pending fetches and awaits them: a pause
            # cut short ends the fetch as a finished one would.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(pause)
        return found

    setattr(calmed, _CALM, True)
    Fetcher._proc_fetch_request = calmed
