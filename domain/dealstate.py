"""A deal as the fold keeps it, and the one way a change reaches the reps it
credits: the plan and SPIFF that price it, its payments as they count, each rep's
stake as ``domain.rep`` places it, and ``restate``, which every change of a deal
(payment, score, amendment, forfeiture, re-pricing) goes through."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from domain.commission import Payment, PositionFacts
from domain.events import (
    DealClosed,
)
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.plan import Plan, SpiffWindow
from domain.pmap import PMap
from domain.rep import (
    Position,
    RepState,
    Source,
    cancel_position,
    change_position,
    open_position,
)
from domain.world import (
    DealRecord,
    DealTerms,
    Lines,
    Refused,
    Share,
    World,
    plan_at,
    plan_of,
)


def plan_for(world: World, deal: DealClosed) -> Plan:
    plan = plan_at(world, deal.occurred_at)
    if plan.currency != deal.currency:
        msg = (
            f"deal currency {deal.currency} differs from plan currency {plan.currency}"
        )
        raise Refused("currency", msg)
    return plan


def spiff_for(
    world: World, plan: Plan, deal: DealClosed | DealTerms
) -> SpiffWindow | None:
    """The SPIFF window the deal closed in; of several, the highest multiplier."""
    covering = [
        w
        for w in (*plan.spiffs, *world.spiffs)
        if w.covers(deal.occurred_at, deal.product_line, deal.region)
    ]
    return max(covering, key=lambda w: (w.multiplier, w.spiff_id), default=None)


def counted(record: DealRecord) -> tuple[Payment, ...]:
    """Payments beyond the deal amount count for nothing more."""
    left, counted = record.amount, []
    for p in record.payments:
        part = min(p.amount, max(left, ZERO))
        left -= p.amount
        counted.append(
            Payment(
                payment_id=p.payment_id,
                event_id=p.event_id,
                amount=p.amount,
                counted=part,
                paid_at=p.occurred_at,
            )
        )
    return tuple(counted)


def facts_of(record: DealRecord, rep: RepState, split: Share) -> PositionFacts:
    """The rep's stake in the deal as it stands; ``domain.rep`` places it among the
    rep's deals (year-to-date base, sprint)."""
    deal = record.closed
    score = record.satisfaction
    return PositionFacts(
        rep_id=rep.rep_id,
        deal_id=deal.deal_id,
        credited=record.amount * split.share,
        amount=record.amount,
        currency=deal.currency,
        closed_at=deal.occurred_at,
        payment_due_at=deal.payment_due_at,
        new_customer=(
            deal.new_customer if record.new_customer is None else record.new_customer
        ),
        repeat_customer=record.repeat_customer,
        margin=record.margin,
        share=split.share,
        ytd_before=ZERO,
        sprint=False,
        spiff=record.spiff,
        payments=counted(record),
        satisfied_by=score.event_id if score is not None else None,
        satisfaction_score=score.score if score is not None else None,
        forfeited_by=record.forfeited_by,
    )


def record_plan(world: World, record: DealRecord) -> Plan:
    return plan_of(world, record.plan_id, record.plan_version)


def open_record(world: World, deal_id: str, what: str) -> DealRecord:
    record = world.deals.get(deal_id)
    if record is None:
        raise Refused("unknown_deal", f"{what} refers to unknown deal {deal_id}")
    if record.cancelled:
        raise Refused("deal_cancelled", f"{what} refers to cancelled deal {deal_id}")
    return record


def restate(
    world: World, record: DealRecord, source: Source, note: str, old: DealRecord
) -> tuple[World, Lines]:
    """Re-derive every credited rep's position from the deal record."""
    reps, lines = world.reps, list[LedgerLine]()
    plan, plans = record_plan(world, record), partial(plan_of, world)
    shares = {s.rep_id: s for s in record.splits}
    for rep_id in dict.fromkeys([*(s.rep_id for s in old.splits), *shares]):
        rep = reps.get(rep_id) or RepState(rep_id=rep_id)
        position: Position | None = rep.positions.get(record.closed.deal_id)
        split = shares.get(rep_id)
        if position is None and split is not None:
            facts = facts_of(record, rep, split)
            rep, booked = open_position(rep, facts, plans, plan, source)
        elif position is not None and split is None:
            rep, booked = cancel_position(
                rep, position, plans, source, "removed from the deal"
            )
        elif position is not None and split is not None:
            facts = facts_of(record, rep, split)
            rep, booked = change_position(rep, position, facts, plans, source, note)
        else:  # pragma: no cover - a rep listed in neither split is not iterated
            continue
        reps = reps.set(rep_id, rep)
        lines.extend(booked)
    deals = world.deals.set(record.closed.deal_id, record)
    return updated(world, reps=reps, deals=deals), tuple(lines)


def due_month(at: datetime) -> str:
    """The bucket of ``World.dues`` a due date falls in."""
    utc = at.astimezone(UTC)
    return f"{utc.year}-{utc.month:02d}"


def dues_with(world: World, record: DealRecord) -> PMap[str, PMap[str, bool]]:
    """``World.dues`` with a deal whose commission can be forfeited under its plan."""
    if record_plan(world, record).payment_speed is None:
        return world.dues
    month, deal_id = due_month(record.closed.payment_due_at), record.closed.deal_id
    bucket = world.dues.get(month) or PMap[str, bool]()
    return world.dues.set(month, bucket.set(deal_id, True))


def settled(record: DealRecord) -> bool:
    """Nothing left to forfeit: cancelled, forfeited, or paid in full (an amendment
    that raises the amount puts the deal back in ``World.dues``)."""
    if record.cancelled or record.forfeited_by is not None:
        return True
    return sum((p.counted for p in counted(record)), ZERO) >= record.amount
