"""PeriodClosed: what falls due when a month, quarter or year closes.

In this order: forfeiture of commission still unpaid long after its due date;
attainment-band commission (基础线-冲刺线-超越线) and attainment points (积分制) of
every rep with a target for the period, by ``rep_id``; then the period awards of SPEC
§3 (``domain.awards.period_awards``), from facts the fold derives here. Closing a
period again only forfeits what has become overdue since: nothing is paid twice.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domain.booking import book, draft, points_draft
from domain.deals import forfeit_overdue
from domain.events import PeriodClosed
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.money import ZERO, percent, to_cents
from domain.money import format_money as money
from domain.periodawards import Awarded, award_all
from domain.periods import cadence_of, period_end
from domain.plan import Plan
from domain.points import points_for_attainment
from domain.rep import RepState, Source
from domain.targets import attainment_commission, profit_share
from domain.world import Step, World, plan_at, rep_of


def close_period(world: World, event: PeriodClosed) -> tuple[World, Step]:
    period = event.period
    world, lines = forfeit_overdue(world, event)
    if period in world.closed_periods:
        return world, Step(lines=lines)
    ends_at = period_end(period, event.occurred_at)
    plan = plan_at(world, ends_at - timedelta(microseconds=1))
    source = Source(event.event_id, event.occurred_at)
    reps, drafts = world.reps, dict[str, list[LedgerLine]]()
    for rep_id, target in _rep_targets(world, period):
        rep = rep_of(world, rep_id)
        found = _attainment_lines(rep, target, period, plan, source)
        drafts.setdefault(rep_id, []).extend(found)
    # A world that holds only some reps (a stream partition) leaves the awards, which
    # compare reps with each other, to whoever gathers every part's share.
    awards = Awarded() if world.awards_elsewhere else award_all(world, event)
    for line in awards.lines:
        drafts.setdefault(line.rep_id, []).append(line)
    booked = list(lines)
    for rep_id in sorted(drafts):
        rep, more = book(rep_of(world, rep_id), drafts[rep_id])
        reps = reps.set(rep_id, rep)
        booked.extend(more)
    closed = (*world.closed_periods, period)
    world = updated(world, reps=reps, closed_periods=closed)
    step = Step(
        lines=tuple(booked),
        candidates=awards.candidates,
        withheld=awards.withheld,
    )
    return world, step


def _rep_targets(world: World, period: str) -> list[tuple[str, Decimal]]:
    found = []
    for node_id, periods in world.targets.targets.items():
        node = periods.get(period)
        if node is not None and node.level == "rep" and node.amount > ZERO:
            found.append((node_id, node.amount))
    return sorted(found)


def _attainment_lines(
    rep: RepState, target: Decimal, period: str, plan: Plan, source: Source
) -> list[LedgerLine]:
    """基础线-冲刺线-超越线 commission and 积分制 attainment points of one rep."""
    sales, found = rep.revenue_in(period), list[LedgerLine]()
    rule = plan.attainment_commission
    if rule is not None and rule.cadence == cadence_of(period):
        for piece in attainment_commission(target, sales, rule):
            upper = "∞" if piece.upper is None else money(piece.upper)
            formula = f"{money(piece.amount)} of {period} sales in "
            formula += f"{money(piece.lower)}–{upper} (target {money(target)}) × "
            formula += percent(piece.rate)
            found.append(
                draft(
                    plan,
                    source,
                    rep.rep_id,
                    f"attainment/band{piece.band_index}",
                    kind="earned",
                    rule="attainment_band_commission",
                    amount=to_cents(piece.earned),
                    formula=formula,
                    inputs=(
                        ("period", period),
                        ("sales", str(sales)),
                        ("target", str(target)),
                        ("rate", str(piece.rate)),
                    ),
                )
            )
    found += _profit_share(rep, target, period, plan, source)
    points = plan.points
    if points is not None and points.attainment_cadence == cadence_of(period):
        for item in points_for_attainment(
            rep.rep_id, sales / target, points, event_id=source.event_id
        ):
            inputs = (("period", period), ("sales", str(sales)))
            found.append(points_draft(rep.rep_id, plan, item, source, "", inputs))
    return [line for line in found if line.amount != ZERO]


def _profit_share(
    rep: RepState, target: Decimal, period: str, plan: Plan, source: Source
) -> list[LedgerLine]:
    """超额利润分享: the credited margin above the profit target, tier by tier."""
    rule = plan.profit_share
    if rule is None or rule.cadence != cadence_of(period):
        return []
    profit, goal = rep.margin_in(period), target * rule.target_margin
    return [
        draft(
            plan,
            source,
            rep.rep_id,
            f"profit_share/tier{piece.band_index}",
            kind="bonus",
            rule="profit_share",
            amount=to_cents(piece.earned),
            formula=(
                f"{money(piece.amount)} of {period} profit above the target "
                f"{money(goal)} ({money(target)} × {percent(rule.target_margin)}) "
                f"in tier {money(piece.lower)}–"
                f"{'∞' if piece.upper is None else money(piece.upper)}"
                f" × {percent(piece.rate)}"
            ),
            inputs=(
                ("period", period),
                ("profit", str(profit)),
                ("profit_target", str(goal)),
                ("rate", str(piece.rate)),
            ),
        )
        for piece in profit_share(profit, goal, rule)
    ]
