"""A deal that arrives after later deals of its rep's year re-slices only the deals
whose bands or sprint it changes (SPEC §2, §8: 分段提成 in close-time order)."""

from __future__ import annotations

import pickle
from datetime import datetime
from decimal import Decimal

import orjson

from domain.bands import RateBand
from domain.engine import World, evolve, start
from domain.events import decode_event
from domain.ledger import LedgerLine, Reason
from domain.plan import Plan
from streams.bench.generator import sample_events
from tests.factories import deal_event, envelope

_EVENT_TYPES = ("DealClosed", "DealAmended", "DealCancelled", "PaymentReceived",
                "SatisfactionRecorded")  # fmt: skip


def _deal(n: int, at: str, amount: str) -> bytes:
    return orjson.dumps(
        deal_event(
            event_id=f"e-{n}",
            deal_id=f"D-{n}",
            occurred_at=at,
            payment_due_at="2027-06-30T00:00:00+08:00",
            amount=amount,
            margin="0",
            new_customer=False,
        )
    )


def _fold(world: World, *raw: bytes) -> tuple[World, list[LedgerLine]]:
    lines: list[LedgerLine] = []
    for value in raw:
        world, step = evolve(world, decode_event(value))
        assert step.rejected == ()
        lines += step.lines
    return world, lines


def _earned(world: World) -> Decimal:
    return world.reps["R-17"].total("earned")


def test_a_late_q3_deal_that_completes_the_sprint_lifts_the_q4_deal(
    reference_plan: Plan,
) -> None:
    world, _ = _fold(
        start([reference_plan]),
        _deal(1, "2026-02-10T10:00:00+08:00", "300000"),
        _deal(2, "2026-05-10T10:00:00+08:00", "300000"),
        _deal(3, "2026-08-10T10:00:00+08:00", "200000"),
        _deal(4, "2026-11-10T10:00:00+08:00", "100000"),
    )
    # 9,000 + (6,000 + 5,000) + 10,000 + 100,000 × 5% (no sprint: Q3 is 200,000).
    assert _earned(world) == Decimal("35000")
    world, lines = _fold(world, _deal(5, "2026-09-10T10:00:00+08:00", "100000"))
    # Q3 is now 300,000: the Q4 deal stays in the 5% band (base 900,000) but earns
    # the sprint's +1 point: 100,000 × 6% = 6,000, booked as a 1,000 difference.
    assert _earned(world) == Decimal("41000")
    assert sorted((line.deal_id, line.amount) for line in lines) == [
        ("D-4", Decimal("1000.00")),
        ("D-5", Decimal("5000.00")),
    ]


def test_a_late_deal_books_nothing_for_later_deals_that_stay_in_their_band(
    reference_plan: Plan,
) -> None:
    early = [_deal(n, f"2026-03-{n:02d}T10:00:00+08:00", "400000") for n in (1, 2, 3)]
    later = [_deal(n, f"2026-04-{n:02d}T10:00:00+08:00", "50000") for n in (4, 5, 6)]
    late = _deal(7, "2026-03-20T10:00:00+08:00", "10000")
    world, lines = _fold(start([reference_plan]), *early, *later, late)
    # The later deals sit above 1,200,000 in the 7% band before and after the late
    # deal moved their base: only the late deal itself books a line.
    assert [line.deal_id for line in lines[-1:]] == ["D-7"]
    assert sum(1 for line in lines if line.source_event_ids == ("e-7",)) == 1
    in_order, _ = _fold(start([reference_plan]), *early, late, *later)
    assert _earned(world) == _earned(in_order)
    assert world.reps["R-17"].revenue == in_order.reps["R-17"].revenue


def test_without_a_sprint_a_late_deal_also_stops_at_the_top_band(
    reference_plan: Plan,
) -> None:
    plan = reference_plan.model_copy(update={"sprint": None})
    early = [_deal(n, f"2026-0{n}-01T10:00:00+08:00", "400000") for n in (1, 2, 3)]
    later = [_deal(n, f"2026-0{n}-01T10:00:00+08:00", "50000") for n in (4, 5, 6)]
    late = _deal(7, "2026-02-15T10:00:00+08:00", "10000")
    world, lines = _fold(start([plan]), *early, *later, late)
    # D-3 straddles 1,000,000 and re-slices; D-4..D-6 stay in the 7% band.
    moved = {line.deal_id for line in lines if line.source_event_ids == ("e-7",)}
    assert moved == {"D-7", "D-3"}
    in_order, _ = _fold(start([plan]), *early, late, *later)
    assert _earned(world) == _earned(in_order)


