"""The whole fold: ``evolve(world, event) -> (world, step)``, pure and deterministic.

Each event type has one handler (deals, plans and targets, people, period close).
The same ``event_id`` seen again changes nothing; the same id with other content is a
conflict. Business refusals come back as ``Rejection``s with a reason and leave the
world unchanged, so a corrected event with the same id can still be applied later.
Every money line an event books is accrued against its plan's budget (配套保障).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.accrual import ACCRUING_KINDS, accrue_lines
from domain.awardbook import Cause, joined, reaward, touched
from domain.closing import close_period
from domain.deals import amend, cancel, close
from domain.events import (
    ActivityLogged,
    AdjustmentBooked,
    CollaborationConfirmed,
    CustomerSeen,
    DealAmended,
    DealCancelled,
    DealClosed,
    Event,
    InquiryAnswered,
    InquiryRaised,
    NominationMade,
    PaymentReceived,
    PeriodClosed,
    PeriodLocked,
    PlanAcknowledged,
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
    StatementApproved,
    TargetsConfirmed,
)
from domain.frozen import updated
from domain.naturalkeys import Fact, fact_of
from domain.newcustomers import see_customer
from domain.payments import pay, score
from domain.payout import (
    acknowledge_plan,
    adjust,
    answer_inquiry,
    approve_statement,
    into_open_periods,
    lock_period,
    raise_inquiry,
)
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
    start,
)

__all__ = [
    "ACCRUING_KINDS",
    "Deferred",
    "Rejection",
    "Step",
    "World",
    "evolve",
    "node_attainment",
    "rep_attainment",
    "settle",
    "start",
]


class Deferred:
    """Closed periods whose awards a run of events changed, with the facts that
    changed them, in order: the awards are made again once per period when the run
    ends (``settle``), not after every fact (SPEC §9). Owned by the one fold that
    runs the events."""

    __slots__ = ("causes",)

    def __init__(self) -> None:
        self.causes: dict[str, list[Cause]] = {}


def evolve(
    world: World, event: Event, deferred: Deferred | None = None
) -> tuple[World, Step]:
    """Apply one event and return the new world with what the event produced.

    With ``deferred``, the awards of closed periods the event changed wait there
    for ``settle`` instead of being made again now."""
    if isinstance(event, CustomerSeen) and world.awards_elsewhere:
        # A merge (``domain.customers``): applied again it changes nothing, so no
        # digest of it is kept. One comes for every deal, to every stream partition.
        return see_customer(world, event)[0], Step()
    key, digest = event_key(event.event_id), event_digest(event)
    fact = fact_of(event)
    known = _known(world, event, key, digest, fact)
    if known is not None:
        return known
    try:
        stepped = _STEPS.get(type(event))
        if stepped is not None:
            after, step = stepped(world, event)
        else:
            after, lines = _HANDLERS[type(event)](world, event)
            step = Step(lines=lines)
    except Refused as exc:
        return world, Step(rejected=(Rejection(event.event_id, exc.code, exc.reason),))
    after, step = _awards_again(world, after, event, step, deferred)
    after, step = _follow_ups(after, step, Source(event.event_id, event.occurred_at))
    if after.locked and step.lines:
        step = step._replace(lines=into_open_periods(step.lines, after.locked))
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


def _known(
    world: World, event: Event, key: int, digest: int, fact: Fact | None
) -> tuple[World, Step] | None:
    """What the event gives when it, or the fact it states, was applied already: a
    repeat changes nothing, other content is a conflict (None: neither)."""
    prior = world.seen.get(key)
    if prior == digest:
        return world, Step()
    if prior is not None:
        reason = f"event_id {event.event_id} was already used for different content"
        return world, Step(rejected=(Rejection(event.event_id, "conflict", reason),))
    known = None if fact is None else world.facts.get(fact.key)
    if fact is not None and known == fact.content:  # the same fact, another source
        return updated(world, seen=world.seen.set(key, digest)), Step()
    if fact is not None and known is not None:
        reason = f"{fact.named} was already recorded with other content"
        return world, Step(rejected=(Rejection(event.event_id, "conflict", reason),))
    return None


def is_new(world: World, event: Event) -> bool:
    """Whether ``world`` has applied neither ``event``'s id nor the fact it states
    (``evolve`` would judge it rather than take it as a repeat or a conflict)."""
    key, digest = event_key(event.event_id), event_digest(event)
    return _known(world, event, key, digest, fact_of(event)) is None


def _awards_again(
    before: World, after: World, event: Event, step: Step, deferred: Deferred | None
) -> tuple[World, Step]:
    """The awards of the closed periods whose facts ``event`` changed: made again
    now, or left in ``deferred`` for the end of the run."""
    periods, what = touched(before, event)
    if not periods:
        return after, step
    cause = Cause(event.event_id, event.occurred_at, what)
    if deferred is not None:
        for period in periods:
            deferred.causes.setdefault(period, []).append(cause)
        return after, step
    after, trued = reaward(after, periods, cause)
    return after, step._replace(lines=(*step.lines, *trued))


def settle(world: World, deferred: Deferred) -> tuple[World, Step]:
    """The awards of each period in ``deferred`` made again once, the differences
    booked as one true-up that names the facts of the run; ``deferred`` emptied."""
    step, last = Step(), None
    for period, causes in deferred.causes.items():
        last = joined(causes)
        world, trued = reaward(world, (period,), last)
        step = step._replace(lines=(*step.lines, *trued))
    deferred.causes.clear()
    if last is None:
        return world, step
    world, step = _follow_ups(world, step, Source(last.event_id, last.at))
    if world.locked:  # made after a lock: off the locked months' statements
        step = step._replace(lines=into_open_periods(step.lines, world.locked))
    return world, step


def _follow_ups(world: World, step: Step, source: Source) -> tuple[World, Step]:
    """What every booked line may set off: points debt; the budget's accruals."""
    if not step.lines:
        return world, step
    world, debts = settle_points(world, step.lines, source)
    if debts:
        step = step._replace(lines=(*step.lines, *debts))
    world, alerts = accrue_lines(world, step.lines)
    return world, step._replace(alerts=alerts) if alerts else step


Handler = Callable[[World, Any], tuple[World, Lines]]
_STEPS: Mapping[type, Callable[[World, Any], tuple[World, Step]]] = {
    PeriodClosed: close_period,
    QuotaAssigned: assign_target,
    StatementApproved: approve_statement,
    PeriodLocked: lock_period,
    AdjustmentBooked: adjust,
    InquiryRaised: raise_inquiry,
    InquiryAnswered: answer_inquiry,
    PlanAcknowledged: acknowledge_plan,
}
"""Handlers whose step says more than lines (awards' candidates, refusals of the
targets that waited for the one placed, the payout cycle's records)."""
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
