"""A rep partition keeps the company facts once: broadcasts fold into its base."""

from __future__ import annotations

import orjson

from domain.plan import Plan
from streams.bench.broadcast import broadcast_costs
from streams.bench.generator import sample_events
from streams.state.partitions import RepPartition
from streams.state.routing import BROADCAST, Forward, Origin
from streams.state.snapshots import Restored, snapshot_round
from streams.state.tables import partition_entries
from tests.factories import hire_event, target_chain

AT = "2026-01-02T09:00:00+08:00"


def _forward(rep_id: str, event: dict[str, object] | bytes, offset: int) -> Forward:
    value = event if isinstance(event, bytes) else orjson.dumps(event)
    origin = Origin("rep", 0, offset, 0.0, b"")
    return Forward(rep_id=rep_id, value=value, origin=origin, primary=True)


def _with_deals(plan: Plan) -> tuple[RepPartition, int]:
    partition = RepPartition.starting((plan,), 0, 1)
    offset = 0
    for _, _, value in sample_events(300, seed=5, prefix="rp-"):
        rep = orjson.loads(value).get("rep_id")
        if rep is not None:
            partition.apply(_forward(rep, value, offset))
            offset += 1
    return partition, offset


def test_a_hire_and_a_target_leave_every_rep_world_as_it_was(
    reference_plan: Plan,
) -> None:
    partition, offset = _with_deals(reference_plan)
    reps = sorted(partition.worlds)
    assert len(reps) > 10
    held = dict(partition.worlds)
    partition.dirty.clear()
    events = [
        hire_event(reps[0], "T-1", "east", AT),
        *target_chain(("acme", "cloud", "east", "T-1", reps[0]), "2026", "1000", AT),
    ]
    for n, event in enumerate(events, start=offset):
        applied = partition.apply(_forward(BROADCAST, event, n))
        assert applied.refused == []
    # Not one rep world was folded or copied: the facts live in the base alone ...
    assert all(partition.worlds[rep] is held[rep] for rep in reps)
    assert partition.dirty == set()
    # ... and every rep's world sees them.
    world = partition.world(reps[0])
    assert world.people[reps[0]].team_id == "T-1"
    assert world.targets.get(reps[0], "2026") is not None
    assert world.reps == held[reps[0]].reps


def test_a_rep_snapshot_keeps_its_own_part_and_the_base_the_company_facts(
    reference_plan: Plan,
) -> None:
    partition, offset = _with_deals(reference_plan)
    rep = sorted(partition.worlds)[0]
    partition.apply(_forward(BROADCAST, hire_event(rep, "T-1", "east", AT), offset))
    entries = snapshot_round(0, offset, partition.base, partition.worlds) or []
    restored = Restored(partition_entries(entries, 0))
    assert restored.worlds[rep].plans == ()
    assert len(restored.worlds[rep].people) == 0
    assert restored.base is not None
    assert rep in restored.base.people
    again = RepPartition.starting((reference_plan,), 0, 1)
    again.base = restored.base
    again.worlds.update(restored.worlds)
    assert again.world(rep) == partition.world(rep)


def test_a_hire_probe_joins_the_partitions_base_not_its_rep_worlds(
    reference_plan: Plan,
) -> None:
    # broadcast_costs raises if the fold or the partition refuses a probe.
    figures = broadcast_costs(reference_plan, 24)
    assert 12 < figures["rep_worlds"] <= 24
    assert figures["targets"] > 24
    assert figures["stream_rep_hired_us"] > 0
