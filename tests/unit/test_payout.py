"""The payout cycle in the fold (issue 15): approval, lock, lines after a lock in
the next open month, manual adjustments, inquiries, plan acknowledgement."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.engine import Step
from domain.events import Event
from domain.payout import next_month, open_month
from domain.plan import Plan
from tests.factories import envelope
from tests.unit.test_engine import deal, event, fold

D = Decimal
APRIL = "2026-04-01T00:00:00+08:00"


def _event(kind: str, event_id: str, at: str = APRIL, **fields: Any) -> Event:
    return event(envelope(kind, event_id, at, **fields))


def close(period: str) -> Event:
    return _event("PeriodClosed", f"pc-{period}", period=period)


def lock(period: str, n: int = 1, by: str = "finance") -> Event:
    return _event("PeriodLocked", f"lk-{period}-{n}", period=period, locked_by=by)


def approve(period: str, n: int = 1, by: str = "M-1", rep: str = "R-17") -> Event:
    return _event("StatementApproved", f"ap-{period}-{n}", rep_id=rep, period=period,
                  approved_by=by)  # fmt: skip


def adjustment(n: int, amount: str, at: str = APRIL, **fields: Any) -> Event:
    given = {"adjustment_id": f"ADJ-{n}", "rep_id": "R-17", "amount": amount,
             "currency": "CNY", "reason": "split agreed by both managers",
             "booked_by": "admin-1", "approved_by": "M-1", **fields}  # fmt: skip
    return _event("AdjustmentBooked", f"adj-{n}", at, **given)


def test_months_follow_each_other_over_the_year_end() -> None:
    assert (next_month("2026-03"), next_month("2026-12")) == ("2026-04", "2027-01")
    assert open_month("2026-03", ("2026-03", "2026-04")) == "2026-05"
    assert open_month("2026-06", ("2026-03",)) == "2026-06"


def test_a_statement_is_approved_then_its_month_locked_with_who_and_when(
    reference_plan: Plan,
) -> None:
    _, steps = fold(reference_plan, [deal(1, "150000.00"), close("2026-03"),
                                     approve("2026-03"), lock("2026-03")])  # fmt: skip
    (approved,) = steps[2].records
    assert (approved.kind, approved.rep_id, approved.period, approved.by) == (
        "approved",
        "R-17",
        "2026-03",
        "M-1",
    )
    (locked,) = steps[3].records
    assert (locked.kind, locked.rep_id, locked.period, locked.by) == (
        "locked",
        "",
        "2026-03",
        "finance",
    )
    assert locked.occurred_at.isoformat() == APRIL
    assert steps[0].lines and {ln.statement_period for ln in steps[0].lines} == {
        "2026-03"
    }


def test_approving_or_locking_an_open_month_or_approving_a_locked_one_is_refused(
    reference_plan: Plan,
) -> None:
    events = [lock("2026-03"), approve("2026-03"), close("2026-03"),
              lock("2026-03", 2), approve("2026-03", 2)]  # fmt: skip
    _, steps = fold(reference_plan, events)
    reasons = [(r.code, r.reason) for s in steps for r in s.rejected]
    assert reasons == [
        ("not_closed", "2026-03 cannot be locked before it is closed "
                       "(PeriodClosed 2026-03 comes first)"),
        ("not_closed", "the statement of R-17 for 2026-03: 2026-03 is not closed "
                       "yet (PeriodClosed 2026-03 comes first)"),
        ("locked", "the statement of R-17 for 2026-03: 2026-03 is locked; a change "
                   "goes to the next open period"),
    ]  # fmt: skip
    assert [r.kind for r in steps[3].records] == ["locked"]


def test_a_late_fact_of_a_locked_month_goes_to_the_next_open_months_statement(
    reference_plan: Plan,
) -> None:
    """SPEC §9 dates the correction at its event; the lock keeps it off the locked
    statement: a March cancellation and a late March deal land on April's."""
    cancelled = _event("DealCancelled", "x-1", "2026-03-20T00:00:00+08:00",
                       deal_id="D-1", reason="customer withdrew")  # fmt: skip
    late = deal(2, "80000.00", occurred_at="2026-03-25T09:00:00+08:00")
    events = [deal(1, "150000.00"), close("2026-03"), lock("2026-03"),
              lock("2026-04", 2), cancelled, late]  # fmt: skip
    _, steps = fold(reference_plan, events)
    assert [r.code for r in steps[3].rejected] == ["not_closed"]  # April is open
    for step in steps[4:]:
        assert step.lines
        assert {ln.statement_period for ln in step.lines} == {"2026-04"}
        assert {ln.occurred_at.month for ln in step.lines} == {3}
    reversed_ = sum((ln.amount for ln in steps[4].lines if ln.kind == "earned"), D(0))
    earned = sum((ln.amount for ln in steps[0].lines if ln.kind == "earned"), D(0))
    assert reversed_ == -earned != 0


