"""The whole fold: ``evolve(world, event) -> (world, step)``, pure and deterministic.

Each event type has one handler (deals, plans and targets, people, period close).
The same ``event_id`` seen again changes nothing; the same id with other content is a
conflict. Business refusals come back as ``Rejection``s with a reason and leave the
world unchanged, so a corrected event with the same id can still be applied later.
Every money line an event books is accrued against its plan's budget (配套保障).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.awardbook import Cause, reaward, touched
from domain.budget import BudgetAlert, BudgetState, accrue
from domain.closing import close_period
from domain.deals import amend, cancel, close
from domain.events import (
    ActivityLogged,
    CollaborationConfirmed,
    CustomerSeen,
    DealAmended,
    DealCancelled,
    DealClosed,
    Event,
    NominationMade,
    PaymentReceived,
    PeriodClosed,
    PlanPublished,
    PointsRedeemed,
    ProposalAdopted,
    QuotaAdjusted,
    QuotaAssigned,
    RepHired,
    RepLeft,
    RepMoved,
    SatisfactionRecorded,
    SpiffAnnounced,
    TargetsConfirmed,
)
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.naturalkeys import fact_of
from domain.newcustomers import see_customer
from domain.payments import pay, score
from domain.people import (
    adopt_proposal,
    confirm_collaboration,
    hire,
    leave,
    log_activity,
    move,
    nominate,
    redeem_points,
)
from domain.planning import (
    adjust_target,
    announce,
    assign_target,
    confirm_targets,
    node_attainment,
    publish,
    rep_attainment,
)
from domain.pointsdebt import settle_points
from domain.rep import Source
from domain.world import (
    Lines,
    Refused,
    Rejection,
    Step,
    World,
    event_digest,
    event_key,
    plan_of,
    start,
)

__all__ = [
    "Rejection",
    "Step",
    "World",
    "evolve",
    "evolve_batch",
    "node_attainment",
    "rep_attainment",
    "start",
]

# Money that is earned or awarded runs against the budget; a payable line only
# releases what was earned, and points are not money.
ACCRUING_KINDS = frozenset({"earned", "bonus"})


def evolve(world: World, event: Event) -> tuple[World, Step]:
    """Apply one event and return the new world with what the event produced."""
    key, digest = event_key(event.event_id), event_digest(event)
    prior = world.seen.get(key)
    if prior == digest:
        return world, Step()
    if prior is not None:
        reason = f"event_id {event.event_id} was already used for different content"
        return world, Step(rejected=(Rejection(event.event_id, "conflict", reason),))
    fact = fact_of(event)
    known = None if fact is None else world.facts.get(fact.key)
    if fact is not None and known == fact.content:  # the same fact, another source
        return updated(world, seen=world.seen.set(key, digest)), Step()
    if fact is not None and known is not None:
        reason = f"{fact.named} was already recorded with other content"
        return world, Step(rejected=(Rejection(event.event_id, "conflict", reason),))
    try:
        stepped = _STEPS.get(type(event))
        if stepped is not None:
            after, step = stepped(world, event)
        else:
            after, lines = _HANDLERS[type(event)](world, event)
            step = Step(lines=lines)
    except Refused as exc:
        return world, Step(rejected=(Rejection(event.event_id, exc.code, exc.reason),))
    after, step = _follow_ups(world, after, event, step)
    seen = after.seen.set(key, digest)
    facts = after.facts if fact is None else after.facts.set(fact.key, fact.content)
    if after is world:
        after = updated(world, seen=seen, facts=facts)
    else:
        # A world the handler made for this event and nobody else holds yet: one copy
        # per event is enough (a World has 18 fields to copy).
        object.__setattr__(after, "seen", seen)
        object.__setattr__(after, "facts", facts)
    return after, step


def _follow_ups(
    before: World, after: World, event: Event, step: Step
) -> tuple[World, Step]:
    """What every applied event may set off: the awards of closed periods whose
    facts it changed, made again (SPEC §9); points debt; the budget's accruals."""
    periods, what = touched(before, event)
    if periods:
        cause = Cause(event.event_id, event.occurred_at, what)
        after, trued = reaward(after, periods, cause)
        if trued:
            step = step._replace(lines=(*step.lines, *trued))
    if not step.lines:
        return after, step
    source = Source(event.event_id, event.occurred_at)
    after, debts = settle_points(after, step.lines, source)
    if debts:
        step = step._replace(lines=(*step.lines, *debts))
    after, alerts = _accrue(after, step.lines)
    return after, step._replace(alerts=alerts) if alerts else step


