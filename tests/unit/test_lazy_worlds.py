"""A restore keeps the reps' snapshots encoded and decodes each world when a message
first needs it; the heatmap's sums come from the checkpoint round, and a stake is
learned from the world before the change that first moves it. What the partition
books, holds and shows is what a restore that decoded everything gives."""

from __future__ import annotations

import gc
from collections import Counter
from functools import partial

import orjson
import pytest

from domain.events import decode_event
from domain.plan import Plan
from projections.heatcells import HeatCells
from streams.bench.generator import sample_events
from streams.state.partitions import RepPartition
from streams.state.pieces import RepSnapshot
from streams.state.routing import BROADCAST, Forward, Origin
from streams.state.snapshots import (
    HEAT,
    Restored,
    encode_snapshot,
    snapshot_round,
)
from streams.state.tables import partition_entries, table_key
from streams.state.worlds import UnreadableWorld, Worlds
from tests.factories import envelope


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
    state.heat.restored(restored.heat, restored.entries)
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
    # The heatmap: the same sums; a stake is learned when a change moves it, as
    # the partition that never stopped has it, and no other.
    assert again.heat.sums == straight.heat.sums
    deals = {
        (f.rep_id, getattr(decode_event(f.value), "deal_id", None))
        for f in forwards[cut:]
    }
    assert again.heat.stakes
    assert set(again.heat.stakes) <= deals
    assert again.heat.stakes.items() <= straight.heat.stakes.items()
    recounted = HeatCells()
    recounted.recount(straight.worlds, 0)
    assert {k: v for k, v in again.heat.sums.items() if v[1]} == recounted.sums


def _org(kind: str, event_id: str, at: str, rep_id: str, region: str) -> Forward:
    """An HR event as the claims send it: to every rep's world, through the base."""
    value = orjson.dumps(
        envelope(
            kind,
            event_id,
            at,
            rep_id=rep_id,
            team_id="T1",
            region=region,
            role="account_manager",
            grade="P5",
            hired_at="2025-06-01T00:00:00+08:00",
        )
    )
    return Forward(BROADCAST, value, Origin("org", 0, 0, 0.0, b""), primary=True)


def test_a_move_after_a_restore_moves_stakes_the_heatmap_had_not_learned(
    reference_plan: Plan,
) -> None:
    """The restored sums count stakes whose shares the partition never learned; a
    move re-places them from their shares before it."""
    forwards = _forwards(600, seed=5)
    rep = max(Counter(f.rep_id for f in forwards).items(), key=lambda kv: kv[1])[0]
    hired = _org("RepHired", "h-1", "2025-06-01T00:00:00+08:00", rep, "north")
    straight = _folded(reference_plan, [hired, *forwards])
    round_ = snapshot_round(
        0, 10, straight.base, straight.worlds, (), heat=straight.heat.sums
    )
    restored = Restored(partition_entries(round_, 0))
    again = _restored(reference_plan, restored)
    assert rep in again.heat.unlearned and not again.heat.stakes
    moved = _org("RepMoved", "m-1", "2025-12-01T00:00:00+08:00", rep, "south")
    before = dict(straight.heat.sums)
    placed = straight.apply(moved).credits
    assert placed and again.apply(moved).credits == placed
    assert straight.heat.sums != before  # the stakes moved to other cells
    assert again.heat.sums == straight.heat.sums
    assert rep not in again.heat.unlearned
    assert again.heat.stakes == {k: v for k, v in straight.heat.stakes.items()
                                 if k[0] == rep}  # fmt: skip


def test_a_cancellation_after_a_restore_takes_out_what_the_stake_added(
    reference_plan: Plan,
) -> None:
    """The stake a cancelled deal held is not known after a restore: its shares
    before the change come from the rep's world before it."""
    forwards = _forwards(600, seed=5)
    straight = _folded(reference_plan, forwards)
    round_ = snapshot_round(
        0, 10, straight.base, straight.worlds, (), heat=straight.heat.sums
    )
    again = _restored(reference_plan, Restored(partition_entries(round_, 0)))
    rep, deal_id = next(k for k, shares in straight.heat.stakes.items() if shares)
    value = orjson.dumps(
        envelope("DealCancelled", "c-1", "2026-12-30T00:00:00+08:00", deal_id=deal_id)
    )
    cancel = Forward(rep, value, Origin("deals", 0, 0, 0.0, b""), primary=True)
    before = dict(straight.heat.sums)
    straight.apply(cancel)
    again.apply(cancel)
    assert straight.heat.sums != before
    assert again.heat.sums == straight.heat.sums
    assert (rep, deal_id) not in again.heat.stakes


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
