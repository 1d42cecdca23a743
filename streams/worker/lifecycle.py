"""Running the faust app: in the main thread until a signal, or in a test thread.

A worker whose agent crashed, or whose faust app crashed, stops: a worker that looks
alive but folds nothing is worse than one its supervisor restarts. Stopping is
bounded in every state (faust can wait for ever for the events of a dead agent), and
a process that still has not exited by the deadline exits hard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from types import TracebackType

from streams.worker.app import QuotaFlowApp

AppFactory = Callable[[], QuotaFlowApp]
log = logging.getLogger(__name__)
# faust's own stop gets this long; the whole process, from the signal or the crash
# to its exit, gets EXIT_SECONDS.
STOP_SECONDS = 6.0
EXIT_SECONDS = 9.0
FAILED_EXIT_CODE = 3
_WATCH_SECONDS = 0.25


class WorkerFailed(RuntimeError):
    """The worker stopped because an agent or the faust app crashed."""


async def _until_stopped_or_failed(
    quotaflow: QuotaFlowApp, stop: asyncio.Event
) -> None:
    while not stop.is_set() and quotaflow.failure is None:
        if quotaflow.app.crashed:
            reason = quotaflow.app.crash_reason
            quotaflow.failure = reason or RuntimeError("the faust app crashed")
            log.critical("the faust app crashed; stopping the worker: %r", reason)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _WATCH_SECONDS)


async def serve(
    make_app: AppFactory,
    stop: asyncio.Event,
    started: Callable[[QuotaFlowApp], None] | None = None,
) -> None:
    """Start the app inside the running loop (faust binds to it), run until ``stop``
    or a crash; raise ``WorkerFailed`` after a crash."""
    quotaflow = make_app()
    try:
        starting = asyncio.ensure_future(quotaflow.app.start())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait((starting, stopping), return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if starting.done():
            starting.result()  # a failed start raises here
            quotaflow.start_hot_path()
            if started is not None:
                started(quotaflow)
            await _until_stopped_or_failed(quotaflow, stop)
        else:
            starting.cancel()
    finally:
        try:
            await asyncio.wait_for(quotaflow.app.stop(), STOP_SECONDS)
        except TimeoutError:
            log.error("faust did not stop within %ss; going on", STOP_SECONDS)
        quotaflow.close()
    if quotaflow.failure is not None:
        raise WorkerFailed(str(quotaflow.failure)) from quotaflow.failure


def _exit_hard_after(seconds: float, code: int, why: str) -> None:
    """The last resort of a process: exit after ``seconds`` whatever still runs."""

    def exit_now() -> None:
        log.critical("%s; still running after %ss: exiting with %d", why, seconds, code)
        os._exit(code)

    timer = threading.Timer(seconds, exit_now)
    timer.daemon = True
    timer.start()


def run_until_signalled(
    make_app: AppFactory, started: Callable[[QuotaFlowApp], None]
) -> None:
    """Serve in this thread until SIGINT or SIGTERM, then stop within
    ``EXIT_SECONDS``; after a crash, raise ``WorkerFailed`` (and exit non-zero within
    ``EXIT_SECONDS`` even if something hangs on the way out)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def signalled() -> None:
            if not stop.is_set():
                _exit_hard_after(EXIT_SECONDS, 0, "stop requested")
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, signalled)
        try:
            await serve(make_app, stop, started)
        except WorkerFailed:
            _exit_hard_after(EXIT_SECONDS, FAILED_EXIT_CODE, "the worker failed")
            raise

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
        # A daemon: a test whose worker hangs still lets pytest exit.
        self._thread = threading.Thread(
            target=self._run, name="quotaflow-worker", daemon=True
        )
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
            self.stop()
            msg = f"worker did not start within {self._start_timeout}s"
            raise TimeoutError(msg)
        if self._error is not None or self.quotaflow is None:
            self.stop()
            msg = "worker failed to start"
            raise RuntimeError(msg) from self._error
        return self.quotaflow

    @property
    def error(self) -> BaseException | None:
        """Why the worker's thread ended, if it ended by an exception."""
        return self._error

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 60) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # its loop has already closed
                loop.call_soon_threadsafe(stop.set)
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
