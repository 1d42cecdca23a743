"""The payout cycle in ClickHouse: its records (approvals, locks, adjustments,
inquiries, acknowledgements) and the statements and payroll read from them and
from the ledger lines (``domain.statements`` computes both)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any

from domain.ledger import PayoutRecord
from domain.statements import PayLine, Statement, payroll_rows, statements
from projections.store import Store
from projections.writer import Span, insert

_RECORD_COLUMNS = (
    "kind",
    "rep_id",
    "period",
    "by",
    "occurred_at",
    "event_id",
    "ref",
    "line_id",
    "text",
    "amount",
    "version",
)


class NotLocked(ValueError):
    """Payroll is exported for a locked period only."""


def write_records(
    store: Store,
    records: Sequence[tuple[int, PayoutRecord]],
    source: Sequence[Span] = (),
) -> int:
    """Each record with the rep-topic offset that applied it (its version)."""
    rows = [
        [
            r.kind,
            r.rep_id,
            r.period,
            r.by,
            r.occurred_at.astimezone(UTC),
            r.event_id,
            r.ref,
            r.line_id,
            r.text,
            r.amount,
            version,
        ]
        for version, r in records
    ]
    return insert(store, "payout_records", rows, _RECORD_COLUMNS, source)


_RECORDS = """
SELECT kind, rep_id, period, by, occurred_at, event_id, ref, line_id, text, amount
FROM payout_records FINAL
ORDER BY occurred_at, event_id
"""
_REP_RECORDS = _RECORDS.replace(
    "ORDER BY", "WHERE rep_id = {rep:String} OR kind = 'locked'\nORDER BY"
)


def payout_records(store: Store, rep_id: str | None = None) -> list[PayoutRecord]:
    """The records of one rep (with every period lock), or of everyone."""
    query = _RECORDS if rep_id is None else _REP_RECORDS
    rows = store.rows(query, {"rep": rep_id or ""})
    return [
        PayoutRecord(
            kind=kind,
            rep_id=rep,
            period=period,
            by=by,
            occurred_at=at,
            event_id=event_id,
            ref=ref,
            line_id=line_id,
            text=text,
            amount=amount,
        )
        for kind, rep, period, by, at, event_id, ref, line_id, text, amount in rows
    ]


_LINES = """
SELECT rep_id, line_id, deal_id, kind, rule, amount, currency, occurred_at, formula,
       pay_period, plan_id, plan_version
FROM ledger_lines FINAL
{where}
ORDER BY rep_id, occurred_at, line_id
"""


# rep_id leads ledger_lines' sorting key: filtering before FINAL's merge is safe.
_ONE_REP = "PREWHERE rep_id = {rep:String}"


def _pay_lines(store: Store, rep_id: str | None) -> dict[str, list[PayLine]]:
    query = _LINES.replace("{where}", "" if rep_id is None else _ONE_REP)
    found: dict[str, list[PayLine]] = {}
    for row in store.rows(query, {"rep": rep_id or ""}):
        rep, line_id, deal, kind, rule, amount, currency, at, formula = row[:9]
        pay_period, plan_id, version = row[9:]
        found.setdefault(rep, []).append(
            PayLine(
                line_id=line_id,
                deal_id=deal,
                kind=kind,
                rule=rule,
                amount=amount,
                currency=currency,
                occurred_at=at,
                formula=formula,
                pay_period=pay_period,
                plan=f"{plan_id} v{version}",
            )
        )
    return found


def rep_statements(
    store: Store, rep_id: str, approval_above: Decimal = Decimal(0)
) -> list[Statement]:
    """Every statement of one rep, month by month."""
    lines = _pay_lines(store, rep_id).get(rep_id, [])
    return statements(rep_id, lines, payout_records(store, rep_id), approval_above)


def payroll(
    store: Store, period: str, approval_above: Decimal = Decimal(0)
) -> list[tuple[str, ...]]:
    """What payroll pays for a locked month, one row per rep (``PAYROLL_COLUMNS``);
    the same rows every time it is asked."""
    records = payout_records(store)
    if not any(r.kind == "locked" and r.period == period for r in records):
        msg = f"{period} is not locked: payroll is exported for a locked period only"
        raise NotLocked(msg)
    rows: list[tuple[str, ...]] = []
    everyone: dict[str, Any] = _pay_lines(store, None)
    reps = sorted({*everyone, *(r.rep_id for r in records if r.rep_id)})
    for rep in reps:
        found = statements(rep, everyone.get(rep, []), records, approval_above)
        rows.extend(payroll_rows(found, period))
    return sorted(rows)


def unacknowledged(store: Store, plan_id: str, version: int) -> list[str]:
    """The reps of the directory (still employed) who have not acknowledged the
    plan version, by id."""
    rows = store.rows(
        """
        SELECT rep_id FROM rep_directory FINAL
        WHERE left_at IS NULL AND rep_id NOT IN (
            SELECT rep_id FROM payout_records FINAL
            WHERE kind = 'acknowledged' AND ref = {ref:String}
        )
        ORDER BY rep_id
        """,
        {"ref": f"{plan_id} v{version}"},
    )
    return [rep for (rep,) in rows]


def team_statements(
    store: Store, team_id: str, period: str, approval_above: Decimal = Decimal(0)
) -> list[Statement]:
    """The month's statement of every rep the directory places in the team (a rep
    with nothing that month: none)."""
    rows = store.rows(
        "SELECT rep_id FROM rep_directory FINAL WHERE team_id = {team:String} "
        "AND left_at IS NULL ORDER BY rep_id",
        {"team": team_id},
    )
    found = []
    for (rep_id,) in rows:
        for statement in rep_statements(store, rep_id, approval_above):
            if statement.period == period:
                found.append(statement)
    return found
