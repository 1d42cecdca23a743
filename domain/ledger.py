"""Ledger lines: every amount QuotaFlow books, with the reason it is that amount.

A line's reason is data (its rule, the figures it was computed from, the events that
caused it); the sentence a rep reads is put together from them the first time
someone reads it (a statement, ``simulate --explain``, the projection writer), never
on the fold's path: most lines a fold books are counted, not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, cast

from pydantic import TypeAdapter

from domain.money import CurrencyCode

Inputs = tuple[tuple[str, str], ...]
Explained = tuple[str, Inputs]


class Reason:
    """Why a line is its amount: the formula and inputs, rendered once, when read."""

    __slots__ = ("_render", "_text")

    def __init__(self, render: Callable[[], Explained]) -> None:
        self._render: Callable[[], Explained] | None = render
        self._text: Explained | None = None

    @classmethod
    def given(cls, formula: str, inputs: Inputs = ()) -> Reason:
        """A reason already in words (awards and points, booked a few per period)."""
        reason = cls.__new__(cls)
        reason._render, reason._text = None, (formula, inputs)
        return reason

    def text(self) -> Explained:
        if self._text is None:
            assert self._render is not None  # noqa: S101 - set until rendered
            self._text, self._render = self._render(), None
        return self._text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reason) and self.text() == other.text()

    def __hash__(self) -> int:
        return hash(self.text())

    def __repr__(self) -> str:
        return f"Reason({self.text()[0]!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerLine:
    """One booked amount, explained: rule, plan version, inputs, formula, sources."""

    line_id: str
    rep_id: str
    deal_id: str
    kind: Literal["earned", "payable", "bonus", "points"]
    rule: str
    plan_id: str
    plan_version: int
    amount: Decimal
    currency: CurrencyCode
    occurred_at: datetime
    reason: Reason
    source_event_ids: tuple[str, ...]
    sequence: int
    # Of a payable line, the part the payment-speed premium added (×1.10 of a fast
    # payment): money beyond what was earned, which the budget accrues.
    premium: Decimal = Decimal(0)
    # The pay period whose statement carries the line, when it is not the month of
    # ``occurred_at``: that month was locked before the line was booked, so the line
    # goes to the next open one (``domain.payout``).
    pay_period: str = ""

    @property
    def statement_period(self) -> str:
        """The pay period (month) whose statement carries the line."""
        at = self.occurred_at
        return self.pay_period or f"{at.year}-{at.month:02d}"

    @property
    def formula(self) -> str:
        """The sentence a rep reads: how the amount was computed."""
        return self.reason.text()[0]

    @property
    def inputs(self) -> Inputs:
        """The figures the amount was computed from, by name."""
        return self.reason.text()[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class _LineJson:
    line_id: str
    rep_id: str
    deal_id: str
    kind: str
    rule: str
    plan_id: str
    plan_version: int
    amount: Decimal
    currency: str
    occurred_at: datetime
    formula: str
    inputs: Inputs
    source_event_ids: tuple[str, ...]
    sequence: int


_LINE: TypeAdapter[_LineJson] = TypeAdapter(_LineJson)


def line_as_json(line: LedgerLine) -> dict[str, Any]:
    """A ledger line as JSON-ready values (decimal strings, ISO timestamps)."""
    values = _LineJson(
        line_id=line.line_id,
        rep_id=line.rep_id,
        deal_id=line.deal_id,
        kind=line.kind,
        rule=line.rule,
        plan_id=line.plan_id,
        plan_version=line.plan_version,
        amount=line.amount,
        currency=line.currency,
        occurred_at=line.occurred_at,
        formula=line.formula,
        inputs=line.inputs,
        source_event_ids=line.source_event_ids,
        sequence=line.sequence,
    )
    return cast(dict[str, Any], _LINE.dump_python(values, mode="json"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutRecord:
    """A step of the payout cycle that books no money by itself: a statement approved,
    a period locked, an adjustment, an inquiry raised or answered, a plan
    acknowledged. Who did it and when, for the statement and its audit trail."""

    kind: Literal[
        "approved", "locked", "adjusted", "inquiry", "answered", "acknowledged"
    ]
    rep_id: str  # "" for a period lock, which is everyone's
    period: str  # the pay period, "" where none applies
    by: str
    occurred_at: datetime
    event_id: str
    # What it refers to: the inquiry raised, answered or adjusted for, or the plan
    # version acknowledged; and the statement line questioned or corrected.
    ref: str = ""
    line_id: str = ""
    text: str = ""
    amount: Decimal = Decimal(0)
