"""The payout cycle: a pay period's statements are approved, then the period is
locked; admins adjust by hand, reps question lines, managers answer, reps
acknowledge their plan.

Pay periods are months. A statement carries the lines of its month
(``LedgerLine.statement_period``) and is a draft until its manager approves it
(``StatementApproved``); finance then locks the month (``PeriodLocked``). A fact that
arrives after the lock and changes money of the locked month is booked as usual,
dated at its event (SPEC §9), but its line goes to the next open month's statement:
nothing is ever added to a locked one. Each step is a ``PayoutRecord`` for the
statement's audit trail; only an adjustment books money.
"""

from __future__ import annotations

from domain.booking import book, draft
from domain.events import (
    AdjustmentBooked,
    InquiryAnswered,
    InquiryRaised,
    PeriodLocked,
    PlanAcknowledged,
    StatementApproved,
)
from domain.frozen import updated
from domain.ledger import LedgerLine, PayoutRecord
from domain.money import ZERO, format_money
from domain.rep import Source
from domain.world import Refused, Step, World, plan_at, rep_of


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    year, number = year + number // 12, number % 12 + 1
    return f"{year}-{number:02d}"


def open_month(month: str, locked: tuple[str, ...]) -> str:
    """``month``, or the first month after it that is not locked."""
    while month in locked:
        month = next_month(month)
    return month


def into_open_periods(
    lines: tuple[LedgerLine, ...], locked: tuple[str, ...]
) -> tuple[LedgerLine, ...]:
    """Each line whose month is locked, sent to the next open month's statement."""
    return tuple(
        updated(line, pay_period=open_month(line.statement_period, locked))
        if line.statement_period in locked
        else line
        for line in lines
    )


def _open_for_approval(world: World, period: str, what: str) -> None:
    if period not in world.closed_periods:
        msg = f"{what}: {period} is not closed yet (PeriodClosed {period} comes first)"
        raise Refused("not_closed", msg)
    if period in world.locked:
        msg = f"{what}: {period} is locked; a change goes to the next open period"
        raise Refused("locked", msg)


def approve_statement(world: World, event: StatementApproved) -> tuple[World, Step]:
    """draft -> approved: the manager signs off a rep's statement of a closed month
    (one approval per rep and month: ``domain.naturalkeys``)."""
    what = f"the statement of {event.rep_id} for {event.period}"
    _open_for_approval(world, event.period, what)
    record = PayoutRecord(
        kind="approved",
        rep_id=event.rep_id,
        period=event.period,
        by=event.approved_by,
        occurred_at=event.occurred_at,
        event_id=event.event_id,
    )
    return world, Step(records=(record,))


def lock_period(world: World, event: PeriodLocked) -> tuple[World, Step]:
    """approved -> locked: the month's statements are final."""
    if event.period not in world.closed_periods:
        msg = f"{event.period} cannot be locked before it is closed "
        msg += f"(PeriodClosed {event.period} comes first)"
        raise Refused("not_closed", msg)
    locked = tuple(sorted((*world.locked, event.period)))
    record = PayoutRecord(
        kind="locked",
        rep_id="",
        period=event.period,
        by=event.locked_by,
        occurred_at=event.occurred_at,
        event_id=event.event_id,
    )
    return updated(world, locked=locked), Step(records=(record,))


def adjust(world: World, event: AdjustmentBooked) -> tuple[World, Step]:
    """A manual adjustment: a money line of its own, booked by one person and
    approved by another, dated at its event."""
    if event.amount == ZERO:
        raise Refused("invalid", "an adjustment must move money: its amount is 0")
    if event.approved_by == event.booked_by:
        msg = "an adjustment needs an approver other than who booked it "
        msg += f"({event.booked_by})"
        raise Refused("four_eyes", msg)
    plan = plan_at(world, event.occurred_at)
    answers = "" if event.inquiry_id is None else f", answering {event.inquiry_id}"
    corrects = "" if event.line_id is None else f", correcting line {event.line_id}"
    formula = (
        f"manual adjustment {event.adjustment_id} of {format_money(event.amount)} "
        f"by {event.booked_by}, approved by {event.approved_by}{answers}{corrects}: "
        f"{event.reason}"
    )
    line = draft(
        plan,
        Source(event.event_id, event.occurred_at),
        event.rep_id,
        f"adjustment/{event.adjustment_id}",
        kind="bonus",
        rule="manual_adjustment",
        amount=event.amount,
        formula=formula,
        inputs=(("booked_by", event.booked_by), ("approved_by", event.approved_by)),
        currency=event.currency,
    )
    rep, lines = book(rep_of(world, event.rep_id), (line,))
    record = PayoutRecord(
        kind="adjusted",
        rep_id=event.rep_id,
        period=open_month(lines[0].statement_period, world.locked),
        by=event.approved_by,
        occurred_at=event.occurred_at,
        event_id=event.event_id,
        ref=event.inquiry_id or "",
        line_id=event.line_id or "",
        text=event.reason,
        amount=event.amount,
    )
    world = updated(world, reps=world.reps.set(rep.rep_id, rep))
    return world, Step(lines=lines, records=(record,))


def raise_inquiry(world: World, event: InquiryRaised) -> tuple[World, Step]:
    """A rep questions a line; it stays open until a manager answers."""
    rep = rep_of(world, event.rep_id)
    rep = updated(rep, inquiries=(*rep.inquiries, event.inquiry_id))
    record = PayoutRecord(
        kind="inquiry",
        rep_id=event.rep_id,
        period="",
        by=event.rep_id,
        occurred_at=event.occurred_at,
        event_id=event.event_id,
        ref=event.inquiry_id,
        line_id=event.line_id,
        text=event.question,
    )
    return updated(world, reps=world.reps.set(rep.rep_id, rep)), Step(records=(record,))


def answer_inquiry(world: World, event: InquiryAnswered) -> tuple[World, Step]:
    """A manager answers an open inquiry of the rep (an adjustment that goes with it
    is its own ``AdjustmentBooked``, named here)."""
    rep = rep_of(world, event.rep_id)
    if event.inquiry_id not in rep.inquiries:
        msg = f"{event.rep_id} has no open inquiry {event.inquiry_id}"
        raise Refused("unknown_inquiry", msg)
    still = tuple(i for i in rep.inquiries if i != event.inquiry_id)
    rep = updated(rep, inquiries=still)
    answer = event.answer
    if event.adjustment_id is not None:
        answer += f" (adjustment {event.adjustment_id})"
    record = PayoutRecord(
        kind="answered",
        rep_id=event.rep_id,
        period="",
        by=event.answered_by,
        occurred_at=event.occurred_at,
        event_id=event.event_id,
        ref=event.inquiry_id,
        text=answer,
    )
    return updated(world, reps=world.reps.set(rep.rep_id, rep)), Step(records=(record,))


def acknowledge_plan(world: World, event: PlanAcknowledged) -> tuple[World, Step]:
    """A rep acknowledges a plan version the company has published."""
    if not any(
        p.plan_id == event.plan_id and p.version == event.version for p in world.plans
    ):
        msg = f"plan {event.plan_id} version {event.version} is not published"
        raise Refused("unknown_plan", msg)
    record = PayoutRecord(
        kind="acknowledged",
        rep_id=event.rep_id,
        period="",
        by=event.rep_id,
        occurred_at=event.occurred_at,
        event_id=event.event_id,
        ref=f"{event.plan_id} v{event.version}",
    )
    return world, Step(records=(record,))
