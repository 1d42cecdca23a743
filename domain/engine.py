"""The whole fold: ``evolve(world, event) -> (world, step)``, pure and deterministic.

The world routes each fact to the reps it credits: deals carry their splits, payments
and satisfaction scores find their deal (and wait for it when they arrive first).
Business refusals come back as ``Rejection``s with a reason; the world is then
unchanged, so a corrected event with the same id can still be applied later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError

from domain.commission import Payment, PositionFacts
from domain.events import (
    DealAmended,
    DealCancelled,
    DealClosed,
    Event,
    PaymentReceived,
    PeriodClosed,
    PlanPublished,
    QuotaAdjusted,
    QuotaAssigned,
    SatisfactionRecorded,
    SpiffAnnounced,
    Split,
)
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.plan import Plan, SpiffWindow
from domain.rep import (
    Position,
    RepState,
    Source,
    cancel_position,
    change_position,
    open_position,
    sprint_holds,
    top_of_bands,
)
from domain.targets import (
    ParentMissing,
    TargetBook,
    TargetError,
    TargetNode,
    TargetRules,
    adjust,
    assign,
    attainment,
)

Waiting = PaymentReceived | SatisfactionRecorded


class Rejection(NamedTuple):
    event_id: str
    code: str
    reason: str


class Step(NamedTuple):
    lines: tuple[LedgerLine, ...] = ()
    rejected: tuple[Rejection, ...] = ()


class Refused(Exception):
    """Raised inside a handler; turned into a ``Rejection`` by ``evolve``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class DealRecord(BaseModel):
    """A deal as it stands: current terms, plan, payments, score, status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    closed: DealClosed
    amount: Decimal
    splits: tuple[Split, ...]
    plan_id: str
    plan_version: int
    spiff: SpiffWindow | None
    payments: tuple[PaymentReceived, ...] = ()
    satisfaction: SatisfactionRecorded | None = None
    cancelled: bool = False
    forfeited_by: str | None = None


class World(BaseModel):
    """Everything the fold knows. Mappings are replaced, never mutated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plans: tuple[Plan, ...] = ()
    spiffs: tuple[SpiffWindow, ...] = ()
    seen: Mapping[str, str] = {}
    deals: Mapping[str, DealRecord] = {}
    waiting: Mapping[str, tuple[Waiting, ...]] = {}
    reps: Mapping[str, RepState] = {}
    targets: TargetBook = TargetBook()
    # Children whose parent target has not arrived yet, by (parent_id, period).
    orphans: Mapping[str, tuple[QuotaAssigned, ...]] = {}


def start(plans: Iterable[Plan]) -> World:
    return World(plans=tuple(plans))


def fingerprint(event: Event) -> str:
    return hashlib.blake2b(event.model_dump_json().encode(), digest_size=16).hexdigest()


def evolve(world: World, event: Event) -> tuple[World, Step]:
    """Apply one event. The same event_id seen again changes nothing; the same id
    with other content is a conflict."""
    mark = fingerprint(event)
    prior = world.seen.get(event.event_id)
    if prior == mark:
        return world, Step()
    if prior is not None:
        reason = f"event_id {event.event_id} was already used for different content"
        return world, Step(rejected=(Rejection(event.event_id, "conflict", reason),))
    handler = _HANDLERS.get(type(event))
    if handler is None:
        reason = f"{event.event_type} is not folded by this engine version yet"
        return world, Step(rejected=(Rejection(event.event_id, "unsupported", reason),))
    try:
        after, lines = handler(world, event)
    except Refused as exc:
        return world, Step(rejected=(Rejection(event.event_id, exc.code, exc.reason),))
    seen = {**after.seen, event.event_id: mark}
    return after.model_copy(update={"seen": seen}), Step(lines=lines)


Lines = tuple[LedgerLine, ...]


