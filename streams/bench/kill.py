"""``quotaflow bench kill``: how long a worker killed with SIGKILL takes to come back.

A worker process folds a generated year of history and catches up; it is then
killed with SIGKILL (no stop, no last checkpoint), more events arrive while it is
away, and a new process is started on the same data directory and the same
``instance_id``. The clock runs from that start until the new process has
committed every message on the high-rate topics (the rows come before the commit).
Its totals are then read from its ClickHouse and compared with ``simulate``'s.

What the restart costs should depend on how much log came after the last
checkpoint (``snapshot_seconds``), not on the history: the rebuild reads the
checkpoints and only the log after them (``quotaflow_rebuild_messages_total``).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from streams.bench.phases import produce_at, undrained
from streams.bench.stream import expected_totals
from streams.bench.year import MONTHS, BenchYear
from streams.hot.consumer import hot_group
from streams.infra import topics
from streams.infra.embedded import BrokerProcess, free_port
from streams.infra.runtime import load_plan
from streams.infra.settings import EmbeddedBroker

Progress = Callable[[str], None]
APP_ID = "bench-kill"
_EVERY = 0.2


def bench_kill(  # noqa: PLR0913, PLR0917 - the figures' knobs
    count: int,
    tail: int,
    partitions: int,
    broker: EmbeddedBroker,
    reps: int,
    plan_file: Path,
    data_dir: Path,
    progress: Progress,
    snapshot_seconds: float = 5.0,
    timeout: float = 3_600,
) -> dict[str, float | int | bool | None]:
    """Figures of one kill: ``count`` events of history, ``tail`` more produced
    while the worker is away; each wait gives up after ``timeout`` seconds."""
    data_dir.mkdir(parents=True, exist_ok=True)
    progress(f"generating a year of {count + tail:,} events ...")
    year = BenchYear(count + tail + MONTHS + 5, reps, seed=5).messages()
    # Period closes are left out, as in ``bench stream``: on the stream a close
    # reaches a rep's world when the control topic delivers it.
    events = [m for m in year if m[0] != topics.CONTROL][: count + tail]
    progress(f"computing the expected totals of {len(events):,} events offline ...")
    expected = expected_totals(load_plan(plan_file), events)
    figures: dict[str, float | int | bool | None] = {
        "history_events": count,
        "tail_events": tail,
        "reps": reps,
        "partitions": partitions,
        "snapshot_seconds": snapshot_seconds,
    }
    with BrokerProcess(broker, data_dir / "broker") as running:
        config: dict[str, Any] = {"bootstrap.servers": running.bootstrap_servers}
        topics.ensure_topics(
            AdminClient(config), topics.topic_specs(APP_ID, partitions)
        )
        producer = Producer(config)
        progress(f"producing {count:,} events of history ...")
        produce_at(producer, events[:count], float("inf"), progress)
        env = _worker_env(running, partitions, data_dir / "worker", snapshot_seconds,
                          plan_file)  # fmt: skip
        drained = _drained(config)
        progress("the first worker folds the history ...")
        started = time.perf_counter()
        first_log, second_log = data_dir / "first.log", data_dir / "second.log"
        with _worker(env, first_log) as first:
            _wait(drained, first, first_log, timeout, "the first worker to catch up")
            figures["history_seconds"] = round(time.perf_counter() - started, 1)
            # A live worker: its checkpoint rounds have run since it caught up.
            time.sleep(snapshot_seconds)
            figures["first_worker_peak_rss_mb"] = _peak_rss_mb(first.pid)
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        progress(f"killed; {tail:,} events arrive while it is away ...")
        produce_at(producer, events[count:], float("inf"), progress)
        progress("the second worker starts on the same data directory ...")
        started = time.perf_counter()
        with _worker(env, second_log) as second:
            port = int(env["QUOTAFLOW_WEB_PORT"])
            _wait(
                lambda: _health(port),
                second,
                second_log,
                timeout,
                "the second worker's web server",
            )
            figures["restart_serving_seconds"] = round(time.perf_counter() - started, 1)
            _wait(drained, second, second_log, timeout, "the second worker to catch up")
            figures["restart_seconds"] = round(time.perf_counter() - started, 1)
            figures["rebuild_messages"] = _rebuild_messages(port)
            figures["second_worker_peak_rss_mb"] = _peak_rss_mb(second.pid)
            second.send_signal(signal.SIGINT)
            figures["stopped_cleanly"] = second.wait(60) == 0
    figures["totals_equal_simulate"] = _booked(env) == expected
    figures["bench_max_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    return figures


def _peak_rss_mb(pid: int) -> float | None:
    """A running process's peak resident memory (Linux's ``VmHWM``); None where
    ``/proc`` does not say."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _worker_env(
    running: BrokerProcess,
    partitions: int,
    data_dir: Path,
    snapshot_seconds: float,
    plan_file: Path,
) -> dict[str, str]:
    return {
        **os.environ,
        "QUOTAFLOW_BROKER_MODE": "external",
        "QUOTAFLOW_BOOTSTRAP_SERVERS": running.bootstrap_servers,
        "QUOTAFLOW_DATA_DIR": str(data_dir),
        "QUOTAFLOW_APP_ID": APP_ID,
        "QUOTAFLOW_TOPIC_PARTITIONS": str(partitions),
        "QUOTAFLOW_WEB_PORT": str(free_port()),
        "QUOTAFLOW_PLAN_FILE": str(plan_file),
        "QUOTAFLOW_STORE": "rocksdb://",
        "QUOTAFLOW_SNAPSHOT_SECONDS": str(snapshot_seconds),
        # The same name across the kill: the restarted process takes the dead
        # one's place in both consumer groups at once.
        "QUOTAFLOW_INSTANCE_ID": "bench-kill-worker",
    }


@contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A ``quotaflow worker`` process, killed on the way out if still running."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)


def _drained(config: dict[str, Any]) -> Callable[[], bool]:
    watched = [
        *topics.DEAL_KEYED,
        topics.claims_topic(APP_ID),
        topics.rep_deals_topic(APP_ID),
    ]
    return lambda: undrained(config, hot_group(APP_ID), watched) == 0


def _wait(
    done: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log: Path,
    timeout: float,
    what: str,
) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if process.poll() is not None:
            msg = f"the worker exited ({process.returncode}) before {what}"
            raise RuntimeError(msg + _last_lines(log))
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(_EVERY)


def _last_lines(log: Path, count: int = 40) -> str:
    """The end of a worker's log, for an error that would otherwise take it along
    with the temporary directory."""
    if not log.is_file():
        return ""
    lines = log.read_text(errors="replace").splitlines()[-count:]
    return "; its log ends:\n" + "\n".join(lines)


def _get(port: int, path: str) -> bytes | None:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}{path}", timeout=5
        ) as response:
            body: bytes = response.read()
            return body
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _health(port: int) -> bool:
    return _get(port, "/health") is not None


def _rebuild_messages(port: int) -> int | None:
    text = _get(port, "/metrics")
    if text is None:
        return None
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.decode().splitlines()
            if line.startswith("quotaflow_rebuild_messages_total{")
        )
    )


def _booked(env: dict[str, str]) -> dict[str, str]:
    """The stopped worker's totals, read from its own ClickHouse directory by a
    process of its own (``streams.bench.totals``)."""
    directory = Path(env["QUOTAFLOW_DATA_DIR"]) / "clickhouse"
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-m", "streams.bench.totals", str(directory)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    totals: dict[str, str] = orjson.loads(done.stdout)
    return totals
