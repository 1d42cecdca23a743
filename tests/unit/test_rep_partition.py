"""A rep partition keeps the company facts once: broadcasts fold into its base."""

from __future__ import annotations

from decimal import Decimal as D

import orjson

from domain.plan import Plan
from streams.bench.broadcast import broadcast_costs
from streams.bench.generator import sample_events
from streams.state.partitions import RepPartition
from streams.state.routing import BROADCAST, Forward, Origin
from streams.state.snapshots import Restored, snapshot_round
from streams.state.tables import partition_entries
from tests.factories import deal_event, envelope, hire_event, target_chain

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
    entries = snapshot_round(
        0, offset, partition.base, partition.worlds, partition.customers_dirty
    )
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


def test_a_rep_met_after_many_broadcasts_keeps_only_its_own_record(
    reference_plan: Plan,
) -> None:
    partition = RepPartition.starting((reference_plan,), 0, 1)
    for n in range(40):
        hire = hire_event(f"R-{n}", "T-1", "east", AT)
        assert partition.apply(_forward(BROADCAST, hire, n)).refused == []
    deal = deal_event(rep_id="R-3", splits=[{"rep_id": "R-3", "share": "1"}])
    applied = partition.apply(_forward("R-3", deal, 40))
    assert [line.kind for line in applied.lines] == ["earned"]
    own = partition.worlds["R-3"]
    # Its snapshot carries its one event, not the base's 40 hires ...
    assert len(own.seen) == 1
    assert len(partition.base.seen) == 40
    # ... while its world still sees the company facts.
    assert len(partition.world("R-3").people) == 40


def _spiff(event_id: str, multiplier: str) -> dict[str, object]:
    return envelope("SpiffAnnounced", event_id, "2026-03-01T09:00:00+08:00",
                    spiff_id="double", starts_at="2026-03-01T09:00:00+08:00",
                    ends_at="2026-03-31T09:00:00+08:00",
                    multiplier=multiplier)  # fmt: skip


def test_a_spiff_sent_again_does_not_price_again_a_rep_met_after_it(
    reference_plan: Plan,
) -> None:
    partition = RepPartition.starting((reference_plan,), 0, 1)
    assert partition.apply(_forward(BROADCAST, _spiff("s-1", "2"), 0)).refused == []
    deal = deal_event(rep_id="R-3", splits=[{"rep_id": "R-3", "share": "1"}])
    (earned,) = partition.apply(_forward("R-3", deal, 1)).lines
    assert earned.amount == D("11250.00")  # 125,000 × (3% + 1.5% new) × 2
    held = partition.worlds["R-3"]
    # The same announcement again, and one that reuses its id for other terms: the
    # base knows both, so no rep world folds either (the rep never saw the first).
    again = partition.apply(_forward(BROADCAST, _spiff("s-1", "2"), 2))
    assert (again.lines, again.refused) == ([], [])
    conflict = partition.apply(_forward(BROADCAST, _spiff("s-1", "3"), 3))
    assert conflict.lines == []
    assert [r.code for r in conflict.refused] == ["conflict"]
    assert partition.worlds["R-3"] is held


def test_a_rep_event_reusing_a_broadcasts_id_is_refused_as_simulate_does(
    reference_plan: Plan,
) -> None:
    """A rep met after a hire: a deal sent under the hire's event id is a conflict
    (the rep's new world holds no digest of the hire; the base does)."""
    partition = RepPartition.starting((reference_plan,), 0, 1)
    hire = hire_event("R-4", "T-1", "east", AT)
    assert partition.apply(_forward(BROADCAST, hire, 0)).refused == []
    reused = deal_event(event_id=hire["event_id"], rep_id="R-4",
                        splits=[{"rep_id": "R-4", "share": "1"}])  # fmt: skip
    applied = partition.apply(_forward("R-4", reused, 1))
    assert applied.lines == []
    assert [(r.code, r.reason) for r in applied.refused] == [
        (
            "conflict",
            f"event_id {hire['event_id']} was already used for different content",
        )
    ]
    assert "R-4" not in partition.worlds or not partition.worlds["R-4"].deals
