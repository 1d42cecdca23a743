"""Issue 14, item 3: a ``quotaflow worker`` process stops within 10 s of SIGTERM
whatever it is doing, and a worker whose agent died exits non-zero within seconds,
saying so on ``/health`` while it goes. Each test has a broker of its own, so a
fresh worker does not read the session's event topics."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer

from streams.bench.generator import sample_events
from streams.infra.embedded import BrokerProcess, free_port
from streams.infra.settings import EmbeddedBroker
from streams.infra.topics import DEALS
from streams.worker.lifecycle import FAILED_EXIT_CODE
from tests.factories import deal_event
from tests.integration.conftest import app_env, unique, wait_for
from tests.integration.test_stream_equals_simulate import publish

pytestmark = pytest.mark.integration
QUOTAFLOW = str(Path(sys.executable).parent / "quotaflow")
# What the issue allows from SIGTERM to exit.
SIGTERM_LIMIT = 10.0
Spawn = Callable[..., tuple[subprocess.Popen[bytes], int]]


@pytest.fixture
def noida(tmp_path: Path) -> Iterator[BrokerProcess]:
    with BrokerProcess(EmbeddedBroker.NOIDA, tmp_path / "noida") as running:
        yield running


@pytest.fixture
def spawn(noida: BrokerProcess, tmp_path: Path) -> Iterator[Spawn]:
    """Starts ``quotaflow worker`` processes on the test's broker (data in
    ``tmp_path/worker``); whatever is still running at the end is killed."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**more: str) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        env = app_env(
            noida, unique("qf-life"), 2, tmp_path / "worker",
            web_port=str(port), **more,
        )  # fmt: skip
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [QUOTAFLOW, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        started.append(process)
        return process, port

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def health(port: int) -> tuple[int, bool] | None:
    """The status of the worker's ``/health`` and whether it says it is live; None
    when nothing answers."""
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as page:
            return int(page.status), bool(orjson.loads(page.read())["live"])
    except urllib.error.HTTPError as exc:
        return exc.code, bool(orjson.loads(exc.read())["live"])
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def ready(port: int) -> bool:
    return health(port) == (200, True)


def exit_after_sigterm(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """SIGTERM, then the exit code and the seconds it took (killed after 30 s)."""
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)
        pytest.fail("the worker was still running 30 s after SIGTERM")
    return code, time.monotonic() - sent


def test_sigterm_stops_an_idle_worker_within_10_s(spawn: Spawn) -> None:
    process, port = spawn()
    wait_for(lambda: ready(port), 120, "the worker ready", 0.2)
    code, seconds = exit_after_sigterm(process)
    print(f"idle worker: exit {code} {seconds:.2f} s after SIGTERM")
    assert code == 0
    assert seconds < SIGTERM_LIMIT


@pytest.mark.parametrize(
    "marker",
    [
        "settings:",  # it opens the broker connection, the store, migrations
        "applied ClickHouse migrations",  # faust is starting
    ],
)
def test_sigterm_stops_a_starting_worker_within_10_s(
    spawn: Spawn, tmp_path: Path, marker: str
) -> None:
    process, port = spawn()
    log = tmp_path / "worker-0.log"
    wait_for(lambda: marker in log.read_text(), 60, f"the log saying {marker}", 0.01)
    assert not ready(port)
    code, seconds = exit_after_sigterm(process)
    print(f"starting worker ({marker}): exit {code} {seconds:.2f} s after SIGTERM")
    # Before the loop's handler is installed, SIGTERM's default action ends it.
    assert code in {0, -signal.SIGTERM}, log.read_text()
    assert seconds < SIGTERM_LIMIT


def test_sigterm_stops_a_busy_worker_within_10_s(
    spawn: Spawn, noida: BrokerProcess
) -> None:
    process, port = spawn(batch_size="200")
    publish(
        Producer({"bootstrap.servers": noida.bootstrap_servers}),
        sample_events(20_000, seed=29, prefix=unique("busy") + "-"),
    )
    wait_for(lambda: ready(port), 120, "the worker ready", 0.2)
    # In the middle of the backlog: some events folded, most still to come.
    folded = wait_for(lambda: _folded(port), 120, "the first events folded", 0.1)
    code, seconds = exit_after_sigterm(process)
    print(f"busy worker ({folded:.0f} of 20,000 events folded): exit {code} "
          f"{seconds:.2f} s after SIGTERM")  # fmt: skip
    assert folded < 20_000
    assert code == 0
    assert seconds < SIGTERM_LIMIT


def _folded(port: int) -> float:
    """How many events the worker folded so far, by its /metrics."""
    page = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(page, timeout=5) as answer:
        text = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("quotaflow_folded_events_total{")
    )


_REFUSE_LEDGER = """
import sys
from pathlib import Path
from projections.migrations import migrate
from projections.store import Store
store = Store.embedded(Path(sys.argv[1]), "quotaflow")
migrate(store)
store.command("ALTER TABLE ledger_lines ADD CONSTRAINT refuses_every_row CHECK 0")
store.close()
"""


def test_a_worker_whose_agent_died_exits_non_zero_within_seconds(
    spawn: Spawn, noida: BrokerProcess, tmp_path: Path
) -> None:
    # A real ClickHouse that refuses every ledger row: the fold agent's write fails
    # past its retries (one second of them here), the agent dies, and the worker must
    # not live on without it. The chDB directory is prepared in a process of its own
    # (one directory per process).
    subprocess.run(
        [sys.executable, "-c", _REFUSE_LEDGER, str(tmp_path / "worker/clickhouse")],
        check=True,
        timeout=120,
    )
    process, port = spawn(write_retry_seconds="1")
    wait_for(lambda: ready(port), 120, "the worker ready", 0.2)
    rep = unique("R")
    deal = deal_event(
        event_id=unique("e"), deal_id=unique("D"), rep_id=rep,
        splits=[{"rep_id": rep, "share": "1"}],
    )  # fmt: skip
    producer = Producer({"bootstrap.servers": noida.bootstrap_servers})
    producer.produce(DEALS, key=deal["deal_id"].encode(), value=orjson.dumps(deal))
    assert producer.flush(10) == 0
    sent = time.monotonic()
    answers: list[tuple[int, bool] | None] = []
    deadline = sent + 60
    while process.poll() is None and time.monotonic() < deadline:
        answers.append(health(port))
        time.sleep(0.05)
    assert process.poll() is not None, "the worker still runs 60 s after the deal"
    seconds = time.monotonic() - sent
    dead = next(
        (n for n, answer in enumerate(answers) if answer and not answer[1]),
        len(answers),
    )
    print(f"dead agent: exit {process.returncode} {seconds:.2f} s after the deal; "
          f"/health answered {answers[dead:dead + 1]} {len(answers) - dead} times "
          f"after the failure")  # fmt: skip
    log = (tmp_path / "worker-0.log").read_text()
    assert process.returncode == FAILED_EXIT_CODE, log
    assert "refuses_every_row" in log
    assert seconds < 30
    # Once it said it was not live it never answered 200 again.
    assert all(answer is None or answer[0] == 503 for answer in answers[dead:])
