"""The pages of one rep's records and of the payout cycle: the ledger lines, points,
monthly statements (draft, approved, locked or held), the payroll export of a
locked month, and the dead letters.

A rep reads their own records, a manager their team's, an admin anyone's and the
payroll export (``streams.web.access``).
"""

from __future__ import annotations

import csv
import io as text_io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from domain.statements import PAYROLL_COLUMNS, Statement
from projections.deadletters import dead_letters
from projections.dimensions import team_of
from projections.ledger import rep_statement
from projections.payout import (
    NotLocked,
    payroll,
    rep_statements,
    team_statements,
    unacknowledged,
)
from projections.points import points_balances, redemptions
from streams.web.access import Grant, Role, may_read_statement
from streams.web.served import Handler, Served

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_MONTH_HELP = "period is a month, like 2026-03"
STATEMENT: TypeAdapter[Statement] = TypeAdapter(Statement)


def statement_json(statement: Statement, lines: bool = True) -> dict[str, Any]:
    """A statement as the API gives it; without its lines for a list of months."""
    found: dict[str, Any] = STATEMENT.dump_python(statement, mode="json")
    if not lines:
        del found["lines"]
        return found
    for line, given in zip(statement.lines, found["lines"], strict=True):
        given["category"] = line.category
    return found


# A cell a spreadsheet would run as a formula: it starts with one of these. Numbers
# (a negative amount starts with "-") are left as they are.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def inert(cell: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs (OWASP's CSV injection):
    text that starts like a formula gets a leading apostrophe, as spreadsheets
    themselves mark text. Ids and reasons come from upstream systems."""
    text = str(cell)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return f"'{text}"
    return text


def payroll_csv(rows: list[tuple[str, ...]]) -> str:
    """The payroll export: a header and one row per rep paid."""
    out = text_io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PAYROLL_COLUMNS)
    writer.writerows([inert(cell) for cell in row] for row in rows)
    return out.getvalue()


def approval_above(quotaflow: Served) -> Decimal:
    payout = quotaflow.plan.payout
    return payout.approval_required_above if payout is not None else Decimal(0)


def register(
    quotaflow: Served, guarded: Callable[..., Callable[[Handler], Handler]]
) -> None:
    """Records of one rep or of the worker: statements, points, dead letters,
    payroll."""
    app, store, io = quotaflow.app, quotaflow.reader, quotaflow.in_read_io

    @app.page("/api/dead-letters")
    @guarded(admin=True)
    async def set_aside(web: Any, request: Any, _grant: Grant) -> Any:
        reason = request.query.get("reason") or None
        rows = await io(dead_letters, store, reason)
        return web.json([row.model_dump(mode="json") for row in rows])

    async def refused(web: Any, grant: Grant, rep_id: str, what: str) -> Any:
        """403 unless the grant covers the rep's records (a manager's through the
        rep's team as the directory stands); None when it does."""
        team = await io(team_of, store, rep_id) if grant.role is Role.MANAGER else None
        if may_read_statement(grant, rep_id, team):
            return None
        return web.json(
            {"error": f"{grant.name} may not read this rep's {what}"}, status=403
        )

    @app.page("/api/reps/{rep_id}/statement")
    @guarded()
    async def statement(web: Any, _request: Any, grant: Grant, rep_id: str) -> Any:
        if (refusal := await refused(web, grant, rep_id, "statement")) is not None:
            return refusal
        lines = await io(rep_statement, store, rep_id)
        return web.json([line.model_dump(mode="json") for line in lines])

    @app.page("/api/reps/{rep_id}/statements")
    @guarded()
    async def monthly(web: Any, request: Any, grant: Grant, rep_id: str) -> Any:
        """Every month's statement of a rep (without lines), or with ``period`` one
        month's, line by line."""
        if (refusal := await refused(web, grant, rep_id, "statement")) is not None:
            return refusal
        period = request.query.get("period", "")
        if period and not MONTH.fullmatch(period):
            return web.json({"error": _MONTH_HELP}, status=400)
        found = await io(rep_statements, store, rep_id, approval_above(quotaflow))
        if not period:
            return web.json([statement_json(s, lines=False) for s in found])
        for one in found:
            if one.period == period:
                return web.json(statement_json(one))
        return web.json(
            {"error": f"{rep_id} has no statement for {period}"}, status=404
        )

    @app.page("/api/teams/{team_id}/statements")
    @guarded()
    async def team_month(web: Any, request: Any, grant: Grant, team_id: str) -> Any:
        """A manager's view of their team: each rep's statement of the month."""
        if grant.role is not Role.ADMIN and grant.team_id != team_id:
            msg = f"{grant.name} may not read team {team_id}'s statements"
            return web.json({"error": msg}, status=403)
        period = request.query.get("period", "")
        if not MONTH.fullmatch(period):
            return web.json({"error": _MONTH_HELP}, status=400)
        above = approval_above(quotaflow)
        found = await io(team_statements, store, team_id, period, above)
        return web.json([statement_json(s, lines=False) for s in found])

    @app.page("/api/payroll")
    @guarded(admin=True)
    async def export(web: Any, request: Any, _grant: Grant) -> Any:
        """What payroll pays for a locked month, as CSV."""
        period = request.query.get("period", "")
        if not MONTH.fullmatch(period):
            return web.json({"error": _MONTH_HELP}, status=400)
        try:
            rows = await io(payroll, store, period, approval_above(quotaflow))
        except NotLocked as exc:
            return web.json({"error": str(exc)}, status=409)
        return web.bytes(payroll_csv(rows).encode(), content_type="text/csv")

    @app.page("/api/acknowledgements")
    @guarded(admin=True)
    async def unacknowledged_reps(web: Any, request: Any, _grant: Grant) -> Any:
        """Admins: who has not acknowledged a plan version (by default the
        worker's plan)."""
        plan_id = request.query.get("plan_id") or quotaflow.plan.plan_id
        try:
            version = int(request.query.get("version") or quotaflow.plan.version)
        except ValueError:
            return web.json({"error": "version is a whole number"}, status=400)
        reps = await io(unacknowledged, store, plan_id, version)
        return web.json({"plan_id": plan_id, "version": version, "not_yet": reps})

    @app.page("/api/reps/{rep_id}/points")
    @guarded()
    async def points(web: Any, _request: Any, grant: Grant, rep_id: str) -> Any:
        """A rep's points balance and redemptions, to whoever reads the statement."""
        if (refusal := await refused(web, grant, rep_id, "points")) is not None:
            return refusal
        balances = await io(points_balances, store, rep_id)
        spent = await io(redemptions, store, rep_id)
        return web.json(
            {
                "balance": balances[0].model_dump(mode="json") if balances else None,
                "redemptions": [row.model_dump(mode="json") for row in spent],
            }
        )
