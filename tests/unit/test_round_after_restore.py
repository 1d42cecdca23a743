"""A worker's first checkpoint round after it restored a partition writes the base
entry it read, rather than encode the company facts it just decoded."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any, cast

import pytest

from domain.plan import Plan
from streams.hot.rounds import Rounds
from streams.infra.metrics import Metrics
from streams.state import snapshots
from streams.state.partitions import RepPartition
from tests.unit.test_snapshots import counted_encodes, round_then_restore


class Written:
    """The checkpoint topic, as the entries a round hands it."""

    def __init__(self) -> None:
        self.entries: list[tuple[bytes, bytes]] = []

    def write(self, _partition: int, entries: Iterable[tuple[bytes, bytes]]) -> int:
        self.entries += entries
        return sum(len(value) for _, value in self.entries)

    def confirm(self) -> None:
        pass


def test_the_restored_base_is_written_as_it_was_read(
    reference_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries, restored = round_then_restore(reference_plan)
    assert restored.base is not None and restored.base_entry is not None
    state = RepPartition.starting((reference_plan,), 0, 1)
    state.base, state.applied, state.base_dirty = restored.base, 7, True
    state.restored_base = (restored.base, restored.base_entry)
    encoded = counted_encodes(monkeypatch)
    written = Written()
    stages = SimpleNamespace(
        dirty_routers=set(), routers={}, claims=None, reps={0: state}
    )
    rounds = Rounds(cast(Any, written), cast(Any, stages), Metrics(), 5.0, lambda: None)
    rounds.run(due_only=False)
    assert encoded == []
    assert state.restored_base is None
    (base,) = [value for key, value in written.entries if key.endswith(b"/*")]
    assert base[8:] == entries[-1][1][8:]
    assert snapshots.decode_snapshot(base)[0] == 7