def evolve_batch(world: World, events: Sequence[Event]) -> tuple[World, list[Step]]:
    """Apply a batch of events in the order they happened, and return each event's
    step at its own place in the batch.

    A consumer's batch interleaves partitions, so a rep's deals come out of close
    order and each late one re-slices the deals after it. Folded by ``occurred_at``
    (never an event before one that came before it under the same topic and key, as
    Kafka keeps them; a payment dated before its deal waits for it), the batch books
    what it would have booked in order: the same totals, and no true-up lines for what
    happened inside the batch. Ties keep their arrival order."""
    at: list[datetime] = []
    latest: dict[str, datetime] = {}
    for event in events:
        when, key = event.occurred_at, _chain(event)
        if key is not None:
            when = max(when, latest.get(key, when))
            latest[key] = when
        at.append(when)
    steps = [Step()] * len(events)
    for index in sorted(range(len(events)), key=at.__getitem__):
        world, steps[index] = evolve(world, events[index])
    return world, steps


_CHAINS: Mapping[str, tuple[str, str]] = {
    "DealClosed": ("deals", "deal_id"),
    "DealAmended": ("deals", "deal_id"),
    "DealCancelled": ("deals", "deal_id"),
    "PaymentReceived": ("payments", "deal_id"),
    "SatisfactionRecorded": ("satisfaction", "deal_id"),
    "QuotaAssigned": ("targets", "node_id"),
    "QuotaAdjusted": ("targets", "node_id"),
    "TargetsConfirmed": ("targets", "node_id"),
    "RepHired": ("org", "rep_id"),
    "RepMoved": ("org", "rep_id"),
    "RepLeft": ("org", "rep_id"),
    "ActivityLogged": ("activities", "rep_id"),
    "PointsRedeemed": ("activities", "rep_id"),
    "CollaborationConfirmed": ("activities", "helper_rep_id"),
    "PlanPublished": ("plans", "plan_id"),
}
"""The topic and key an event travels under (EVENTS.md): Kafka keeps the order of
one key's events on one topic, and so does ``evolve_batch``."""


def _chain(event: Event) -> str | None:
    found = _CHAINS.get(event.event_type)
    if found is None:
        return None
    topic, field = found
    return f"{topic}/{getattr(event, field)}"


def _accrue(world: World, lines: Lines) -> tuple[World, tuple[BudgetAlert, ...]]:
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
        key = (line.plan_id, line.plan_version, _plan_year(world, line))
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
        )
        budgets[name] = state
        alerts.extend(raised)
    if budgets == world.budgets:
        return world, ()
    return updated(world, budgets=budgets), tuple(alerts)


def _plan_year(world: World, line: LedgerLine) -> str:
    """The plan year a money line counts in: its deal's close year; for a line of
    no deal (a period's, whose reason is in words already), the period it names."""
    record = world.deals.get(line.deal_id)
    if record is not None:
        return str(record.closed.occurred_at.year)
    for name, value in line.inputs:
        if name == "period":
            return str(value)[:4]
    return str(line.occurred_at.year)


Handler = Callable[[World, Any], tuple[World, Lines]]
_STEPS: Mapping[type, Callable[[World, Any], tuple[World, Step]]] = {
    PeriodClosed: close_period,
    QuotaAssigned: assign_target,
}
"""Handlers whose step says more than lines (awards' candidates, refusals of the
targets that waited for the one placed)."""
_HANDLERS: Mapping[type, Handler] = {
    DealClosed: close,
    DealAmended: amend,
    DealCancelled: cancel,
    PaymentReceived: pay,
    SatisfactionRecorded: score,
    SpiffAnnounced: announce,
    PlanPublished: publish,
    QuotaAdjusted: adjust_target,
    TargetsConfirmed: confirm_targets,
    CustomerSeen: see_customer,
    RepHired: hire,
    RepMoved: move,
    RepLeft: leave,
    ActivityLogged: log_activity,
    CollaborationConfirmed: confirm_collaboration,
    PointsRedeemed: redeem_points,
    NominationMade: nominate,
    ProposalAdopted: adopt_proposal,
}
