"""配套保障: what an event books, accrued against its plan's budget per plan year."""

from __future__ import annotations

from decimal import Decimal

from domain.budget import BudgetAlert, BudgetState, accrue
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.world import Lines, World, plan_of

# Money that is earned or awarded runs against the budget; a payable line only
# releases what was earned, and points are not money.
ACCRUING_KINDS = frozenset({"earned", "bonus"})


def accrue_lines(world: World, lines: Lines) -> tuple[World, tuple[BudgetAlert, ...]]:
    """配套保障: one accrual per plan and plan year for what the event booked (money
    earned or awarded, and the payment-speed premium of a release), alerts on
    crossing. A deal's lines count in its close's year; a period's in that period's
    year; any other in the year it was booked."""
    by_plan: dict[tuple[str, int, str], Decimal] = {}
    sources: dict[tuple[str, int, str], list[str]] = {}
    for line in lines:
        if line.kind in ACCRUING_KINDS:
            amount = line.amount
        elif line.premium:
            amount = line.premium
        else:
            continue
        key = (line.plan_id, line.plan_version, plan_year(world, line))
        by_plan[key] = by_plan.get(key, ZERO) + amount
        sources.setdefault(key, []).extend(line.source_event_ids)
    budgets, alerts = dict(world.budgets), list[BudgetAlert]()
    for (plan_id, version, year), amount in by_plan.items():
        rules = plan_of(world, plan_id, version).budget
        if rules is None or amount == ZERO:
            continue
        name = f"{plan_id}/{year}"
        state, raised = accrue(
            budgets.get(name, BudgetState()),
            amount,
            rules,
            currency=rules.currency,
            source_event_ids=tuple(dict.fromkeys(sources[(plan_id, version, year)])),
            budget=name,
        )
        budgets[name] = state
        alerts.extend(raised)
    if budgets == world.budgets:
        return world, ()
    return updated(world, budgets=budgets), tuple(alerts)


def plan_year(world: World, line: LedgerLine) -> str:
    """The plan year a money line counts in: its deal's close year; for a line of
    no deal (a period's or its awards'), the period it names; else the year it
    was booked."""
    record = world.deals.get(line.deal_id)
    if record is not None:
        return str(record.closed.occurred_at.year)
    period = dict(line.inputs).get("period")
    return str(line.occurred_at.year) if period is None else str(period)[:4]