def _plan_for(world: World, deal: DealClosed) -> Plan:
    at = deal.occurred_at
    candidates = [p for p in world.plans if p.in_force(at)]
    if not candidates:
        raise Refused("no_plan", f"no plan is in force at {at.isoformat()}")
    # The most recently effective version wins; an undated plan is the oldest.
    plan = max(
        candidates,
        key=lambda p: (p.effective_from is not None, p.effective_from or at, p.version),
    )
    if plan.currency != deal.currency:
        msg = (
            f"deal currency {deal.currency} differs from plan currency {plan.currency}"
        )
        raise Refused("currency", msg)
    return plan


def _spiff_for(world: World, plan: Plan, deal: DealClosed) -> SpiffWindow | None:
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


def _facts(
    record: DealRecord, rep: RepState, split: Split, ytd: Decimal
) -> PositionFacts:
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
        new_customer=deal.new_customer,
        ytd_before=ytd,
        sprint=False,
        spiff=record.spiff,
        payments=_counted(record),
        satisfied_by=score.event_id if score is not None else None,
        satisfaction_score=score.score if score is not None else None,
        forfeited_by=record.forfeited_by,
    )


def _rep(world: World, rep_id: str) -> RepState:
    return world.reps.get(rep_id) or RepState(rep_id=rep_id)


def _close(world: World, deal: DealClosed) -> tuple[World, Lines]:
    known = world.deals.get(deal.deal_id)
    if known is not None:
        if _terms(known.closed) == _terms(deal):
            return world, ()  # the same fact from another source counts once
        msg = (
            f"deal {deal.deal_id} was already closed by {known.closed.event_id} with "
            "other terms; send a DealAmended to change it"
        )
        raise Refused("conflict", msg)
    plan = _plan_for(world, deal)
    record = DealRecord(
        closed=deal,
        amount=deal.amount,
        splits=deal.splits,
        plan_id=plan.plan_id,
        plan_version=plan.version,
        spiff=_spiff_for(world, plan, deal),
    )
    reps, lines = dict(world.reps), list[LedgerLine]()
    for split in deal.splits:
        rep = _rep(world, split.rep_id)
        facts = _facts(record, rep, split, rep.ytd_revenue(deal.occurred_at.year))
        facts = facts.model_copy(
            update={"sprint": sprint_holds(rep, deal.occurred_at, plan)}
        )
        reps[rep.rep_id], booked = open_position(rep, facts, plan, deal.event_id)
        lines.extend(booked)
    world = world.model_copy(
        update={"deals": {**world.deals, deal.deal_id: record}, "reps": reps}
    )
    return _release_waiting(world, deal.deal_id, tuple(lines))


def _terms(deal: DealClosed) -> str:
    return deal.model_dump_json(exclude={"event_id", "source", "schema_version"})


def _release_waiting(world: World, deal_id: str, lines: Lines) -> tuple[World, Lines]:
    """Payments and scores that arrived before their deal apply now, in order."""
    queued = world.waiting.get(deal_id, ())
    if not queued:
        return world, lines
    waiting = {k: v for k, v in world.waiting.items() if k != deal_id}
    world = world.model_copy(update={"waiting": waiting})
    collected = list(lines)
    for event in queued:
        world, more = _HANDLERS[type(event)](world, event)
        collected.extend(more)
    return world, tuple(collected)


def plan_of(world: World, record: DealRecord) -> Plan:
    return next(
        p
        for p in world.plans
        if (p.plan_id, p.version) == (record.plan_id, record.plan_version)
    )


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
    reps, lines = dict(world.reps), list[LedgerLine]()
    plan = plan_of(world, record)
    shares = {s.rep_id: s for s in record.splits}
    for rep_id in dict.fromkeys([*(s.rep_id for s in old.splits), *shares]):
        rep = reps.get(rep_id) or RepState(rep_id=rep_id)
        position: Position | None = rep.positions.get(record.closed.deal_id)
        split = shares.get(rep_id)
        if position is None and split is not None:
            deal = record.closed
            facts = _facts(record, rep, split, rep.ytd_revenue(deal.occurred_at.year))
            facts = facts.model_copy(
                update={"sprint": sprint_holds(rep, deal.occurred_at, plan)}
            )
            rep, booked = open_position(rep, facts, plan, source.event_id)
        elif position is not None and split is None:
            rep, booked = cancel_position(
                rep, position, plan, source, "removed from the deal"
            )
        elif position is not None and split is not None:
            ytd = position.facts.ytd_before
            if record.amount != old.amount or split.share != _share(old, rep_id):
                ytd = top_of_bands(rep, position)
            facts = _facts(record, rep, split, ytd).model_copy(
                update={"sprint": position.facts.sprint}
            )
            rep, booked = change_position(rep, position, facts, plan, source, note)
        else:  # pragma: no cover - a rep listed in neither split is not iterated
            continue
        reps[rep_id] = rep
        lines.extend(booked)
    deals = {**world.deals, record.closed.deal_id: record}
    return world.model_copy(update={"reps": reps, "deals": deals}), tuple(lines)


