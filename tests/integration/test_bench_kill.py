"""``quotaflow bench kill`` on a small history: a worker process SIGKILLed on noida-db
and started again under the same ``instance_id`` takes its partitions back at once
(as a dynamic member it would wait for ever: noida-db never expires the member a
SIGKILL leaves behind), reads only the log after its checkpoints, and books exactly
``simulate``'s totals."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.bench.kill import bench_kill
from streams.infra.settings import EmbeddedBroker
from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration
HISTORY = 3_000


def test_a_killed_worker_restarted_under_its_instance_id_catches_up_exactly(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    figures = bench_kill(
        HISTORY,
        300,
        3,
        EmbeddedBroker.NOIDA,
        40,
        ROOT / "examples/plans/reference.yaml",
        tmp_path,
        said.append,
        snapshot_seconds=0.5,
        timeout=180,
    )
    assert figures["totals_equal_simulate"] is True
    assert figures["stopped_cleanly"] is True
    rebuilt = figures["rebuild_messages"]
    # The restart read the checkpoints and the log after them, not the history.
    assert isinstance(rebuilt, int)
    assert rebuilt < HISTORY
    restart, serving = figures["restart_seconds"], figures["restart_serving_seconds"]
    assert isinstance(restart, float)
    assert isinstance(serving, float)
    assert restart >= serving
    assert any(line.startswith("killed;") for line in said)
