"""Statements per rep and month, and payroll rows (issue 15), worked by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from domain.ledger import PayoutRecord
from domain.plan import Plan
from domain.statements import PayLine, payroll_rows, statements
from tests.unit.test_engine import deal, fold, pay
from tests.unit.test_payout import _event, adjustment, approve, close, lock

D = Decimal


def _line(n: int, kind: str, amount: str, month: str, **fields: str) -> PayLine:
    given = {"rule": "commission_released", "formula": "", "deal_id": f"D-{n}",
             "currency": "PTS" if kind == "points" else "CNY"}  # fmt: skip
    given.update(fields)
    return PayLine(
        line_id=f"L-{n}",
        kind=kind,
        amount=D(amount),
        occurred_at=datetime(int(month[:4]), int(month[5:]), 10, tzinfo=UTC),
        pay_period=month,
        plan="reference v1",
        **given,
    )


def _record(kind: str, period: str, rep: str = "R-1", by: str = "M-1") -> PayoutRecord:
    at = datetime(int(period[:4]), int(period[5:]), 28, tzinfo=UTC)
    return PayoutRecord(
        kind=kind,  # type: ignore[arg-type]
        rep_id="" if kind == "locked" else rep,
        period=period,
        by=by,
        occurred_at=at,
        event_id=f"{kind}-{rep}-{period}",
    )


def test_a_month_paid_at_its_lock_and_a_late_cancellation_on_the_next_statement(
    reference_plan: Plan,
) -> None:
    """D-1 of 150,000 earns 3% = 4,500; paid in 6 days it releases ×1.10 = 4,950.
    March is approved and locked: 4,950 paid. The deal is cancelled (dated in
    March, after the lock): April takes the clawback of 4,950 and a manual
    adjustment of 1,000, so April's closing is -3,950, carried forward."""
    cancelled = _event("DealCancelled", "x-1", "2026-03-25T00:00:00+08:00",
                       deal_id="D-1", reason="customer withdrew")  # fmt: skip
    events = [
        deal(1, "150000.00"),
        pay(1, 1, "150000.00", "2026-03-20T00:00:00+08:00"),
        close("2026-03"),
        approve("2026-03"),
        lock("2026-03"),
        cancelled,
        adjustment(1, "1000.00", at="2026-04-05T00:00:00+08:00"),
    ]
    _, steps = fold(reference_plan, events)
    lines = [PayLine.of(line) for step in steps for line in step.lines]
    records = [record for step in steps for record in step.records]
    march, april = statements("R-17", lines, records)
    assert (march.period, march.status, march.approved_by, march.locked_by) == (
        "2026-03",
        "locked",
        "M-1",
        "finance",
    )
    assert (march.sums["released"], march.sums["earned"]) == (D(4950), D(4500))
    assert (march.closing, march.paid, march.carried) == (D(4950), D(4950), D(0))
    assert (april.period, april.status, april.opening) == ("2026-04", "draft", D(0))
    assert (april.sums["clawback"], april.sums["adjustment"]) == (D(-4950), D(1000))
    assert april.sums["earned"] == D(-4500)
    assert (april.closing, april.paid, april.carried) == (D(-3950), D(0), D(-3950))
    (adjusted,) = april.adjustments
    assert (adjusted.event_id, adjusted.amount) == ("adj-1", D(1000))
    assert payroll_rows([march, april], "2026-03") == [
        ("R-17", "CNY", "4950.00", "2026-03", "reference v1", march.digest)
    ]
    assert payroll_rows([march, april], "2026-04") == []


def test_an_unapproved_statement_above_the_threshold_is_held_till_one_is_approved() -> (
    None
):
    lines = [
        _line(1, "payable", "6000.00", "2026-01"),
        _line(2, "payable", "4000.00", "2026-02"),
        _line(3, "payable", "300.00", "2026-03"),
    ]
    records = [
        _record("locked", "2026-01"),
        _record("approved", "2026-02"),
        _record("locked", "2026-02"),
        _record("locked", "2026-03"),
        _record("approved", "2026-01", rep="R-2"),  # another rep's approval
    ]
    january, february, march = statements("R-1", lines, records, D(5000))
    assert (january.status, january.paid, january.carried) == ("held", D(0), D(6000))
    assert january.approval_needed
    # February opens with January's 6,000: approved, 10,000 paid.
    assert (february.status, february.opening, february.paid) == (
        "locked",
        D(6000),
        D(10000),
    )
    # March's 300 is under the threshold: paid as it stands at the lock.
    assert (march.status, march.approval_needed, march.paid) == (
        "locked",
        False,
        D(300),
    )
    assert [row[2] for row in payroll_rows([january, february, march], "2026-02")] == [
        "10000.00"
    ]


def test_each_money_line_counts_once_and_empty_months_carry_the_balance() -> None:
    lines = [
        _line(0, "points", "30", "2026-01", rule="points_visit"),  # first: in PTS
        _line(1, "payable", "1000.00", "2026-01"),
        _line(2, "bonus", "500.00", "2026-01", rule="team_pool"),
        _line(
            3,
            "bonus",
            "-200.00",
            "2026-01",
            rule="team_pool",
            formula="true-up of 2026-Q1's awards after DealCancelled D-9",
        ),
        _line(4, "payable", "-100.00", "2026-01", rule="clawback"),
        _line(6, "earned", "900.00", "2026-04", rule="revenue_band_commission"),
    ]
    # A question of January answered in March shows, answered, on January's.
    inquiry = replace(_record("inquiry", "2026-01"), ref="INQ-1")
    answer = replace(_record("answered", "2026-03"), ref="INQ-1")
    records = [_record("approved", "2026-01"), inquiry, answer]
    found = statements("R-1", lines, records)
    assert [s.period for s in found] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    january = found[0]
    assert {k: v for k, v in january.sums.items() if v} == {
        "released": D(1000), "bonus": D(500), "true_up": D(-200),
        "clawback": D(-100), "points": D(30),
    }  # fmt: skip
    assert (january.status, january.closing) == ("approved", D(1200))
    assert january.currency == "CNY"
    assert january.inquiries == (inquiry, answer)
    assert found[2].inquiries == ()
    assert [(s.opening, s.closing, s.status) for s in found[1:]] == [
        (D(1200), D(1200), "draft"),
        (D(1200), D(1200), "draft"),
        (D(1200), D(1200), "draft"),  # earned commission is not money yet
    ]
    assert found[3].digest != found[2].digest
    assert statements("R-9", [], []) == []
