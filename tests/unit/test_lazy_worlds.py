"""A restore keeps the reps' snapshots encoded and decodes each world when a message
first needs it; the heatmap's sums come from the checkpoint round, and each world
decoded late brings its stakes. What the partition books, holds and shows is what
a restore that decoded everything gives."""

from __future__ import annotations

import gc
from functools import partial

import pytest

from domain.events import decode_event
from domain.plan import Plan
from projections.heatcells import HeatCells
from streams.bench.generator import sample_events
from streams.state.partitions import RepPartition
from streams.state.pieces import RepSnapshot
from streams.state.routing import Forward, Origin
from streams.state.snapshots import (
    HEAT,
    Restored,
    encode_snapshot,
    snapshot_round,
)
from streams.state.tables import partition_entries, table_key
from streams.state.worlds import UnreadableWorld, Worlds


def _forwards(count: int, seed: int) -> list[Forward]:
    found = []
    for n, (topic, _, value) in enumerate(
        sample_events(count, seed=seed, prefix="lz-")
    ):
        rep = getattr(decode_event(value), "rep_id", None)
        if rep is not None:
            origin = Origin(topic, 0, n, 0.0, b"")
            found.append(Forward(rep_id=rep, value=value, origin=origin, primary=True))
    return found


def _folded(plan: Plan, forwards: list[Forward]) -> RepPartition:
    state = RepPartition.starting((plan,), 0, 1)
    for forward in forwards:
        state.apply(forward)
    return state


def _restored(plan: Plan, restored: Restored) -> RepPartition:
    """A partition as ``rebuild_reps`` makes it from ``restored`` with heat sums."""
    assert restored.base is not None and restored.heat is not None
    state = RepPartition.starting((plan,), 0, 1)
    state.base = restored.base
    state.heat.restored(restored.heat)
    state.worlds.keep_encoded(restored.entries)
    return state


def test_a_restore_decodes_only_the_worlds_a_message_needs(
    reference_plan: Plan,
) -> None:
    forwards = _forwards(600, seed=5)
    straight = _folded(reference_plan, forwards)
    cut = len(forwards) * 3 // 4
    early = _folded(reference_plan, forwards[:cut])
    round_ = snapshot_round(
        0, cut - 1, early.base, early.worlds, (), heat=early.heat.sums
    )
    restored = Restored(partition_entries(round_, 0))
    assert restored.heat == early.heat.sums
    again = _restored(reference_plan, restored)
    assert again.worlds.encoded == len(early.worlds)
    lines = []
    for offset, forward in enumerate(forwards[cut:], start=cut):
        applied = again.apply(forward, partial(restored.is_due, offset=offset))
        lines += applied.lines
    touched = {f.rep_id for f in forwards[cut:]} & set(early.worlds)
    # The reps no message named since the round are still encoded.
    assert 0 < again.worlds.encoded == len(set(early.worlds) - touched)
    assert set(again.worlds) == set(straight.worlds)
    assert {r: again.world(r) for r in again.worlds} == {
        r: straight.world(r) for r in straight.worlds
    }
    # The same lines as the partition that never stopped booked after the cut.
    tail = RepPartition.starting((reference_plan,), 0, 1)
    tail.base, tail.worlds = early.base, early.worlds
    tail.heat = early.heat
    expected = [line for f in forwards[cut:] for line in tail.apply(f).lines]
    assert [(x.line_id, x.amount) for x in lines] == [
        (x.line_id, x.amount) for x in expected
    ]
    # The heatmap: the same sums, and the stakes of every decoded rep.
    assert again.heat.sums == straight.heat.sums
    decoded = set(again.worlds) - set(again.worlds._encoded)
    assert {k: v for k, v in again.heat.stakes.items() if k[0] in decoded} == {
        k: v for k, v in straight.heat.stakes.items() if k[0] in decoded
    }
    recounted = HeatCells()
    recounted.recount(straight.worlds, 0)
    assert {k: v for k, v in again.heat.sums.items() if v[1]} == recounted.sums


def test_a_round_that_stopped_before_its_base_gives_no_heat_sums(
    reference_plan: Plan,
) -> None:
    forwards = _forwards(200, seed=8)
    state = _folded(reference_plan, forwards)
    first = dict(
        snapshot_round(0, 10, state.base, state.worlds, (), heat=state.heat.sums)
    )
    assert Restored(partition_entries(first.items(), 0)).heat is not None
    # A later round wrote a world and stopped before its sums and base.
    rep = next(iter(state.worlds))
    later = {**first, table_key(0, rep): encode_snapshot(20, state.worlds[rep])}
    restored = Restored(partition_entries(later.items(), 0))
    assert restored.heat is None
    assert set(restored.worlds) == set(state.worlds)  # decoded, to count again
    # Nor does a round without sums (written before they were).
    bare = {k: v for k, v in first.items() if k != table_key(0, HEAT)}
    assert Restored(partition_entries(bare.items(), 0)).heat is None


def test_worlds_decode_on_first_use_and_say_so(reference_plan: Plan) -> None:
    state = _folded(reference_plan, _forwards(150, seed=3))
    reps = sorted(state.worlds)
    warmed: list[str] = []
    worlds = Worlds(lambda rep, _world: warmed.append(rep))
    worlds.keep_encoded(
        {r: RepSnapshot(encode_snapshot(4, state.worlds[r])) for r in reps}
    )
    assert len(worlds) == worlds.encoded == len(reps) and reps[0] in worlds
    assert worlds.get("R-nobody") is None and "R-nobody" not in worlds
    assert worlds[reps[0]] == state.worlds[reps[0]]
    assert worlds.get(reps[0]) is worlds[reps[0]]  # decoded once
    assert warmed == [reps[0]] and worlds.encoded == len(reps) - 1
    worlds[reps[1]] = state.worlds[reps[1]]  # a new world replaces the snapshot
    assert warmed == [reps[0]] and worlds.encoded == len(reps) - 2
    assert dict(worlds.items()) == {r: state.worlds[r] for r in reps}
    assert worlds.encoded == 0 and sorted(warmed) == sorted(set(reps) - {reps[1]})
    del worlds[reps[0]]
    assert reps[0] not in worlds and len(worlds) == len(reps) - 1


def test_a_snapshot_that_cannot_be_decoded_stops_rather_than_dead_letters() -> None:
    worlds = Worlds()
    worlds.keep_encoded({"R-1": RepSnapshot(b"\0" * 8 + b"{not json")})
    with pytest.raises(UnreadableWorld, match="R-1"):
        worlds.get("R-1")
    # Not an ``Exception``: a message's ``except Exception`` verdict (internal,
    # dead-lettered) cannot take it for that message's fault.
    assert not issubclass(UnreadableWorld, Exception)
    assert "R-1" in worlds  # still held: nothing was lost


def test_a_world_decoded_late_is_left_out_of_the_collectors_scans(
    reference_plan: Plan,
) -> None:
    state = _folded(reference_plan, _forwards(100, seed=4))
    rep = next(iter(state.worlds))
    worlds = Worlds()
    worlds.keep_encoded({rep: RepSnapshot(encode_snapshot(1, state.worlds[rep]))})
    gc.unfreeze()
    try:
        world = worlds[rep]
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
        assert not any(o is world for o in gc.get_objects())
    finally:
        gc.unfreeze()
