"""``serve`` starts the hot path beside faust's start: each waits on its own group
join at the broker, and the hot path needs nothing of faust's."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import serve


class _Faust:
    """A faust app whose start waits until the test lets it finish."""

    def __init__(self) -> None:
        self.may_finish = asyncio.Event()
        self.started = False
        self.crashed = False
        self.crash_reason = None

    async def start(self) -> None:
        await self.may_finish.wait()
        self.started = True

    async def stop(self) -> None:
        return None


class _Worker:
    def __init__(self) -> None:
        self.app = _Faust()
        self.failure: BaseException | None = None
        self.hot_started_while_faust_started: list[bool] = []
        self.closed = False

    def start_hot_path(self) -> None:
        self.hot_started_while_faust_started.append(self.app.started)

    def close(self) -> None:
        self.closed = True


def test_the_hot_path_starts_while_faust_is_still_starting() -> None:
    worker = _Worker()
    told: list[Any] = []

    async def main() -> None:
        stop = asyncio.Event()
        serving = asyncio.ensure_future(
            serve(lambda: cast(QuotaFlowApp, worker), stop, told.append)
        )
        await asyncio.sleep(0.05)
        assert worker.hot_started_while_faust_started == [False]
        assert told == []  # "started" waits for faust
        worker.app.may_finish.set()
        await asyncio.sleep(0.05)
        assert told == [worker]
        stop.set()
        await asyncio.wait_for(serving, 5)

    asyncio.run(asyncio.wait_for(main(), 10))
    assert worker.closed


def test_a_stop_during_faust_s_start_stops_the_started_hot_path() -> None:
    worker = _Worker()

    async def main() -> None:
        stop = asyncio.Event()
        serving = asyncio.ensure_future(serve(lambda: cast(QuotaFlowApp, worker), stop))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(serving, 5)

    asyncio.run(asyncio.wait_for(main(), 10))
    assert worker.hot_started_while_faust_started == [False]
    assert worker.closed  # close() stops the hot path on every path
