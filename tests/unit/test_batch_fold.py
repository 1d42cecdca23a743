"""A batch is folded in the order its events happened (``evolve_batch``): a consumer's
interleaving of partitions changes neither the totals nor, inside the batch, the
lines (SPEC §9: figures depend on which facts happened, not on arrival order)."""

from __future__ import annotations

from decimal import Decimal

import orjson

from domain.batch import evolve_batch
from domain.engine import World, evolve, start
from domain.events import Event, decode_event
from domain.plan import Plan
from tests.factories import deal_event, envelope, payment_event
from tests.golden.scenario import events as sample_scenario


def _totals(world: World) -> dict[str, dict[str, Decimal]]:
    kinds = ("earned", "payable", "bonus", "points")
    return {
        rep_id: {kind: rep.total(kind) for kind in kinds}
        for rep_id, rep in world.reps.items()
    }


def _decoded(values: list[bytes]) -> list[Event]:
    return [decode_event(value) for value in values]


def test_file_and_arrival_order_give_the_same_totals_in_one_batch(
    full_plan: Plan,
) -> None:
    in_file, steps = evolve_batch(start([full_plan]), _decoded(sample_scenario("file")))
    in_kafka, kafka_steps = evolve_batch(
        start([full_plan]), _decoded(sample_scenario("kafka"))
    )
    assert _totals(in_kafka) == _totals(in_file)
    lines = sum(len(step.lines) for step in steps)
    one_by_one = start([full_plan])
    booked = 0
    for event in _decoded(sample_scenario("kafka")):
        one_by_one, step = evolve(one_by_one, event)
        booked += len(step.lines)
    # One event at a time, arrival order books true-ups for late deals; the batch
    # books about what file order does.
    assert sum(len(step.lines) for step in kafka_steps) < booked
    assert abs(sum(len(step.lines) for step in kafka_steps) - lines) < lines // 100


def test_a_payment_dated_before_the_cancel_it_arrived_after_is_applied_then_reversed(
    reference_plan: Plan,
) -> None:
    deal = deal_event(new_customer=False)
    cancel = envelope(
        "DealCancelled", "x-1", "2026-04-20T10:00:00+08:00", deal_id="D-1001"
    )
    paid = payment_event("p1", "D-1001", "125000.00", "2026-04-01T10:00:00+08:00")
    raw = _decoded([orjson.dumps(e) for e in (deal, cancel, paid)])
    world, steps = evolve_batch(start([reference_plan]), raw)
    assert [len(step.rejected) for step in steps] == [0, 0, 0]
    assert [line.kind for line in steps[2].lines] == ["payable"]
    assert _totals(world)["R-17"]["earned"] == 0
    assert _totals(world)["R-17"]["payable"] == 0
    # One at a time, in arrival order, the payment meets a cancelled deal.
    alone = start([reference_plan])
    for event in raw:
        alone, step = evolve(alone, event)
    assert [r.code for r in step.rejected] == ["deal_cancelled"]


def test_a_deals_own_events_keep_their_order_whatever_their_dates(
    reference_plan: Plan,
) -> None:
    # A payment dated before its deal closed still comes after the deal it arrived
    # after; an amendment dated before the close is not applied before the close.
    deal = deal_event(new_customer=False)
    early = payment_event("p1", "D-1001", "1000.00", "2026-03-01T10:00:00+08:00")
    amended = envelope(
        "DealAmended", "a-1", "2026-03-02T10:00:00+08:00", deal_id="D-1001",
        amount="100000.00", margin="0", currency="CNY",
        splits=[{"rep_id": "R-17", "share": "1"}],
    )  # fmt: skip
    raw = _decoded([orjson.dumps(e) for e in (deal, early, amended)])
    world, steps = evolve_batch(start([reference_plan]), raw)
    assert all(step.rejected == () for step in steps)
    in_order = start([reference_plan])
    for event in raw:
        in_order, _ = evolve(in_order, event)
    assert _totals(world) == _totals(in_order)
