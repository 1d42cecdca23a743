"""`quotaflow run` as a user starts it: everything embedded, sample deals, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

from streams.infra.embedded import free_port
from streams.infra.runtime import data_dir_lock
from tests.polling import wait_for

QUOTAFLOW = str(Path(sys.executable).parent / "quotaflow")
ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return str(response.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def _alive_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(cmdline)
    return found


def test_run_starts_everything_shows_live_figures_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path,
) -> None:
    port = free_port()
    web = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "qf"
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        run = subprocess.Popen(
            [QUOTAFLOW, "run", "--data-dir", str(data_dir), "--web-port", str(port),
             "--rate", "200", "--bad-rate", "0.1"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    try:
        wait_for(lambda: _get(f"{web}/health"), 90, "the worker's health page", 0.5)
        # The run issued its admin token into the data dir, for the board and queries.
        token = (data_dir / "admin.token").read_text().strip()
        assert token not in log_path.read_text()
        assert "<title>QuotaFlow board</title>" in (_get(f"{web}/board") or "")
        assert _get(f"{web}/api/leaderboard") is None  # 401 without the token

        def board() -> str | None:
            out = subprocess.run(
                [QUOTAFLOW, "query", "leaderboard", "--worker-url", web,
                 "--limit", "5", "--token", token],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            return out if len(out.strip().splitlines()) == 6 else None

        table = wait_for(board, 60, "a leaderboard of five reps", 0.5)
        assert table.splitlines()[0].split() == ["rank", "rep", "commission", "deals"]
        top_rep = table.splitlines()[1].split()[1]
        statement = subprocess.run(
            [QUOTAFLOW, "query", "statement", top_rep, "--worker-url", web,
             "--token", token],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "revenue_band_commission (full v1)" in statement
        assert "of revenue in band" in statement

        # The sample year's January: closed, approved and locked, then paid.
        def january() -> str | None:
            out = subprocess.run(
                [QUOTAFLOW, "statement", "R-00001", "2026-01", "--worker-url", web,
                 "--token", token],
                capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            heading = out.splitlines()[:1]
            return out if heading and heading[0].endswith("(locked)") else None

        locked = wait_for(january, 90, "January's statement locked", 1)
        assert "approved by R-00000" in locked  # the team lead
        # Found from the data dir alone: the running worker's address and token.
        payroll = subprocess.run(
            [QUOTAFLOW, "payroll", "2026-01", "--data-dir", str(data_dir)],
            capture_output=True, text=True, check=True, cwd=tmp_path,
        ).stdout.splitlines()  # fmt: skip
        assert payroll[0] == "employee_id,currency,amount,period,plan,statement_digest"
        assert payroll[1:], "nobody paid for January"
        for row in payroll[1:]:
            rep, currency, amount, period, plan, digest = row.split(",")
            assert rep.startswith("R-")
            assert (currency, period, plan) == ("CNY", "2026-01", "full v1")
            assert Decimal(amount) > 0 and len(digest) == 24

        listed = subprocess.run(
            [QUOTAFLOW, "dlq", "list", "--data-dir", str(data_dir)],
            capture_output=True, text=True, check=True, cwd=tmp_path,
        ).stdout.splitlines()  # fmt: skip
        assert listed[0].split()[:2] == ["offset", "reason"]
        assert len(listed) > 1, "the malformed sample deals are set aside"

        def dead_letters() -> bool:
            metrics = _get(f"{web}/metrics") or ""
            return "quotaflow_dead_letters_total{" in metrics

        wait_for(dead_letters, 30, "dead-lettered sample events in the metrics", 0.5)
        assert json.loads(_get(f"{web}/health") or "{}")["live"] is True
    finally:
        run.send_signal(signal.SIGINT)
        code = run.wait(90)
    output = log_path.read_text()
    assert code == 0, output
    assert "QuotaFlow is running" in output
    assert "stopped cleanly" in output
    assert _alive_mentioning(str(data_dir)) == []


def test_run_with_a_missing_plan_file_says_so_and_exits_2(tmp_path: Path) -> None:
    env = {**os.environ, "QUOTAFLOW_PLAN_FILE": str(tmp_path / "nope.yaml")}
    result = subprocess.run(
        [QUOTAFLOW, "run", "--data-dir", str(tmp_path / "qf")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot read plan file" in result.stderr
    assert "nope.yaml" in result.stderr
    assert _alive_mentioning(str(tmp_path / "qf")) == []


def test_a_taken_port_or_a_data_dir_in_use_is_one_sentence_and_exit_2(
    tmp_path: Path,
) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [QUOTAFLOW, "run", *args], capture_output=True, text=True, timeout=60,
            check=False, cwd=ROOT,
        )  # fmt: skip

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--data-dir", str(tmp_path / "a"), "--web-port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"port {port} on 127.0.0.1 is taken (Address already in use); stop what "
        "uses it, or choose another with --web-port"
    )
    held = tmp_path / "b"
    with data_dir_lock(held):  # as a running worker holds it
        result = run("--data-dir", str(held), "--web-port", str(free_port()))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{held} is in use by another QuotaFlow worker (pid {os.getpid()}); stop "
        "it, or give this one its own --data-dir"
    )
    assert _alive_mentioning(str(tmp_path)) == []


def test_dlq_list_without_a_broker_is_one_sentence(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "QUOTAFLOW_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}
    result = subprocess.run(
        [QUOTAFLOW, "dlq", "list"], capture_output=True, text=True, env=env,
        timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    (said,) = result.stderr.strip().splitlines()
    assert said.startswith(f"cannot reach the broker at 127.0.0.1:{port} (")
    assert "is `quotaflow run` running?" in said
    assert result.stdout == ""