def _share(record: DealRecord, rep_id: str) -> Decimal:
    return next((s.share for s in record.splits if s.rep_id == rep_id), ZERO)


def _amend(world: World, event: DealAmended) -> tuple[World, Lines]:
    record = _open_record(world, event.deal_id, "DealAmended")
    if event.currency != record.closed.currency:
        msg = f"amendment changes the currency from {record.closed.currency}"
        raise Refused("currency", msg)
    new = record.model_copy(update={"amount": event.amount, "splits": event.splits})
    source = Source(event.event_id, event.occurred_at)
    return _restate(world, new, source, "deal amended", record)


def _cancel(world: World, event: DealCancelled) -> tuple[World, Lines]:
    record = world.deals.get(event.deal_id)
    if record is None:
        raise Refused("unknown_deal", f"cannot cancel unknown deal {event.deal_id}")
    if record.cancelled:
        return world, ()
    reps, lines = dict(world.reps), list[LedgerLine]()
    plan = plan_of(world, record)
    source = Source(event.event_id, event.occurred_at)
    for split in record.splits:
        rep = reps[split.rep_id]
        rep, booked = cancel_position(
            rep, rep.positions[event.deal_id], plan, source, event.reason
        )
        reps[split.rep_id] = rep
        lines.extend(booked)
    cancelled = record.model_copy(update={"cancelled": True})
    deals = {**world.deals, event.deal_id: cancelled}
    return world.model_copy(update={"reps": reps, "deals": deals}), tuple(lines)


def _wait(world: World, event: Waiting) -> tuple[World, Lines]:
    queued = (*world.waiting.get(event.deal_id, ()), event)
    return world.model_copy(
        update={"waiting": {**world.waiting, event.deal_id: queued}}
    ), ()


def _pay(world: World, event: PaymentReceived) -> tuple[World, Lines]:
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
    new = record.model_copy(update={"payments": (*record.payments, event)})
    source = Source(event.event_id, event.occurred_at)
    return _restate(world, new, source, f"payment {event.payment_id}", record)


def _score(world: World, event: SatisfactionRecorded) -> tuple[World, Lines]:
    if event.deal_id not in world.deals:
        return _wait(world, event)
    record = _open_record(world, event.deal_id, "SatisfactionRecorded")
    rule = plan_of(world, record).satisfaction_bonus
    if record.satisfaction is not None or rule is None or event.score < rule.min_score:
        return world, ()
    new = record.model_copy(update={"satisfaction": event})
    source = Source(event.event_id, event.occurred_at)
    return _restate(world, new, source, f"satisfaction {event.score}", record)


def _close_period(world: World, event: PeriodClosed) -> tuple[World, Lines]:
    """Forfeit what is still unpaid long after its due date."""
    lines: list[LedgerLine] = []
    for deal_id in sorted(world.deals):
        record = world.deals[deal_id]
        rule = plan_of(world, record).payment_speed
        if record.cancelled or record.forfeited_by is not None or rule is None:
            continue
        overdue = event.occurred_at - record.closed.payment_due_at
        paid = sum((p.counted for p in _counted(record)), ZERO)
        if overdue.days < rule.forfeit_after_days or paid >= record.amount:
            continue
        new = record.model_copy(update={"forfeited_by": event.event_id})
        source = Source(event.event_id, event.occurred_at)
        world, booked = _restate(world, new, source, "commission forfeited", record)
        lines.extend(booked)
    return world, tuple(lines)


