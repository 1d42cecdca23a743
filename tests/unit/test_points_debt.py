"""SPEC §9: points never go below zero. A clawback beyond the balance takes it to
zero and records the rest as points debt, repaid first from points earned later;
each step is a line (examples/plans/full.yaml's points)."""

from __future__ import annotations

from decimal import Decimal

from domain.engine import World
from domain.events import Event
from domain.ledger import LedgerLine
from domain.plan import Plan
from tests.factories import envelope
from tests.unit.test_engine import deal, event, fold, lines_of

D = Decimal


def redeem(points: str) -> Event:
    return event(envelope("PointsRedeemed", "r-1", "2026-03-15T00:00:00+08:00",
                          redemption_id="RD-1", rep_id="R-17", points=points,
                          reward="headset"))  # fmt: skip


def cancel(n: int) -> Event:
    return event(envelope("DealCancelled", f"x-{n}", "2026-03-16T00:00:00+08:00",
                          deal_id=f"D-{n}"))  # fmt: skip


def balance(world: World) -> Decimal:
    return world.reps["R-17"].total("points")


def by_rule(lines: list[LedgerLine]) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for line in lines:
        if line.kind == "points":
            found[line.rule] = found.get(line.rule, D(0)) + line.amount
    return found


def test_a_clawback_beyond_the_balance_is_recorded_as_debt_and_repaid_later(
    full_plan: Plan,
) -> None:
    # 125,000 to a new customer: 50 (new customer) + 30 (ticket size) = 80 points,
    # all redeemed; then the deal is cancelled: 80 clawed back from a balance of 0.
    earned = deal(1, "125000.00", new_customer=True)
    world, steps = fold(full_plan, [earned, redeem("80"), cancel(1)])
    assert balance(world) == 0
    assert world.reps["R-17"].points_debt == 80
    (debt,) = (line for line in steps[2].lines if line.rule == "points_debt_recorded")
    assert debt.amount == D(80)
    assert debt.formula == (
        "clawback beyond the balance: 80 points recorded as debt, balance back to 0 "
        "(debt now 80)"
    )
    # A repeat purchase earns 20: all of it repays the debt.
    later = deal(2, "50000.00", occurred_at="2026-03-20T10:00:00+08:00",
                 payment_due_at="2026-04-20T00:00:00+08:00")  # fmt: skip
    world, steps = fold(full_plan, [earned, redeem("80"), cancel(1), later])
    assert by_rule(list(steps[3].lines)) == {
        "points_repeat_purchase": D(20),
        "points_debt_repaid": D(-20),
    }
    assert (balance(world), world.reps["R-17"].points_debt) == (0, 60)


def test_points_beyond_the_debt_stay_on_the_balance(full_plan: Plan) -> None:
    big = deal(3, "600000.00", occurred_at="2026-03-21T10:00:00+08:00",
               payment_due_at="2026-04-21T00:00:00+08:00")  # fmt: skip
    world, steps = fold(
        full_plan,
        [deal(1, "125000.00", new_customer=True), redeem("80"), cancel(1), big],
    )
    # 20 (repeat purchase) + 80 (ticket size over 500,000) = 100: 80 repay the debt.
    assert by_rule(list(steps[3].lines))["points_debt_repaid"] == D(-80)
    assert (balance(world), world.reps["R-17"].points_debt) == (20, 0)
    assert min(_running(lines_of(steps))) >= 0


def _running(lines: list[LedgerLine]) -> list[Decimal]:
    """The balance after each step's points lines (never negative at a step's end,
    which is when a rep can see it)."""
    total, seen = D(0), []
    for line in lines:
        if line.kind == "points":
            total += line.amount
            if line.rule.startswith("points_debt"):
                seen.append(total)
    return seen


def test_a_balance_that_covers_the_clawback_records_no_debt(full_plan: Plan) -> None:
    world, steps = fold(full_plan, [deal(1, "125000.00", new_customer=True), cancel(1)])
    assert balance(world) == 0
    assert world.reps["R-17"].points_debt == 0
    assert not any(line.rule.startswith("points_debt") for line in lines_of(steps))
