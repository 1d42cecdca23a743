"""`quotaflow bench query` at a tiny size: it fills what was asked and times the
three queries the API serves. The figures themselves are never asserted. And what
every bench says when its plan is not where it looks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_bench_query_fills_the_lines_asked_for_and_times_the_three_queries(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "chdb"
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "bench", "query", "--lines", "2000",
         "--reps", "50", "--runs", "3", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    # Counted in the filled table, not echoed from the option.
    assert figures["lines"] == 2000
    assert figures["reps"] == 50
    for query in ("leaderboard", "heatmap", "statement"):
        timing = figures[query]
        assert set(timing) == {"p50_ms", "p99_ms", "max_ms", "rows"}, query
        assert 0 < timing["p50_ms"] <= timing["p99_ms"] <= timing["max_ms"], query
    assert figures["leaderboard"]["rows"] == 10
    assert figures["heatmap"]["rows"] > 0
    assert "ledger_lines: 2,000 / 2,000" in result.stderr
    assert any(data_dir.iterdir())  # a given directory is kept


def test_bench_query_refuses_a_directory_that_holds_something(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "bench", "query", "--lines", "10",
         "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2
    assert "is not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("bench", ["fold", "stream", "snapshot"])
def test_a_bench_without_its_plan_says_so_in_one_sentence(
    bench: str, tmp_path: Path
) -> None:
    """Run from another directory, the default plan is not found: one sentence and
    exit 2, not a traceback, and no engine started."""
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "bench", bench, "--events", "100"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "cannot read plan file examples/plans/reference.yaml: No such file or "
        "directory (run from the project directory, or pass --plan)"
    ]
