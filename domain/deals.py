"""Deal events: close, amend, cancel, pay, score, and forfeiture of what stays unpaid.

The deal record routes each fact to the reps it credits: deals carry their splits,
payments and satisfaction scores find their deal (and wait for it when they arrive
first). Every change to a rep's stake goes through ``domain.rep``'s positions, so
close, pay, score, amend, cancel and forfeit share one arithmetic. Instant rewards
fire while the deal is processed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from domain.booking import book, draft, points_draft
from domain.commission import Payment, PositionFacts
from domain.customers import index, unindex
from domain.events import (
    CustomerSeen,
    DealAmended,
    DealCancelled,
    DealClosed,
    PaymentReceived,
    PeriodClosed,
    SatisfactionRecorded,
)
from domain.frozen import updated
from domain.instant import (
    InstantAward,
    InstantState,
    on_deal,
    on_deal_amended,
    on_deal_cancelled,
)
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.periodbook import Cause, true_up
from domain.plan import Plan, SpiffWindow
from domain.pmap import PMap
from domain.points import points_for_review
from domain.rep import (
    Position,
    RepState,
    Source,
    cancel_position,
    change_position,
    open_position,
    record_score,
    reprice_position,
)
from domain.world import (
    Buyer,
    DealRecord,
    DealTerms,
    Lines,
    Paid,
    Refused,
    Scored,
    Share,
    Waiting,
    World,
    plan_at,
    plan_of,
    rep_of,
    shares_of,
    terms_digest,
)


def _plan_for(world: World, deal: DealClosed) -> Plan:
    plan = plan_at(world, deal.occurred_at)
    if plan.currency != deal.currency:
        msg = (
            f"deal currency {deal.currency} differs from plan currency {plan.currency}"
        )
        raise Refused("currency", msg)
    return plan


def _spiff_for(
    world: World, plan: Plan, deal: DealClosed | DealTerms
) -> SpiffWindow | None:
    """The SPIFF window the deal closed in; of several, the highest multiplier."""
    covering = [
        w
        for w in (*plan.spiffs, *world.spiffs)
        if w.covers(deal.occurred_at, deal.product_line, deal.region)
    ]
    return max(covering, key=lambda w: (w.multiplier, w.spiff_id), default=None)


def _counted(record: DealRecord) -> tuple[Payment, ...]:
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


def _facts(record: DealRecord, rep: RepState, split: Share) -> PositionFacts:
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
        payments=_counted(record),
        satisfied_by=score.event_id if score is not None else None,
        satisfaction_score=score.score if score is not None else None,
        forfeited_by=record.forfeited_by,
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
    plan = _plan_for(world, deal)
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
        spiff=_spiff_for(world, plan, deal),
        new_customer=_judged(world, deal),
    )
    reps, lines = world.reps, list[LedgerLine]()
    for split in record.splits:
        rep = rep_of(world, split.rep_id)
        source = Source(deal.event_id, deal.occurred_at)
        facts = _facts(record, rep, split)
        rep, booked = open_position(rep, facts, partial(plan_of, world), plan, source)
        rep, fired = _instant(rep, plan, deal, facts.credited)
        reps = reps.set(rep.rep_id, rep)
        lines.extend((*booked, *fired))
    deals, dues = world.deals.set(deal.deal_id, record), _dues(world, record)
    after = updated(world, deals=deals, reps=reps, dues=dues)
    cause = _cause(deal, deal.deal_id)
    after, trued = _true_ups(world, after, record.splits, record.closed, cause)
    after, judged = _in_history(after, record, Source(deal.event_id, deal.occurred_at))
    return _release_waiting(after, deal.deal_id, (*lines, *trued, *judged))


def _judged(world: World, deal: DealClosed) -> bool | None:
    """How the company's customer history judges a deal it already counts (in a
    stream partition, its ``CustomerSeen`` may come before the deal itself); None
    for a deal it does not know yet: its CRM flag stands until judged."""
    found = world.customers.get(deal.customer_id, ())
    return next(
        (b.new for b in found if b.deal_id == deal.deal_id and not b.cancelled), None
    )


def _in_history(
    world: World, record: DealRecord, source: Source, cancelled: bool = False
) -> tuple[World, Lines]:
    """SPEC §9, new customer: the deal in (or, cancelled, out of) its customer's
    history, and the deals whose judgement that changed, priced again. A world of
    some reps leaves the judgement to ``CustomerSeen`` (``domain.customers``)."""
    if world.awards_elsewhere:
        return world, ()
    terms = record.closed
    reps = tuple(split.rep_id for split in record.splits)
    flag = terms.new_customer
    buyer = Buyer(terms.occurred_at, terms.deal_id, flag, flag, reps)
    counted = unindex if cancelled else index
    customers, changed = counted(world.customers, terms.customer_id, buyer)
    world = updated(world, customers=customers)
    lines: list[LedgerLine] = []
    for buyer in changed:
        world, more = rejudge(world, buyer.deal_id, buyer.new, source, terms.deal_id)
        lines.extend(more)
    return world, tuple(lines)


def rejudge(
    world: World, deal_id: str, new: bool, source: Source, because: str
) -> tuple[World, Lines]:
    """A deal priced again as new to the company, or not, as its customer's history
    now says (``because`` names the deal whose arrival or cancellation moved it)."""
    record = world.deals.get(deal_id)
    if record is None or record.cancelled:
        return world, ()
    note = (
        f"new customer: {deal_id} is now its customer's first deal (after {because})"
        if new
        else f"not a new customer: {deal_id} has an earlier deal with its customer "
        f"(after {because})"
    )
    return _restate(world, updated(record, new_customer=new), source, note, record)


def see_customer(world: World, event: CustomerSeen) -> tuple[World, Lines]:
    """A deal as the company's customer history counts it, in a world of some reps
    (a stream partition's company facts); the partition prices again the deals of
    its reps whose judgement changed."""
    if not world.awards_elsewhere:
        msg = "CustomerSeen is QuotaFlow's own event, never accepted from upstream"
        raise Refused("internal_event", msg)
    flag = event.new_customer
    buyer = Buyer(event.closed_at, event.deal_id, flag, flag, event.reps)
    counted = unindex if event.cancelled else index
    customers, _ = counted(world.customers, event.customer_id, buyer)
    return updated(world, customers=customers), ()


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


def _instant(
    rep: RepState, plan: Plan, deal: DealClosed, credited: Decimal
) -> tuple[RepState, Lines]:
    """即时奖励: lightning and breakthrough fire while the deal is processed."""
    rules = plan.instant_rewards
    if rules is None:
        return rep, ()
    state, awards = on_deal(
        rep.instant,
        rep.rep_id,
        deal_id=deal.deal_id,
        event_id=deal.event_id,
        closed_at=deal.occurred_at,
        credited_amount=credited,
        new_customer=deal.new_customer,
        key_account=deal.key_account,
        rules=rules,
        customer_id=deal.customer_id,
    )
    return _book_instant(
        rep, state, awards, plan, deal, Source(deal.event_id, deal.occurred_at)
    )


def _book_instant(
    rep: RepState,
    state: InstantState,
    awards: tuple[InstantAward, ...],
    plan: Plan,
    deal: DealClosed | DealTerms,
    source: Source,
) -> tuple[RepState, Lines]:
    """Keep the rep's instant-reward memory and book the awards that fired."""
    drafts = [
        draft(
            plan,
            source,
            rep.rep_id,
            f"instant/{award.rule}/{n}",
            kind="bonus",
            rule=award.rule,
            amount=award.amount,
            formula=award.formula,
            deal_id=deal.deal_id,
            currency=award.currency,
            sources=award.source_event_ids,
        )
        for n, award in enumerate(awards, start=1)
    ]
    return book(updated(rep, instant=state), drafts)


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


def _plan(world: World, record: DealRecord) -> Plan:
    return plan_of(world, record.plan_id, record.plan_version)


def _open_record(world: World, deal_id: str, what: str) -> DealRecord:
    record = world.deals.get(deal_id)
    if record is None:
        raise Refused("unknown_deal", f"{what} refers to unknown deal {deal_id}")
    if record.cancelled:
        raise Refused("deal_cancelled", f"{what} refers to cancelled deal {deal_id}")
    return record


def _restate(
    world: World, record: DealRecord, source: Source, note: str, old: DealRecord
) -> tuple[World, Lines]:
    """Re-derive every credited rep's position from the deal record."""
    reps, lines = world.reps, list[LedgerLine]()
    plan, plans = _plan(world, record), partial(plan_of, world)
    shares = {s.rep_id: s for s in record.splits}
    for rep_id in dict.fromkeys([*(s.rep_id for s in old.splits), *shares]):
        rep = reps.get(rep_id) or RepState(rep_id=rep_id)
        position: Position | None = rep.positions.get(record.closed.deal_id)
        split = shares.get(rep_id)
        if position is None and split is not None:
            facts = _facts(record, rep, split)
            rep, booked = open_position(rep, facts, plans, plan, source)
        elif position is not None and split is None:
            rep, booked = cancel_position(
                rep, position, plans, source, "removed from the deal"
            )
        elif position is not None and split is not None:
            facts = _facts(record, rep, split)
            rep, booked = change_position(rep, position, facts, plans, source, note)
        else:  # pragma: no cover - a rep listed in neither split is not iterated
            continue
        reps = reps.set(rep_id, rep)
        lines.extend(booked)
    deals = world.deals.set(record.closed.deal_id, record)
    return updated(world, reps=reps, deals=deals), tuple(lines)


def amend(world: World, event: DealAmended) -> tuple[World, Lines]:
    record = _open_record(world, event.deal_id, "DealAmended")
    if event.currency != record.closed.currency:
        msg = f"amendment changes the currency from {record.closed.currency}"
        raise Refused("currency", msg)
    splits = shares_of(event.splits)
    new = updated(record, amount=event.amount, margin=event.margin, splits=splits)
    source = Source(event.event_id, event.occurred_at)
    after, lines = _restate(world, new, source, "deal amended", record)
    after, judged = _instant_amended(after, record, new, source)
    lines = (*lines, *judged)
    after = updated(after, dues=_dues(after, new))
    cause = _cause(event, event.deal_id)
    splits = (*record.splits, *new.splits)
    after, trued = _true_ups(world, after, splits, record.closed, cause)
    after, _ = _in_history(after, after.deals[event.deal_id], source)
    return after, (*lines, *trued)


def cancel(world: World, event: DealCancelled) -> tuple[World, Lines]:
    record = world.deals.get(event.deal_id)
    if record is None:
        raise Refused("unknown_deal", f"cannot cancel unknown deal {event.deal_id}")
    if record.cancelled:
        return world, ()
    reps, lines = world.reps, list[LedgerLine]()
    plan = _plan(world, record)
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
        rep, reversed_ = _instant_cancelled(rep, plan, record.closed, source)
        reps = reps.set(split.rep_id, rep)
        lines.extend((*booked, *reversed_))
    cancelled = updated(record, cancelled=True)
    deals = world.deals.set(event.deal_id, cancelled)
    after = updated(world, reps=reps, deals=deals)
    cause = _cause(event, event.deal_id)
    after, trued = _true_ups(world, after, record.splits, record.closed, cause)
    after, judged = _in_history(after, cancelled, source, cancelled=True)
    return after, (*lines, *trued, *judged)


def _instant_amended(
    world: World, old: DealRecord, new: DealRecord, source: Source
) -> tuple[World, Lines]:
    """即时奖励 re-judged after an amendment: each rep still on the deal with its
    credited amount as amended; a rep taken off it as if it were cancelled; a rep
    added as if the deal had just closed for them."""
    plan = _plan(world, new)
    rules = plan.instant_rewards
    if rules is None:
        return world, ()
    before = {s.rep_id: s for s in old.splits}
    after = {s.rep_id: s for s in new.splits}
    reps, lines = world.reps, list[LedgerLine]()
    deal = new.closed
    for rep_id in dict.fromkeys([*before, *after]):
        rep, split = rep_of(world, rep_id), after.get(rep_id)
        if split is None:
            rep, booked = _instant_cancelled(rep, plan, deal, source)
        elif rep_id not in before:
            state, awards = on_deal(
                rep.instant, rep_id, deal_id=deal.deal_id, event_id=source.event_id,
                closed_at=deal.occurred_at, credited_amount=new.amount * split.share,
                new_customer=deal.new_customer, key_account=deal.key_account,
                rules=rules, customer_id=deal.customer_id,
            )  # fmt: skip
            rep, booked = _book_instant(rep, state, awards, plan, deal, source)
        else:
            state, awards = on_deal_amended(
                rep.instant, rep_id, deal_id=deal.deal_id, event_id=source.event_id,
                credited_amount=new.amount * split.share, rules=rules,
            )  # fmt: skip
            rep, booked = _book_instant(rep, state, awards, plan, deal, source)
        if booked:
            reps = reps.set(rep_id, rep)
            lines.extend(booked)
    return updated(world, reps=reps), tuple(lines)


def _instant_cancelled(
    rep: RepState, plan: Plan, deal: DealTerms, source: Source
) -> tuple[RepState, Lines]:
    """即时奖励 clawback: an award whose condition no longer holds is reversed."""
    rules = plan.instant_rewards
    if rules is None:
        return rep, ()
    state, awards = on_deal_cancelled(
        rep.instant,
        rep.rep_id,
        deal_id=deal.deal_id,
        event_id=source.event_id,
        rules=rules,
    )
    return _book_instant(rep, state, awards, plan, deal, source)


def _wait(world: World, event: Waiting) -> tuple[World, Lines]:
    queued = (*world.waiting.get(event.deal_id, ()), event)
    return updated(world, waiting=world.waiting.set(event.deal_id, queued)), ()


def pay(world: World, event: PaymentReceived) -> tuple[World, Lines]:
    if event.deal_id not in world.deals:
        return _wait(world, event)
    record = _open_record(world, event.deal_id, "PaymentReceived")
    if event.currency != record.closed.currency:
        msg = f"payment in {event.currency} for a deal in {record.closed.currency}"
        raise Refused("currency", msg)
    same = next((p for p in record.payments if p.payment_id == event.payment_id), None)
    if same is not None:
        if same.amount == event.amount:
            return world, ()
        msg = f"payment {event.payment_id} was already received with another amount"
        raise Refused("conflict", msg)
    if record.forfeited_by is not None:
        msg = (
            f"deal {event.deal_id}'s commission was forfeited: nothing more to release"
        )
        raise Refused("forfeited", msg)
    paid = Paid(event.payment_id, event.event_id, event.amount, event.occurred_at)
    new = updated(record, payments=(*record.payments, paid))
    source = Source(event.event_id, event.occurred_at)
    return _restate(world, new, source, f"payment {event.payment_id}", record)


def score(world: World, event: SatisfactionRecorded) -> tuple[World, Lines]:
    if event.deal_id not in world.deals:
        return _wait(world, event)
    record = _open_record(world, event.deal_id, "SatisfactionRecorded")
    reps = world.reps
    for split in record.splits:
        rep = rep_of(world, split.rep_id)
        reps = reps.set(rep.rep_id, record_score(rep, event.score, event.occurred_at))
    world = updated(world, reps=reps)
    world, deducted = _negative_review(world, record, event)
    rule = _plan(world, record).satisfaction_bonus
    if record.satisfaction is not None or rule is None or event.score < rule.min_score:
        return world, deducted
    new = updated(record, satisfaction=Scored(event.event_id, event.score))
    source = Source(event.event_id, event.occurred_at)
    return _restate(world, new, source, f"satisfaction {event.score}", record)


def _negative_review(
    world: World, record: DealRecord, event: SatisfactionRecorded
) -> tuple[World, Lines]:
    """积分制 差评扣分: each credited rep loses points, never below a zero balance."""
    plan = _plan(world, record)
    if plan.points is None:
        return world, ()
    reps, lines = world.reps, list[LedgerLine]()
    deal_id = record.closed.deal_id
    for split in record.splits:
        rep = rep_of(world, split.rep_id)
        found = points_for_review(
            event.score, plan.points, rep_id=rep.rep_id, event_id=event.event_id
        )
        drafts = []
        for item in found:
            points = max(item.points, -max(rep.total("points"), ZERO))
            if points == ZERO:
                continue
            note = "" if points == item.points else " (floored at a zero balance)"
            floored = item.model_copy(
                update={"points": points, "formula": item.formula + note}
            )
            source = Source(event.event_id, event.occurred_at)
            inputs = (("score", str(event.score)),)
            drafts.append(
                points_draft(rep.rep_id, plan, floored, source, deal_id, inputs)
            )
        rep, booked = book(rep, drafts)
        reps = reps.set(rep.rep_id, rep)
        lines.extend(booked)
    return updated(world, reps=reps), tuple(lines)


def due_month(at: datetime) -> str:
    """The bucket of ``World.dues`` a due date falls in."""
    utc = at.astimezone(UTC)
    return f"{utc.year}-{utc.month:02d}"


def _dues(world: World, record: DealRecord) -> PMap[str, PMap[str, bool]]:
    """``World.dues`` with a deal whose commission can be forfeited under its plan."""
    if _plan(world, record).payment_speed is None:
        return world.dues
    month, deal_id = due_month(record.closed.payment_due_at), record.closed.deal_id
    bucket = world.dues.get(month) or PMap[str, bool]()
    return world.dues.set(month, bucket.set(deal_id, True))


def _settled(record: DealRecord) -> bool:
    """Nothing left to forfeit: cancelled, forfeited, or paid in full (an amendment
    that raises the amount puts the deal back in ``World.dues``)."""
    if record.cancelled or record.forfeited_by is not None:
        return True
    return sum((p.counted for p in _counted(record)), ZERO) >= record.amount


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
        spiff = _spiff_for(world, plan, terms)
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
            facts = _facts(new, rep, split)
            rep, booked = reprice_position(
                rep, position, facts, plan, source, f"re-priced: {why}"
            )
            reps = reps.set(rep.rep_id, rep)
            lines.extend(booked)
        deals = world.deals.set(deal_id, new)
        world = updated(world, reps=reps, deals=deals)
        world = updated(world, dues=_dues(world, new))
    return world, tuple(lines)


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
        rule = _plan(world, record).payment_speed
        if record.cancelled or record.forfeited_by is not None or rule is None:
            continue
        overdue = event.occurred_at - record.closed.payment_due_at
        paid = sum((p.counted for p in _counted(record)), ZERO)
        if overdue.days < rule.forfeit_after_days or paid >= record.amount:
            continue
        new = updated(record, forfeited_by=event.event_id)
        source = Source(event.event_id, event.occurred_at)
        world, booked = _restate(world, new, source, "commission forfeited", record)
        lines.extend(booked)
    dues = world.dues
    for month in months:
        bucket = dues[month]
        for deal_id in [d for d in bucket if _settled(world.deals[d])]:
            bucket = bucket.delete(deal_id)
        dues = dues.set(month, bucket) if bucket else dues.delete(month)
    return updated(world, dues=dues), tuple(lines)
