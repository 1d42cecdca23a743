"""Ledger lines into ClickHouse, and the read queries over them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.ledger import LedgerLine
from projections.store import Store
from projections.writer import Span, insert

LEDGER_COLUMNS = (
    "line_id",
    "rep_id",
    "deal_id",
    "kind",
    "rule",
    "plan_id",
    "plan_version",
    "amount",
    "currency",
    "occurred_at",
    "formula",
    "inputs",
    "source_event_ids",
    "version",
)


def ledger_row(line: LedgerLine) -> list[Any]:
    """The ``ledger_lines`` row of one ledger line; its version is the rep sequence."""
    return [
        line.line_id,
        line.rep_id,
        line.deal_id,
        line.kind,
        line.rule,
        line.plan_id,
        line.plan_version,
        line.amount,
        line.currency,
        line.occurred_at.astimezone(UTC),
        line.formula,
        json.dumps(dict(line.inputs), ensure_ascii=False),
        list(line.source_event_ids),
        line.sequence,
    ]


def write_lines(
    store: Store, lines: Sequence[LedgerLine], source: Sequence[Span] = ()
) -> int:
    """Write ledger lines folded from ``source``; rewriting the same lines is
    harmless (a repeated insert is dropped, and ReplacingMergeTree collapses)."""
    rows = [ledger_row(line) for line in lines]
    return insert(store, "ledger_lines", rows, LEDGER_COLUMNS, source)


class LeaderboardRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rank: int
    rep_id: str
    commission: Decimal
    deals: int


def leaderboard(store: Store, limit: int = 10) -> list[LeaderboardRow]:
    """Reps ranked by earned commission so far (ties: rep id ascending)."""
    rows = store.rows(
        """
        SELECT rep_id, sum(amount) AS commission, uniqExact(deal_id) AS deals
        FROM ledger_lines FINAL
        WHERE kind = 'earned'
        GROUP BY rep_id
        ORDER BY commission DESC, rep_id ASC
        LIMIT {limit:UInt32}
        """,
        {"limit": limit},
    )
    return [
        LeaderboardRow(rank=i, rep_id=rep, commission=amount, deals=deals)
        for i, (rep, amount, deals) in enumerate(rows, start=1)
    ]


class StatementLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: str
    deal_id: str
    kind: str
    rule: str
    plan: str
    amount: Decimal
    currency: str
    formula: str
    source_event_ids: tuple[str, ...]


def rep_statement(store: Store, rep_id: str) -> list[StatementLine]:
    """Every ledger line of one rep, oldest first, with its explanation."""
    rows = store.rows(
        """
        SELECT line_id, deal_id, kind, rule, plan_id, plan_version, amount, currency,
               formula, source_event_ids
        FROM ledger_lines FINAL
        WHERE rep_id = {rep:String}
        ORDER BY version
        """,
        {"rep": rep_id},
    )
    return [
        StatementLine(
            line_id=line_id,
            deal_id=deal,
            kind=kind,
            rule=rule,
            plan=f"{plan_id} v{version}",
            amount=amount,
            currency=currency,
            formula=formula,
            source_event_ids=tuple(sources),
        )
        for (
            line_id,
            deal,
            kind,
            rule,
            plan_id,
            version,
            amount,
            currency,
            formula,
            sources,
        ) in rows
    ]
