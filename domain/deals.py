"""Deal events: close, amend, cancel, and re-pricing by a plan or SPIFF that came late.

The deal record routes each fact to the reps it credits: deals carry their splits,
payments and satisfaction scores find their deal (``domain.payments``; they wait for
it when they arrive first). Every change to a rep's stake goes through
``domain.rep``'s positions (``domain.dealstate.restate``), so close, pay, score,
amend, cancel and forfeit share one arithmetic. Instant rewards fire while the deal
is processed (``domain.instantbook``); its customer's history judges it new or not
(``domain.newcustomers``); a closed period it counts in is trued up
(``domain.periodbook``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from domain.dealstate import (
    dues_with,
    facts_of,
    open_record,
    plan_for,
    record_plan,
    restate,
    spiff_for,
)
from domain.events import (
    DealAmended,
    DealCancelled,
    DealClosed,
    PaymentReceived,
)
from domain.frozen import updated
from domain.instantbook import instant_amended, instant_cancelled, instant_on_close
from domain.ledger import LedgerLine
from domain.newcustomers import in_history, judged_new
from domain.payments import forfeit_late, pay, score
from domain.periodbook import Cause, true_up
from domain.rep import (
    Source,
    cancel_position,
    open_position,
    reprice_position,
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
    rep_of,
    shares_of,
    terms_digest,
)


def close(world: World, deal: DealClosed) -> tuple[World, Lines]:
    known = world.deals.get(deal.deal_id)
    if known is not None:
        if known.closed.digest == terms_digest(deal):
            return world, ()  # the same fact from another source counts once
        msg = (
            f"deal {deal.deal_id} was already closed by {known.closed.event_id} with "
            "other terms; send a DealAmended to change it"
        )
        raise Refused("conflict", msg)
    plan = plan_for(world, deal)
    record = DealRecord(
        closed=DealTerms.of(deal),
        amount=deal.amount,
        margin=deal.margin,
        splits=shares_of(deal.splits),
        # 复购: the CRM knows the customer already; judged from the deal itself, so
        # it does not depend on which of the customer's deals arrived first.
        repeat_customer=not deal.new_customer,
        plan_id=plan.plan_id,
        plan_version=plan.version,
        spiff=spiff_for(world, plan, deal),
        new_customer=judged_new(world, deal),
    )
    reps, lines = world.reps, list[LedgerLine]()
    for split in record.splits:
        rep = rep_of(world, split.rep_id)
        source = Source(deal.event_id, deal.occurred_at)
        facts = facts_of(record, rep, split)
        rep, booked = open_position(rep, facts, partial(plan_of, world), plan, source)
        rep, fired = instant_on_close(rep, plan, deal, facts.credited)
        reps = reps.set(rep.rep_id, rep)
        lines.extend((*booked, *fired))
    deals, dues = world.deals.set(deal.deal_id, record), dues_with(world, record)
    after = updated(world, deals=deals, reps=reps, dues=dues)
    cause = _cause(deal, deal.deal_id)
    after, trued = _true_ups(world, after, record.splits, record.closed, cause)
    source = Source(deal.event_id, deal.occurred_at)
    after, judged = in_history(after, record, source)
    after, forfeited = forfeit_late(after, deal.deal_id, source)
    return _release_waiting(after, deal.deal_id, (*lines, *trued, *judged, *forfeited))


def _cause(event: DealClosed | DealAmended | DealCancelled, deal_id: str) -> Cause:
    return Cause(event.event_id, event.event_type, deal_id, event.occurred_at)


def _true_ups(
    before: World,
    after: World,
    splits: Iterable[Share],
    deal: DealTerms,
    cause: Cause,
) -> tuple[World, Lines]:
    """SPEC §9: a deal that changes a closed period's figures (arriving late, amended
    or cancelled) trues up each credited rep's period amounts."""
    if not before.closed_periods:
        return after, ()
    reps, lines = after.reps, list[LedgerLine]()
    for rep_id in dict.fromkeys(split.rep_id for split in splits):
        rep, booked = true_up(
            before,
            rep_of(before, rep_id),
            rep_of(after, rep_id),
            deal.occurred_at,
            cause,
        )
        if booked:
            reps = reps.set(rep_id, rep)
            lines.extend(booked)
    return (updated(after, reps=reps) if lines else after), tuple(lines)


