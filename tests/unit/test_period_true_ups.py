"""SPEC §9: a closed period's attainment commission, profit share and attainment
points follow the deals behind them, whenever those deals arrive or change.

Hand-worked with examples/plans/full.yaml: a monthly target of 100,000; attainment
commission ≤80% at 1%, 80–120% at 1.5%, above at 2%; attainment points ten per 10%
step up to 100%, twenty above.
- sales 150,000 (150%): 800 + 600 + 600 = 2,000, and 100 + 100 = 200 points;
- sales  90,000 (90%):  800 + 150 = 950, and 90 points.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.engine import World
from domain.events import Event
from domain.ledger import LedgerLine
from domain.plan import Plan
from tests.factories import envelope
from tests.unit.test_engine import deal, event, fold, lines_of
from tests.unit.test_fold_period_close import close, tree

D = Decimal
MARCH = "2026-03"
CLOSED = "2026-04-01T00:00:00+08:00"
RULE = "attainment_band_commission"


def sale(n: int, amount: str, day: int = 10) -> Event:
    return deal(
        n,
        amount,
        occurred_at=f"2026-03-{day:02d}T10:00:00+08:00",
        payment_due_at="2026-06-30T00:00:00+08:00",
    )


def cancel(n: int, at: str = "2026-04-07T10:00:00+08:00") -> Event:
    return event(
        envelope("DealCancelled", f"x-{n}", at, deal_id=f"D-{n}", reason="lost")
    )


def amend(n: int, amount: str, at: str = "2026-04-08T10:00:00+08:00") -> Event:
    return event(
        envelope("DealAmended", f"a-{n}", at, deal_id=f"D-{n}", amount=amount,
                 margin="0.00", currency="CNY",
                 splits=[{"rep_id": "R-17", "share": "1"}])
    )  # fmt: skip


def summed(lines: list[LedgerLine], rule: str) -> Decimal:
    return sum((line.amount for line in lines if line.rule == rule), D(0))


def march(plan: Plan, events: list[Event]) -> tuple[World, list[LedgerLine]]:
    world, steps = fold(plan, [*tree(MARCH, "100000", {"R-17": "100000"}), *events])
    return world, lines_of(steps)


def test_a_deal_cancelled_after_its_month_closed_trues_the_commission_down_to_950(
    full_plan: Plan,
) -> None:
    _, lines = march(
        full_plan, [sale(1, "90000.00"), sale(2, "60000.00"), close(MARCH, CLOSED)]
    )
    assert summed(lines, RULE) == D(2000)
    _, lines = march(
        full_plan,
        [sale(1, "90000.00"), sale(2, "60000.00"), close(MARCH, CLOSED), cancel(2)],
    )
    assert summed(lines, RULE) == D(950)
    trued = [line for line in lines if "true-up" in line.formula]
    assert {line.rule for line in trued} == {RULE, "points_attainment_bands"}
    assert all(line.source_event_ids == ("x-2",) for line in trued)
    assert all(
        line.occurred_at.isoformat() == "2026-04-07T10:00:00+08:00" for line in trued
    )
    note = "true-up after DealCancelled D-2: 2026-03 attainment 150% → 90%"
    assert all(note in line.formula for line in trued)
    # The 80–120% band now holds 10,000 of sales (150, was 600); the band above
    # 120% holds nothing and is reversed.
    by_formula = {line.formula.split(" — ")[0]: line.amount for line in trued}
    assert by_formula == {
        "10,000.00 of 2026-03 sales in 80,000.00–120,000.00 (target 100,000.00) × "
        "1.5% = 150.00, was 600.00": D("-450.00"),
        "reversal of 600.00 booked": D("-600.00"),
        "attainment 90%: 9 × 10 (0%–100%) = 90 points, was 200 points": D(-110),
    }


def test_a_deal_of_a_closed_month_arriving_after_the_close_earns_up_to_2000(
    full_plan: Plan,
) -> None:
    world, lines = march(
        full_plan, [sale(1, "90000.00"), close(MARCH, CLOSED), sale(2, "60000.00")]
    )
    assert summed(lines, RULE) == D(2000)
    assert summed(lines, "points_attainment_bands") == D(200)
    late = [line for line in lines if line.source_event_ids == ("e-2",)]
    assert any("true-up after DealClosed D-2: 2026-03 attainment 90% → 150%"
               in line.formula for line in late)  # fmt: skip
    assert world.reps["R-17"].periods[MARCH] == (
        ("attainment/band0", "attainment/band1", "attainment/band2",
         "points/attainment_bands"),
        (D("800.00"), D("600.00"), D("600.00"), D(200)),
    )  # fmt: skip


def test_an_amendment_after_the_close_books_only_the_difference(
    full_plan: Plan,
) -> None:
    _, lines = march(
        full_plan, [sale(1, "150000.00"), close(MARCH, CLOSED), amend(1, "90000.00")]
    )
    assert summed(lines, RULE) == D(950)
    assert summed(lines, "points_attainment_bands") == D(90)


def test_the_totals_do_not_depend_on_where_the_close_falls(full_plan: Plan) -> None:
    deals = [sale(1, "90000.00", 3), sale(2, "60000.00", 20), sale(3, "35000.00", 25)]
    orders = [
        [*deals, cancel(3), close(MARCH, CLOSED)],
        [close(MARCH, CLOSED), *deals, cancel(3)],
        [deals[0], close(MARCH, CLOSED), deals[2], cancel(3), deals[1]],
    ]
    seen = set()
    for events in orders:
        world, _ = march(full_plan, events)
        rep = world.reps["R-17"]
        seen.add(tuple(sorted(rep.totals.items())))
    assert len(seen) == 1


def test_a_change_that_leaves_the_periods_figures_alone_books_no_true_up(
    full_plan: Plan,
) -> None:
    pay = event(
        envelope("PaymentReceived", "p-1", "2026-04-03T10:00:00+08:00",
                 payment_id="P-1", deal_id="D-1", amount="90000.00", currency="CNY")
    )  # fmt: skip
    _, lines = march(full_plan, [sale(1, "90000.00"), close(MARCH, CLOSED), pay])
    assert not any("true-up" in line.formula for line in lines)


def test_a_rep_with_no_target_for_the_closed_month_has_nothing_to_true_up(
    full_plan: Plan,
) -> None:
    _, steps = fold(
        full_plan, [sale(1, "90000.00"), close(MARCH, CLOSED), sale(2, "60000.00")]
    )
    assert summed(lines_of(steps), RULE) == D(0)


def test_a_late_deal_whose_offset_puts_the_periods_end_past_every_plan_is_booked(
    full_plan: Plan,
) -> None:
    """The close (at +08:00) finds the plan in force at the end of March; the end of
    March at -05:00 is past it. The late deal books its own commission and leaves
    the period's amounts as the close booked them."""
    ending = full_plan.model_copy(
        update={"effective_to": datetime.fromisoformat("2026-04-01T05:00:00+08:00")}
    )
    late = deal(2, "60000.00", occurred_at="2026-03-10T10:00:00-05:00",
                payment_due_at="2026-06-30T00:00:00-05:00")  # fmt: skip
    _, lines = march(ending, [sale(1, "90000.00"), close(MARCH, CLOSED), late])
    assert summed(lines, RULE) == D(950)
    assert summed(lines, "revenue_band_commission") > 0
