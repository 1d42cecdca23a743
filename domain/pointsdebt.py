"""积分制: a points balance never goes below zero (SPEC §4, §9).

A clawback (a deal cancelled or reduced) reverses the points the deal earned, by its
own lines, whatever the balance. Where that would take the balance below zero, a
further line brings it back to zero and records the rest as points debt; points
earned later repay the debt first, each repayment a line. So every step is a ledger
line, the deal's own lines still say what it earned and lost, and the balance a rep
sees (the sum of their points lines) is never negative.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.booking import book, draft
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.points import pts
from domain.rep import RepState, Source
from domain.world import World, plan_of, rep_of


def settle_points(
    world: World, lines: Iterable[LedgerLine], source: Source
) -> tuple[World, tuple[LedgerLine, ...]]:
    """After an event: the debt lines of each rep whose points it moved."""
    moved: dict[str, LedgerLine] = {}
    for line in lines:
        if line.kind == "points":
            moved[line.rep_id] = line
    if not moved:
        return world, ()
    reps, booked = world.reps, list[LedgerLine]()
    for rep_id, last in moved.items():
        rep, more = _settle(world, rep_of(world, rep_id), last, source)
        if more:
            reps = reps.set(rep_id, rep)
            booked.extend(more)
    if not booked:
        return world, ()
    return updated(world, reps=reps), tuple(booked)


def _settle(
    world: World, rep: RepState, last: LedgerLine, source: Source
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    balance, debt = rep.total("points"), rep.points_debt
    if balance < ZERO:
        owed = -balance
        formula = (
            f"clawback beyond the balance: {pts(owed)} points recorded as debt, "
            f"balance back to 0 (debt now {pts(debt + owed)})"
        )
        rule, amount, debt = "points_debt_recorded", owed, debt + owed
    elif balance > ZERO and debt > ZERO:
        repaid = min(balance, debt)
        formula = (
            f"{pts(repaid)} points repay points debt of {pts(debt)} "
            f"(debt now {pts(debt - repaid)})"
        )
        rule, amount, debt = "points_debt_repaid", -repaid, debt - repaid
    else:
        return rep, ()
    plan = plan_of(world, last.plan_id, last.plan_version)
    line = draft(
        plan,
        source,
        rep.rep_id,
        f"points/{rule}",
        kind="points",
        rule=rule,
        amount=amount,
        formula=formula,
        inputs=(("balance", str(balance)), ("debt", str(debt))),
    )
    return book(updated(rep, points_debt=debt), (line,))