def _announce(world: World, event: SpiffAnnounced) -> tuple[World, Lines]:
    window = SpiffWindow(
        spiff_id=event.spiff_id,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        multiplier=event.multiplier,
        product_lines=event.product_lines,
        regions=event.regions,
    )
    return world.model_copy(update={"spiffs": (*world.spiffs, window)}), ()


def _publish(world: World, event: PlanPublished) -> tuple[World, Lines]:
    document: dict[str, Any] = {
        **event.plan,
        "plan_id": event.plan_id,
        "version": event.version,
        "effective_from": event.effective_from,
        "effective_to": event.effective_to,
    }
    try:
        plan = Plan.model_validate(document)
    except ValidationError as exc:
        raise Refused("invalid_plan", f"plan document is invalid: {exc}") from exc
    for known in world.plans:
        if (known.plan_id, known.version) == (plan.plan_id, plan.version):
            if known == plan:
                return world, ()
            msg = (
                f"plan {plan.plan_id} v{plan.version} was published with other content"
            )
            raise Refused("conflict", msg)
    return world.model_copy(update={"plans": (*world.plans, plan)}), ()


def _assign(world: World, event: QuotaAssigned) -> tuple[World, Lines]:
    """目标分解: a target for a node; a child arriving before its parent waits."""
    try:
        node = TargetNode(
            node_id=event.node_id,
            level=event.level,
            parent_id=event.parent_id,
            period=event.period,
            amount=event.amount,
            currency=event.currency,
        )
        book = assign(
            world.targets, node, event_id=event.event_id, occurred_at=event.occurred_at
        )
    except ParentMissing:
        key = f"{event.parent_id}@{event.period}"
        waiting = (*world.orphans.get(key, ()), event)
        return world.model_copy(update={"orphans": {**world.orphans, key: waiting}}), ()
    except (TargetError, ValidationError) as exc:
        raise Refused("target", str(exc)) from exc
    world = world.model_copy(update={"targets": book})
    key = f"{event.node_id}@{event.period}"
    for child in world.orphans.get(key, ()):
        world = world.model_copy(
            update={"orphans": {k: v for k, v in world.orphans.items() if k != key}}
        )
        world, _ = _assign(world, child)
    return world, ()


def _adjust(world: World, event: QuotaAdjusted) -> tuple[World, Lines]:
    """保留不超过20%的指标调整权限: the plan in force limits mid-period changes."""
    in_force = [p for p in world.plans if p.in_force(event.occurred_at)]
    rules = next((p.targets for p in reversed(in_force) if p.targets), TargetRules())
    try:
        book = adjust(
            world.targets,
            event.node_id,
            event.period,
            event.amount,
            reason=event.reason,
            approved_by=event.approved_by,
            occurred_at=event.occurred_at,
            event_id=event.event_id,
            rules=rules,
        )
    except TargetError as exc:
        raise Refused("target", str(exc)) from exc
    return world.model_copy(update={"targets": book}), ()


def rep_attainment(world: World, rep_id: str, period: str) -> Decimal | None:
    """达成率: the rep's credited revenue over its target for the period, if any."""
    target = world.targets.get(rep_id, period)
    if target is None or target.amount == ZERO:
        return None
    rep = world.reps.get(rep_id)
    return attainment(rep.revenue_in(period) if rep else ZERO, target.amount)


Handler = Callable[[World, Any], tuple[World, Lines]]
_HANDLERS: Mapping[type, Handler] = {
    DealClosed: _close,
    DealAmended: _amend,
    DealCancelled: _cancel,
    PaymentReceived: _pay,
    SatisfactionRecorded: _score,
    PeriodClosed: _close_period,
    SpiffAnnounced: _announce,
    PlanPublished: _publish,
    QuotaAssigned: _assign,
    QuotaAdjusted: _adjust,
}