def _release_waiting(world: World, deal_id: str, lines: Lines) -> tuple[World, Lines]:
    """Payments and scores that arrived before their deal apply now, in order."""
    queued = world.waiting.get(deal_id, ())
    if not queued:
        return world, lines
    waiting = world.waiting.delete(deal_id)
    world = updated(world, waiting=waiting)
    collected = list(lines)
    for event in queued:
        world, more = (
            pay(world, event)
            if isinstance(event, PaymentReceived)
            else score(world, event)
        )
        collected.extend(more)
    return world, tuple(collected)


def amend(world: World, event: DealAmended) -> tuple[World, Lines]:
    record = open_record(world, event.deal_id, "DealAmended")
    if event.currency != record.closed.currency:
        msg = f"amendment changes the currency from {record.closed.currency}"
        raise Refused("currency", msg)
    splits = shares_of(event.splits)
    new = updated(record, amount=event.amount, margin=event.margin, splits=splits)
    source = Source(event.event_id, event.occurred_at)
    after, lines = restate(world, new, source, "deal amended", record)
    after, judged = instant_amended(after, record, new, source)
    after, forfeited = forfeit_late(after, event.deal_id, source)
    lines = (*lines, *judged, *forfeited)
    after = updated(after, dues=dues_with(after, after.deals[event.deal_id]))
    cause = _cause(event, event.deal_id)
    splits = (*record.splits, *new.splits)
    after, trued = _true_ups(world, after, splits, record.closed, cause)
    after, _ = in_history(after, after.deals[event.deal_id], source)
    return after, (*lines, *trued)


def cancel(world: World, event: DealCancelled) -> tuple[World, Lines]:
    record = world.deals.get(event.deal_id)
    if record is None:
        raise Refused("unknown_deal", f"cannot cancel unknown deal {event.deal_id}")
    if record.cancelled:
        return world, ()
    reps, lines = world.reps, list[LedgerLine]()
    plan = record_plan(world, record)
    source = Source(event.event_id, event.occurred_at)
    for split in record.splits:
        rep = reps[split.rep_id]
        rep, booked = cancel_position(
            rep,
            rep.positions[event.deal_id],
            partial(plan_of, world),
            source,
            event.reason,
        )
        rep, reversed_ = instant_cancelled(rep, plan, record.closed, source)
        reps = reps.set(split.rep_id, rep)
        lines.extend((*booked, *reversed_))
    cancelled = updated(record, cancelled=True)
    deals = world.deals.set(event.deal_id, cancelled)
    after = updated(world, reps=reps, deals=deals)
    cause = _cause(event, event.deal_id)
    after, trued = _true_ups(world, after, record.splits, record.closed, cause)
    after, judged = in_history(after, cancelled, source, cancelled=True)
    return after, (*lines, *trued, *judged)


def reprice(world: World, source: Source, why: str) -> tuple[World, Lines]:
    """SPEC §9, plans and SPIFFs by event time: after a ``PlanPublished`` or
    ``SpiffAnnounced``, each open deal whose plan version or SPIFF window is no
    longer the one that covers it is priced again, exactly as if the rule had
    arrived first; only the difference is booked (``why`` says what arrived).
    Rules change a few times a year, so looking at every deal costs little."""
    lines: list[LedgerLine] = []
    for deal_id in sorted(world.deals):
        record = world.deals[deal_id]
        if record.cancelled:
            continue
        terms = record.closed
        try:
            plan = plan_at(world, terms.occurred_at)
        except Refused:  # pragma: no cover - a plan covered the deal when it closed
            continue
        if plan.currency != terms.currency:
            continue  # the deal keeps the plan it could be priced under
        spiff = spiff_for(world, plan, terms)
        if (plan.plan_id, plan.version, spiff) == (
            record.plan_id,
            record.plan_version,
            record.spiff,
        ):
            continue
        new = updated(record, plan_id=plan.plan_id, plan_version=plan.version,
                      spiff=spiff)  # fmt: skip
        reps = world.reps
        for split in new.splits:
            rep = rep_of(world, split.rep_id)
            position = rep.positions[deal_id]
            facts = facts_of(new, rep, split)
            rep, booked = reprice_position(
                rep, position, facts, plan, source, f"re-priced: {why}"
            )
            reps = reps.set(rep.rep_id, rep)
            lines.extend(booked)
        deals = world.deals.set(deal_id, new)
        world = updated(world, reps=reps, deals=deals)
        world = updated(world, dues=dues_with(world, new))
    return world, tuple(lines)
