"""Ledger lines into ClickHouse, and the read queries over them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.credits import Standing
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
    "premium",
    "pay_period",
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
        line.premium,
        line.statement_period,
    ]


def write_lines(
    store: Store, lines: Sequence[LedgerLine], source: Sequence[Span] = ()
) -> int:
    """Write ledger lines folded from ``source``; rewriting the same lines is
    harmless (a repeated insert is dropped, and ReplacingMergeTree collapses)."""
    rows = [ledger_row(line) for line in lines]
    return insert(store, "ledger_lines", rows, LEDGER_COLUMNS, source)


_STANDING_COLUMNS = ("rep_id", "earned", "deals", "version")


def write_standings(
    store: Store, standings: Sequence[Standing], source: Sequence[Span] = ()
) -> int:
    """Write reps' standings, each versioned by the rep's sequence."""
    rows = [[s.rep_id, s.earned, s.deals, s.sequence] for s in standings]
    return insert(store, "rep_totals", rows, _STANDING_COLUMNS, source)


class LeaderboardRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rank: int
    rep_id: str
    commission: Decimal
    deals: int


def leaderboard(store: Store, limit: int = 10) -> list[LeaderboardRow]:
    """Reps ranked by earned commission so far (ties: rep id ascending), with the
    deals credited to them: one ``rep_totals`` row per rep, not every line."""
    rows = store.rows(
        """
        SELECT rep_id, earned, deals
        FROM rep_totals FINAL
        ORDER BY earned DESC, rep_id ASC
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
    """Every ledger line of one rep, oldest first (by when it happened; a period's
    awards, booked by no rep's fold, carry sequence 0), with its explanation."""
    rows = store.rows(
        """
        SELECT line_id, deal_id, kind, rule, plan_id, plan_version, amount, currency,
               formula, source_event_ids
        FROM ledger_lines FINAL
        -- rep_id leads the sorting key, so every version of a line has the same
        -- one: filtering before FINAL's merge is safe, and reads far less.
        PREWHERE rep_id = {rep:String}
        ORDER BY occurred_at, version, line_id
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
