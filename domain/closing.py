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

from domain.awardbook import Closing, remember
from domain.booking import book
from domain.events import PeriodClosed
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.payments import forfeit_overdue
from domain.periodawards import Awarded, award_all
from domain.periodbook import Keyed, owed, settle
from domain.periods import period_end
from domain.planning import parent_unknown
from domain.rep import Source
from domain.world import Step, World, plan_at, rep_of


def close_period(world: World, event: PeriodClosed) -> tuple[World, Step]:
    period = event.period
    world, lines = forfeit_overdue(world, event)
    closes = sorted((*world.closes, (event.occurred_at, event.event_id)))
    world = updated(world, closes=tuple(closes))
    if period in world.closed_periods:
        return world, Step(lines=lines)
    ends_at = period_end(period, event.occurred_at)
    plan = plan_at(world, ends_at - timedelta(microseconds=1))
    source = Source(event.event_id, event.occurred_at)
    reps, booked = world.reps, list(lines)
    owing = dict[str, list[Keyed]]()
    for rep_id, target in _rep_targets(world, period):
        rep = rep_of(world, rep_id)
        owing[rep_id] = owed(rep, target, period, plan, source)
    # A world that holds only some reps (a stream partition) leaves the awards, which
    # compare reps with each other, to whoever gathers every part's share.
    awards = Awarded() if world.awards_elsewhere else award_all(world, event)
    drafts = dict[str, list[LedgerLine]]()
    for line in awards.lines:
        drafts.setdefault(line.rep_id, []).append(line)
    for rep_id in sorted({*owing, *drafts}):
        rep, settled = settle(
            rep_of(world, rep_id), period, owing.get(rep_id, []), plan, source
        )
        rep, more = book(rep, drafts.get(rep_id, ()))
        if settled or more:
            reps = reps.set(rep_id, rep)
        booked.extend((*settled, *more))
    closed = (*world.closed_periods, period)
    world = updated(world, reps=reps, closed_periods=closed)
    # What the close awarded (nothing here when the awards are made elsewhere: then
    # the record says which close made them, for the shares sent after it). A plan
    # without awards has nothing a later fact could change.
    if plan.awards is not None:
        made = remember(awards, Closing(period, event.event_id, event.occurred_at))
        world = updated(world, awards=world.awards.set(period, made))
    world, refused = parent_unknown(world, period)
    step = Step(
        lines=tuple(booked),
        rejected=refused,
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
