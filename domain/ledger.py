"""Ledger lines: every amount QuotaFlow books, with the reason it is that amount."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, cast

from pydantic import TypeAdapter

from domain.money import CurrencyCode


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
    formula: str
    inputs: tuple[tuple[str, str], ...]
    source_event_ids: tuple[str, ...]
    sequence: int


_LINE: TypeAdapter[LedgerLine] = TypeAdapter(LedgerLine)


def line_as_json(line: LedgerLine) -> dict[str, Any]:
    """A ledger line as JSON-ready values (decimal strings, ISO timestamps)."""
    return cast(dict[str, Any], _LINE.dump_python(line, mode="json"))
