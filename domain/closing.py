"""PeriodClosed: what falls due when a month, quarter or year closes.

In this order: forfeiture of commission still unpaid long after its due date;
attainment-band commission (基础线-冲刺线-超越线) and attainment points (积分制) of
every rep with a target for the period, by ``rep_id``; then the period awards of SPEC
§3 (``domain.awards.period_awards``), from facts the fold derives here. Closing a
period again only forfeits what has become overdue since: nothing is paid twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from domain.awards import (
    AwardError,
    AwardLine,
    ClosedPeriod,
    PeriodAwards,
    RepPeriodFacts,
    TeamPeriodFacts,
    period_awards,
)
from domain.booking import book, draft, points_draft
from domain.deals import forfeit_overdue
from domain.events import PeriodClosed
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.money import ZERO, percent, to_cents
from domain.money import format_money as money
from domain.plan import Plan
from domain.points import points_for_attainment
from domain.rep import RepState, Source
from domain.targets import attainment_commission, profit_share
from domain.world import Person, Refused, Step, World, plan_at, rep_of


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
    awards = _awards(world, plan, ClosedPeriod(period=period, ends_at=ends_at))
    for line in awards.lines:
        drafts.setdefault(line.rep_id, []).append(_award_line(line, plan, source))
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


def period_end(period: str, at: datetime) -> datetime:
    """The first moment after ``period``, in the closing event's own UTC offset."""
    year = int(period[:4])
    if "-Q" in period:
        month = int(period[-1]) * 3 + 1
    elif "-" in period:
        month = int(period[5:]) + 1
    else:
        month = 13
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=at.tzinfo)


def previous_period(period: str) -> str:
    """The same kind of period just before: 2026 -> 2025, 2026-Q1 -> 2025-Q4."""
    year = int(period[:4])
    if "-Q" in period:
        quarter = int(period[-1]) - 1
        return f"{year - 1}-Q4" if quarter == 0 else f"{year}-Q{quarter}"
    if "-" in period:
        month = int(period[5:]) - 1
        return f"{year - 1}-12" if month == 0 else f"{year}-{month:02d}"
    return str(year - 1)


def _rep_targets(world: World, period: str) -> list[tuple[str, Decimal]]:
    found = []
    for node_id, periods in world.targets.targets.items():
        node = periods.get(period)
        if node is not None and node.level == "rep" and node.amount > ZERO:
            found.append((node_id, node.amount))
    return sorted(found)


def _cadence(period: str) -> str:
    if "-Q" in period:
        return "quarter"
    return "month" if "-" in period else "year"


def _attainment_lines(
    rep: RepState, target: Decimal, period: str, plan: Plan, source: Source
) -> list[LedgerLine]:
    """基础线-冲刺线-超越线 commission and 积分制 attainment points of one rep."""
    sales, found = rep.revenue_in(period), list[LedgerLine]()
    rule = plan.attainment_commission
    if rule is not None and rule.cadence == _cadence(period):
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
    if points is not None and points.attainment_cadence == _cadence(period):
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
    if rule is None or rule.cadence != _cadence(period):
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


def _people_in(world: World, closing: ClosedPeriod, start: datetime) -> list[Person]:
    return [
        p
        for p in world.people.values()
        if p.hired_at < closing.ends_at and (p.left_at is None or p.left_at >= start)
    ]


def _facts(world: World, person: Person, period: str) -> RepPeriodFacts:
    rep = rep_of(world, person.rep_id)
    target = world.targets.get(person.rep_id, period)
    quarters: list[Decimal] = []
    quarter = period if "-Q" in period else ""
    # Back to the first quarter without a target, at most two years: enough for any
    # promotion rule.
    while (
        len(quarters) < 8  # noqa: PLR2004 - eight quarters are two years
        and (node := world.targets.get(person.rep_id, quarter)) is not None
        and node.amount > ZERO
    ):
        quarters.insert(0, rep.revenue_in(quarter) / node.amount)
        quarter = previous_period(quarter)
    streak, year = 0, period[:4]
    while (node := world.targets.get(person.rep_id, year)) is not None and (
        node.amount > ZERO and rep.revenue_in(year) >= node.amount
    ):
        streak, year = streak + 1, previous_period(year)
    return RepPeriodFacts(
        rep_id=person.rep_id,
        team_id=person.team_id,
        role=person.role,
        grade=person.grade,
        hired_at=person.hired_at,
        revenue=max(rep.revenue_in(period), ZERO),
        target=target.amount if target is not None else ZERO,
        previous_revenue=max(rep.revenue_in(previous_period(period)), ZERO),
        quarterly_attainments=tuple(quarters),
        years_target_met_streak=streak,
        mentees_passed=rep.mentees_passed,
        service_satisfaction=_team_satisfaction(world, person.team_id, period),
        reached_revenue_at=_last_close(rep, period),
    )


def _team_satisfaction(world: World, team_id: str, period: str) -> Decimal | None:
    """Service satisfaction of a team: the mean score of its members' deals."""
    total, count = ZERO, 0
    for person in world.people.values():
        if person.team_id == team_id:
            score_sum, scores = rep_of(world, person.rep_id).scores_in(period)
            total, count = total + score_sum, count + scores
    return total / count if count else None


def _last_close(rep: RepState, period: str) -> datetime | None:
    closes = [
        p.facts.closed_at
        for p in rep.positions.values()
        if period in (p.year, p.quarter, p.month) and not p.cancelled
    ]
    return max(closes, default=None)


def _awards(world: World, plan: Plan, closing: ClosedPeriod) -> PeriodAwards:
    if plan.awards is None:
        return PeriodAwards()
    start = period_end(previous_period(closing.period), closing.ends_at)
    people = _people_in(world, closing, start)
    facts = [_facts(world, p, closing.period) for p in people]
    teams = []
    for team_id in sorted({p.team_id for p in people}):
        node = world.targets.get(team_id, closing.period)
        if node is not None and node.amount > ZERO:
            revenue = sum((f.revenue for f in facts if f.team_id == team_id), ZERO)
            teams.append(
                TeamPeriodFacts(team_id=team_id, revenue=revenue, target=node.amount)
            )
    try:
        return period_awards(
            closing,
            facts,
            teams,
            plan.awards,
            plan.currency,
            nominations=world.nominations,
            proposals=world.proposals,
        )
    except AwardError as exc:
        raise Refused("awards", str(exc)) from exc


def _award_line(line: AwardLine, plan: Plan, source: Source) -> LedgerLine:
    return draft(
        plan,
        source,
        line.rep_id,
        line.key,
        kind="bonus",
        rule=line.rule,
        amount=line.amount,
        formula=line.formula,
        inputs=line.inputs,
        currency=line.currency,
    )
