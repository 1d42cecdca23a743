"""A worker's first checkpoint round after it restored a partition writes the base
entry it read, rather than encode the company facts it just decoded."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any, cast

import pytest

from domain.plan import Plan
from domain.world import World
from streams.hot.rounds import Rounds
from streams.infra.metrics import Metrics
from streams.state import snapshots
from streams.state.partitions import RepPartition
from streams.state.snapshots import Restored, snapshot_round
from streams.state.tables import partition_entries
from tests.unit.test_snapshots import _customers


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
    before = _customers(reference_plan).partition
    entries = snapshot_round(0, 3, before.base, {}, before.customers_dirty)
    restored = Restored(partition_entries(entries, 0))
    assert restored.base is not None and restored.base_entry is not None
    state = RepPartition.starting((reference_plan,), 0, 1)
    state.base, state.applied, state.base_dirty = restored.base, 7, True
    state.restored_base = (restored.base, restored.base_entry)
    encoded: list[int] = []
    real = snapshots.encode_snapshot

    def counted(offset: int, world: World) -> bytes:
        encoded.append(offset)
        return real(offset, world)

    monkeypatch.setattr(snapshots, "encode_snapshot", counted)
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
