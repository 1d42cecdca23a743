"""A rep's statement per pay period (month), from the ledger lines of the period and
the payout records (approvals, locks): what the rep earned, what became payable,
awards, adjustments, true-ups and clawbacks, the amount due, and what payroll pays.

The amount due of a month is its opening balance plus its money lines (``payable``
and ``bonus``; ``earned`` commission is shown but is not money until a payment
releases it). When finance locks the month, a statement that is approved (or due no
more than the plan's ``payout.approval_required_above``) is paid in full if the
amount due is positive; otherwise it is carried into the next month's opening
balance: a negative balance (clawbacks beyond what was due) is recovered from later
months, and an unapproved statement is held until a later one is approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from hashlib import blake2b
from typing import Literal

from domain.ledger import LedgerLine, PayoutRecord
from domain.money import ZERO

Status = Literal["draft", "approved", "locked", "held"]
Category = Literal[
    "released", "bonus", "adjustment", "true_up", "clawback", "earned", "points"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PayLine:
    """What a statement shows of one ledger line."""

    line_id: str
    deal_id: str
    kind: str
    rule: str
    amount: Decimal
    currency: str
    occurred_at: datetime
    formula: str
    pay_period: str
    plan: str  # "<plan_id> v<version>"

    @classmethod
    def of(cls, line: LedgerLine) -> PayLine:
        return cls(
            line_id=line.line_id,
            deal_id=line.deal_id,
            kind=line.kind,
            rule=line.rule,
            amount=line.amount,
            currency=line.currency,
            occurred_at=line.occurred_at,
            formula=line.formula,
            pay_period=line.statement_period,
            plan=f"{line.plan_id} v{line.plan_version}",
        )

    @property
    def category(self) -> Category:
        """Where the line counts on the statement (each money line in one place)."""
        if self.kind in ("earned", "points"):
            return "earned" if self.kind == "earned" else "points"
        if self.rule == "manual_adjustment":
            return "adjustment"
        if "true-up" in self.formula:
            return "true_up"
        if self.amount < ZERO:
            return "clawback"
        return "released" if self.kind == "payable" else "bonus"


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One rep's statement of one pay period."""

    rep_id: str
    period: str
    currency: str
    status: Status
    opening: Decimal
    # Money lines of the period by category, and the informational sums.
    sums: dict[Category, Decimal]
    closing: Decimal  # the amount due: opening + the period's money lines
    paid: Decimal  # what payroll pays at the lock (0 before it)
    carried: Decimal  # into the next month's opening balance
    approval_needed: bool
    approved_by: str = ""
    approved_at: datetime | None = None
    locked_by: str = ""
    locked_at: datetime | None = None
    plans: tuple[str, ...] = ()
    lines: tuple[PayLine, ...] = ()
    digest: str = ""
    adjustments: tuple[PayoutRecord, ...] = field(default=())
    inquiries: tuple[PayoutRecord, ...] = field(default=())


CATEGORIES: tuple[Category, ...] = (
    "released", "bonus", "adjustment", "true_up", "clawback", "earned", "points"
)  # fmt: skip
NONE = Decimal("0.00")
"""No money, in cents as every amount shows."""
MONEY: frozenset[Category] = frozenset(
    ("released", "bonus", "adjustment", "true_up", "clawback")
)


def statements(
    rep_id: str,
    lines: Iterable[PayLine],
    records: Iterable[PayoutRecord],
    approval_above: Decimal = ZERO,
    currency: str = "CNY",
) -> list[Statement]:
    """Every statement of ``rep_id``, month by month from the first month with a
    line or a record, each opening with what the one before carried. ``records``
    may hold other reps' records: only this rep's and the period locks count."""
    by_period: dict[str, list[PayLine]] = {}
    for line in lines:
        by_period.setdefault(line.pay_period, []).append(line)
    approvals: dict[str, PayoutRecord] = {}
    locks: dict[str, PayoutRecord] = {}
    mine: list[PayoutRecord] = []
    for record in records:
        if record.kind == "locked":
            locks.setdefault(record.period, record)
        elif record.rep_id == rep_id:
            if record.kind == "approved":
                approvals.setdefault(record.period, record)
            mine.append(record)
    months = sorted({*by_period, *approvals})
    if not months:
        return []
    found, opening = [], NONE
    for period in _months(months[0], months[-1]):
        made = _statement(
            rep_id=rep_id,
            period=period,
            opening=opening,
            lines=by_period.get(period, []),
            approval=approvals.get(period),
            lock=locks.get(period),
            approval_above=approval_above,
            currency=currency,
            records=mine,
        )
        found.append(made)
        opening = made.carried
    return found