def test_a_manual_adjustment_books_money_approved_by_someone_else(
    reference_plan: Plan,
) -> None:
    events = [
        adjustment(1, "500.00", inquiry_id="INQ-1"),
        adjustment(2, "100.00", approved_by="admin-1"),
        adjustment(3, "0.00"),
        adjustment(1, "500.00", inquiry_id="INQ-1").model_copy(
            update={"event_id": "adj-1-again"}
        ),
    ]
    world, steps = fold(reference_plan, events)
    (line,) = steps[0].lines
    assert (line.kind, line.rule, line.amount, line.rep_id) == (
        "bonus",
        "manual_adjustment",
        D("500.00"),
        "R-17",
    )
    assert line.formula == (
        "manual adjustment ADJ-1 of 500.00 by admin-1, approved by M-1, answering "
        "INQ-1: split agreed by both managers"
    )
    (record,) = steps[0].records
    assert (record.kind, record.ref, record.amount, record.period) == (
        "adjusted",
        "INQ-1",
        D("500.00"),
        "2026-04",
    )
    assert [r.code for r in steps[1].rejected] == ["four_eyes"]
    assert [r.code for r in steps[2].rejected] == ["invalid"]
    assert steps[3] == Step()  # the same adjustment from another source
    assert world.reps["R-17"].total("bonus") == D("500.00")


def test_an_adjustment_dated_in_a_locked_month_goes_to_the_next_open_one(
    reference_plan: Plan,
) -> None:
    march = "2026-03-30T00:00:00+08:00"
    events = [close("2026-03"), lock("2026-03"), adjustment(1, "-50.00", at=march)]
    _, steps = fold(reference_plan, events)
    (line,) = steps[2].lines
    (record,) = steps[2].records
    assert (line.statement_period, record.period) == ("2026-04", "2026-04")
    assert line.amount == D("-50.00")


def test_an_inquiry_stays_open_until_a_manager_answers_it(
    reference_plan: Plan,
) -> None:
    def answer(n: int, inquiry: str = "INQ-1", **fields: Any) -> Event:
        said = {"answered_by": "M-1", "answer": "the split was 60/40", **fields}
        return _event("InquiryAnswered", f"ia-{n}", inquiry_id=inquiry, rep_id="R-17",
                      **said)  # fmt: skip

    def raised(inquiry: str) -> Event:
        return _event("InquiryRaised", f"iq-{inquiry}", inquiry_id=inquiry,
                      rep_id="R-17", line_id="e-1/R-17/earned",
                      question="why only 60%?")  # fmt: skip

    events = [
        answer(0),
        raised("INQ-1"),
        raised("INQ-2"),
        answer(1, adjustment_id="ADJ-1"),
        answer(2),
        answer(3, "INQ-2"),
    ]
    world, steps = fold(reference_plan, events)
    assert [r.code for r in steps[0].rejected] == ["unknown_inquiry"]
    (question,) = steps[1].records
    assert (question.kind, question.by, question.ref, question.text) == (
        "inquiry",
        "R-17",
        "INQ-1",
        "why only 60%?",
    )
    assert question.line_id == "e-1/R-17/earned"
    (answered,) = steps[3].records
    assert (answered.kind, answered.by, answered.ref, answered.text) == (
        "answered",
        "M-1",
        "INQ-1",
        "the split was 60/40 (adjustment ADJ-1)",
    )
    assert [r.reason for r in steps[4].rejected] == [
        "answer to inquiry INQ-1 was already recorded with other content"
    ]
    assert [(r.ref, r.text) for r in steps[5].records] == [
        ("INQ-2", "the split was 60/40")
    ]
    assert world.reps["R-17"].inquiries == ()


def test_a_rep_acknowledges_a_published_plan_version_only(
    reference_plan: Plan,
) -> None:
    def acknowledged(n: int, version: int) -> Event:
        return _event("PlanAcknowledged", f"ack-{n}", rep_id="R-17",
                      plan_id="reference", version=version)  # fmt: skip

    _, steps = fold(reference_plan, [acknowledged(1, 1), acknowledged(2, 7)])
    (record,) = steps[0].records
    assert (record.kind, record.rep_id, record.ref) == (
        "acknowledged",
        "R-17",
        "reference v1",
    )
    assert [(r.code, r.reason) for r in steps[1].rejected] == [
        ("unknown_plan", "plan reference version 7 is not published")
    ]


def test_a_second_approval_by_another_manager_is_a_conflict(
    reference_plan: Plan,
) -> None:
    events = [close("2026-03"), approve("2026-03"), approve("2026-03", 2, by="M-2")]
    _, steps = fold(reference_plan, events)
    assert [r.code for r in steps[2].rejected] == ["conflict"]
