"""Folding many events at once: a consumer's poll (``evolve_batch``) or a run of a
file (``evolve_run``). Either way the awards of closed periods that the events
changed are made again once, at the end, not after every late fact (SPEC §9)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from domain.engine import Deferred, evolve, settle
from domain.events import Event
from domain.world import Step, World


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
    return evolve_run(world, events, sorted(range(len(events)), key=at.__getitem__))


def evolve_run(
    world: World, events: Sequence[Event], order: Sequence[int] | None = None
) -> tuple[World, list[Step]]:
    """Apply ``events`` in ``order`` (their own by default), each step at its own
    place. The awards of closed periods the run changed are made again once at its
    end; their true-up, named after the facts that set it off, joins the step of the
    last event folded."""
    steps = [Step()] * len(events)
    deferred = Deferred()
    last = None
    for index in range(len(events)) if order is None else order:
        world, steps[index] = evolve(world, events[index], deferred)
        last = index
    world, trued = settle(world, deferred)
    if last is not None and trued != Step():
        steps[last] = _joined(steps[last], trued)
    return world, steps


def _joined(step: Step, more: Step) -> Step:
    return step._replace(
        lines=(*step.lines, *more.lines), alerts=(*step.alerts, *more.alerts)
    )


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
    "StatementApproved": ("activities", "rep_id"),
    "AdjustmentBooked": ("activities", "rep_id"),
    "InquiryRaised": ("activities", "rep_id"),
    "InquiryAnswered": ("activities", "rep_id"),
    "PlanAcknowledged": ("activities", "rep_id"),
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
