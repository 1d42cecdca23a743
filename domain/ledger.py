"""Ledger lines: every amount QuotaFlow books, with the reason it is that amount."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.money import CurrencyCode


class LedgerLine(BaseModel):
    """One booked amount, explained: rule, plan version, inputs, formula, sources."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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