def _statement(  # noqa: PLR0913 - a statement: whose, which month, from what
    *,
    rep_id: str,
    period: str,
    opening: Decimal,
    lines: Sequence[PayLine],
    approval: PayoutRecord | None,
    lock: PayoutRecord | None,
    approval_above: Decimal,
    currency: str,
    records: Sequence[PayoutRecord],
) -> Statement:
    ordered = tuple(sorted(lines, key=lambda ln: (ln.occurred_at, ln.line_id)))
    sums = dict.fromkeys(CATEGORIES, NONE)
    sums["points"] = ZERO
    for line in ordered:
        sums[line.category] += line.amount
    closing = opening + sum((sums[c] for c in MONEY), ZERO)
    needed = closing > approval_above
    approved = approval is not None or not needed
    paid = closing if lock is not None and approved and closing > ZERO else NONE
    if lock is None:
        status: Status = "approved" if approval is not None else "draft"
    else:
        status = "locked" if approved or closing <= ZERO else "held"
    return Statement(
        rep_id=rep_id,
        period=period,
        # Points lines count in PTS: the statement's currency is its money's.
        currency=next(
            (line.currency for line in ordered if line.kind != "points"), currency
        ),
        status=status,
        opening=opening,
        sums=sums,
        closing=closing,
        paid=paid,
        carried=closing - paid,
        approval_needed=needed,
        approved_by=approval.by if approval is not None else "",
        approved_at=approval.occurred_at if approval is not None else None,
        locked_by=lock.by if lock is not None else "",
        locked_at=lock.occurred_at if lock is not None else None,
        plans=tuple(sorted({line.plan for line in ordered})),
        lines=ordered,
        digest=_digest(rep_id, period, ordered, opening, closing),
        adjustments=tuple(
            r for r in records if r.kind == "adjusted" and r.period == period
        ),
        inquiries=_inquiries(records, period),
    )


def _inquiries(
    records: Sequence[PayoutRecord], period: str
) -> tuple[PayoutRecord, ...]:
    """The questions raised in the month, each with its answer, whenever given."""
    asked = {
        r.ref
        for r in records
        if r.kind == "inquiry" and _month(r.occurred_at) == period
    }
    return tuple(
        r for r in records if r.kind in ("inquiry", "answered") and r.ref in asked
    )


def _digest(
    rep_id: str,
    period: str,
    lines: Sequence[PayLine],
    opening: Decimal,
    closing: Decimal,
) -> str:
    """A digest of what the statement says: payroll and the rep can tell that the
    statement paid is the one they read."""
    # In cents, as ClickHouse keeps every amount: the digest of a statement read
    # back from the ledger equals the one the fold's own lines give.
    text = "\n".join(
        (
            f"{rep_id} {period} {opening:.2f} {closing:.2f}",
            *(f"{ln.line_id} {ln.amount:.2f} {ln.kind}" for ln in lines),
        )
    )
    return blake2b(text.encode(), digest_size=12).hexdigest()


def _month(at: datetime) -> str:
    return f"{at.year}-{at.month:02d}"


def _months(first: str, last: str) -> Iterable[str]:
    year, month = int(first[:4]), int(first[5:])
    while f"{year}-{month:02d}" <= last:
        yield f"{year}-{month:02d}"
        year, month = year + month // 12, month % 12 + 1


PAYROLL_COLUMNS = (
    "employee_id", "currency", "amount", "period", "plan", "statement_digest"
)  # fmt: skip


def payroll_rows(found: Iterable[Statement], period: str) -> list[tuple[str, ...]]:
    """What payroll imports for a locked month: one row per rep paid, by rep."""
    rows = [
        (s.rep_id, s.currency, f"{s.paid:.2f}", s.period, ";".join(s.plans), s.digest)
        for s in found
        if s.period == period and s.paid > ZERO
    ]
    return sorted(rows)