def test_a_world_keeps_digests_and_deal_terms_not_the_events_it_applied(
    reference_plan: Plan,
) -> None:
    world = start([reference_plan])
    for _, _, value in sample_events(600, seed=4):
        world, _ = evolve(world, decode_event(value))
    blob = pickle.dumps(world)
    kept = [name for name in _EVENT_TYPES if name.encode() in blob]
    assert kept == []
    assert len(world.seen) == 600
    assert all(isinstance(k, int) and isinstance(v, int) for k, v in world.seen.items())
    # A repeat is still recognised by its digest, and other content under the same
    # id is still a conflict.
    _, value = next((k, v) for t, k, v in sample_events(1, seed=4))
    again, step = evolve(world, decode_event(value))
    assert (again, step.lines, step.rejected) == (world, (), ())
    changed = orjson.loads(value) | {"amount": "1.00", "margin": "0"}
    _, step = evolve(world, decode_event(orjson.dumps(changed)))
    assert [r.code for r in step.rejected] == ["conflict"]


def test_cancelling_a_deal_a_late_deal_left_in_its_band_re_slices_from_its_place_now(
    reference_plan: Plan,
) -> None:
    a = _deal(1, "2026-01-01T10:00:00+08:00", "450000")
    b = _deal(2, "2026-03-01T10:00:00+08:00", "20000")
    c = _deal(3, "2026-04-01T10:00:00+08:00", "100000")
    late = _deal(4, "2026-02-01T10:00:00+08:00", "10000")
    # The late deal moves B from 450,000 to 460,000, inside the 3% band: B is not
    # rebooked. Cancelling B must re-slice C from B's place now (460,000).
    cancel = orjson.dumps(
        envelope("DealCancelled", "x-2", "2026-05-01T10:00:00+08:00", deal_id="D-2")
    )
    world, _ = _fold(start([reference_plan]), a, b, c, late, cancel)
    # 450,000 × 3% + 10,000 × 3% + C (40,000 × 3% + 60,000 × 5%) = 18,000.
    assert _earned(world) == Decimal("18000")
    without_b, _ = _fold(start([reference_plan]), a, late, c)
    assert _earned(without_b) == Decimal("18000")


def test_a_late_deal_in_a_year_of_two_plan_versions_re_slices_under_each_deals_plan(
    reference_plan: Plan,
) -> None:
    # From July a second version with a lower top edge: deals of the two halves of
    # the year stand under different bands, so no base is "settled" for both.
    july = "2026-07-01T00:00:00+08:00"
    second = reference_plan.model_copy(
        update={
            "version": 2,
            "effective_from": datetime.fromisoformat(july),
            "revenue_bands": (
                RateBand(lower=Decimal(0), upper=Decimal(300000), rate=Decimal("0.03")),
                RateBand(lower=Decimal(300000), rate=Decimal("0.06")),
            ),
        }
    )
    plans = [reference_plan, second]
    early = _deal(1, "2026-03-01T10:00:00+08:00", "1100000")
    later = [_deal(n, f"2026-08-{n:02d}T10:00:00+08:00", "100000") for n in (2, 3)]
    late = _deal(4, "2026-04-01T10:00:00+08:00", "50000")
    arrived, _ = _fold(start(plans), early, *later, late)
    in_order, _ = _fold(start(plans), early, late, *later)
    assert _earned(arrived) == _earned(in_order)
    assert list(arrived.reps["R-17"].plans["2026"]) == [
        ("reference", 1),
        ("reference", 2),
    ]


def test_a_line_reads_its_reason_when_asked_and_compares_by_its_words(
    reference_plan: Plan,
) -> None:
    _, lines = _fold(
        start([reference_plan]), _deal(1, "2026-03-01T10:00:00+08:00", "10")
    )
    (line,) = (line for line in lines if line.kind == "earned")
    again = Reason.given(line.formula, line.inputs)
    assert again == line.reason and hash(again) == hash(line.reason)
    assert repr(again) == f"Reason({line.formula!r})"
    assert "10.00 of revenue in band" in repr(line.reason)
