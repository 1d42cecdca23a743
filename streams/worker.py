"""Running the faust app: in the main thread until a signal, or in a test thread."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import TracebackType

from streams.app import QuotaFlowApp

AppFactory = Callable[[], QuotaFlowApp]


class WorkerFailed(RuntimeError):
    """The worker stopped because an agent crashed."""


async def serve(
    make_app: AppFactory,
    stop: asyncio.Event,
    started: Callable[[QuotaFlowApp], None] | None = None,
) -> None:
    """Start the app inside the running loop (faust binds to it), run until ``stop``."""
    quotaflow = make_app()
    try:
        await quotaflow.app.start()
        if started is not None:
            started(quotaflow)
        stopping = asyncio.ensure_future(stop.wait())
        failing = asyncio.ensure_future(quotaflow.failed.wait())
        await asyncio.wait((stopping, failing), return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        failing.cancel()
    finally:
        await quotaflow.app.stop()
        quotaflow.close()
    if quotaflow.failure is not None:
        raise WorkerFailed(str(quotaflow.failure)) from quotaflow.failure


def run_until_signalled(
    make_app: AppFactory, started: Callable[[QuotaFlowApp], None]
) -> None:
    """Serve in this thread until SIGINT or SIGTERM, then stop cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(make_app, stop, started)

    asyncio.run(main())


class WorkerThread:
    """The same ``serve`` on a background thread with its own event loop."""

    def __init__(self, make_app: AppFactory, start_timeout: float = 60) -> None:
        self._make_app = make_app
        self._start_timeout = start_timeout
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="quotaflow-worker")
        self.quotaflow: QuotaFlowApp | None = None

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await serve(self._make_app, self._stop, self._started)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    def _started(self, quotaflow: QuotaFlowApp) -> None:
        self.quotaflow = quotaflow
        self._ready.set()

    def start(self) -> QuotaFlowApp:
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            msg = f"worker did not start within {self._start_timeout}s"
            raise TimeoutError(msg)
        if self._error is not None or self.quotaflow is None:
            msg = "worker failed to start"
            raise RuntimeError(msg) from self._error
        return self.quotaflow

    def stop(self, timeout: float = 60) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> QuotaFlowApp:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
