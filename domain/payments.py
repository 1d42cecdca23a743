"""Payments, satisfaction scores and forfeiture: what a deal's cash and its
customer's view release or take back. A payment or score that arrives before its
deal waits for it."""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timedelta
from itertools import islice

from domain.booking import book, points_draft
from domain.dealstate import (
    counted,
    due_month,
    open_record,
    record_plan,
    restate,
    settled,
)
from domain.events import (
    PaymentReceived,
    PeriodClosed,
    SatisfactionRecorded,
)
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.points import points_for_review
from domain.rep import (
    Source,
    record_score,
)
from domain.world import (
    DealRecord,
    Lines,
    Paid,
    Refused,
    Scored,
    Waiting,
    World,
    rep_of,
)


def _wait(world: World, event: Waiting) -> tuple[World, Lines]:
    queued = (*world.waiting.get(event.deal_id, ()), event)
    return updated(world, waiting=world.waiting.set(event.deal_id, queued)), ()


def pay(world: World, event: PaymentReceived) -> tuple[World, Lines]:
    if event.deal_id not in world.deals:
        return _wait(world, event)
    record = open_record(world, event.deal_id, "PaymentReceived")
    if event.currency != record.closed.currency:
        msg = f"payment in {event.currency} for a deal in {record.closed.currency}"
        raise Refused("currency", msg)
    same = next((p for p in record.payments if p.payment_id == event.payment_id), None)
    if same is not None:
        if same.amount == event.amount:
            return world, ()
        msg = f"payment {event.payment_id} was already received with another amount"
        raise Refused("conflict", msg)
    if record.forfeited_by is not None and not _before_forfeiture(record, event):
        msg = (
            f"deal {event.deal_id}'s commission was forfeited: nothing more to release"
        )
        raise Refused("forfeited", msg)
    paid = Paid(event.payment_id, event.event_id, event.amount, event.occurred_at)
    new = updated(record, payments=(*record.payments, paid))
    if new.forfeited_by is not None and _paid_in_full(new):
        # Paid in full as of the close that forfeited it: it forfeits nothing.
        new = updated(new, forfeited_by=None, forfeited_at=None)
    source = Source(event.event_id, event.occurred_at)
    return restate(world, new, source, f"payment {event.payment_id}", record)


def forfeit_late(world: World, deal_id: str, source: Source) -> tuple[World, Lines]:
    """A deal that arrives (or is amended) after a close dated after it that would
    have forfeited its commission (SPEC §9): forfeited as of the first such close,
    by what had been paid by then. Its payments dated before that close still
    count when they come (``pay``)."""
    record = world.deals[deal_id]
    rule = record_plan(world, record).payment_speed
    if rule is None or record.forfeited_by is not None or record.cancelled:
        return world, ()
    due = record.closed.payment_due_at
    # ``closes`` is in date order: only those from the deal's own date on count.
    later = islice(world.closes, bisect_left(world.closes, (source.at,)), None)
    found = next(
        ((at, event_id) for at, event_id in later
         if (at - due).days >= rule.forfeit_after_days
         and not _paid_in_full(record, by=at)),
        None,
    )  # fmt: skip
    if found is None:
        return world, ()
    at, event_id = found
    new = updated(record, forfeited_by=event_id, forfeited_at=at)
    return restate(world, new, source, f"commission forfeited as of {event_id}", record)


def _before_forfeiture(record: DealRecord, event: PaymentReceived) -> bool:
    """A payment dated before the close that forfeited the deal's commission (sent
    late): it counts, and the forfeiture is judged again with it."""
    at = record.forfeited_at
    return at is not None and event.occurred_at <= at


def _paid_in_full(record: DealRecord, by: datetime | None = None) -> bool:
    """Whether the deal's payments (those dated up to ``by``) cover its amount."""
    paid = (p.counted for p in counted(record) if by is None or p.paid_at <= by)
    return sum(paid, ZERO) >= record.amount


def score(world: World, event: SatisfactionRecorded) -> tuple[World, Lines]:
    if event.deal_id not in world.deals:
        return _wait(world, event)
    # A score of a cancelled deal still happened (SPEC §9: whatever the order of the
    # score and the cancellation): it counts for the team and its review's points,
    # and the cancelled deal has no bonus to give.
    record = world.deals[event.deal_id]
    reps = world.reps
    for split in record.splits:
        rep = rep_of(world, split.rep_id)
        reps = reps.set(rep.rep_id, record_score(rep, event.score, event.occurred_at))
    world = updated(world, reps=reps)
    world, deducted = _negative_review(world, record, event)
    rule = record_plan(world, record).satisfaction_bonus
    if (
        record.cancelled
        or record.satisfaction is not None
        or rule is None
        or event.score < rule.min_score
    ):
        return world, deducted
    new = updated(record, satisfaction=Scored(event.event_id, event.score))
    source = Source(event.event_id, event.occurred_at)
    return restate(world, new, source, f"satisfaction {event.score}", record)


def _negative_review(
    world: World, record: DealRecord, event: SatisfactionRecorded
) -> tuple[World, Lines]:
    """积分制 差评扣分: each credited rep loses the review's points; what goes beyond
    the balance becomes points debt (``domain.pointsdebt``), so the order of the
    review and the other points lines does not matter."""
    plan = record_plan(world, record)
    if plan.points is None:
        return world, ()
    reps, lines = world.reps, list[LedgerLine]()
    deal_id = record.closed.deal_id
    for split in record.splits:
        rep = rep_of(world, split.rep_id)
        found = points_for_review(
            event.score, plan.points, rep_id=rep.rep_id, event_id=event.event_id
        )
        source = Source(event.event_id, event.occurred_at)
        inputs = (("score", str(event.score)),)
        drafts = [
            points_draft(rep.rep_id, plan, item, source, deal_id, inputs)
            for item in found
        ]
        rep, booked = book(rep, drafts)
        reps = reps.set(rep.rep_id, rep)
        lines.extend(booked)
    return updated(world, reps=reps), tuple(lines)


def forfeit_overdue(world: World, event: PeriodClosed) -> tuple[World, Lines]:
    """Forfeit what is still unpaid long after its due date. Only deals due in a
    month that can be overdue by now are looked at; those settled leave the index."""
    after = [p.payment_speed.forfeit_after_days for p in world.plans if p.payment_speed]
    if not after or not world.dues:
        return world, ()
    last = due_month(event.occurred_at - timedelta(days=min(after)))
    months = sorted(month for month in world.dues if month <= last)
    lines: list[LedgerLine] = []
    for deal_id in sorted(d for month in months for d in world.dues[month]):
        record = world.deals[deal_id]
        rule = record_plan(world, record).payment_speed
        if record.cancelled or record.forfeited_by is not None or rule is None:
            continue
        overdue = event.occurred_at - record.closed.payment_due_at
        if overdue.days < rule.forfeit_after_days or _paid_in_full(record):
            continue
        new = updated(
            record, forfeited_by=event.event_id, forfeited_at=event.occurred_at
        )
        source = Source(event.event_id, event.occurred_at)
        world, booked = restate(world, new, source, "commission forfeited", record)
        lines.extend(booked)
    dues = world.dues
    for month in months:
        bucket = dues[month]
        for deal_id in [d for d in bucket if settled(world.deals[d])]:
            bucket = bucket.delete(deal_id)
        dues = dues.set(month, bucket) if bucket else dues.delete(month)
    return updated(world, dues=dues), tuple(lines)
