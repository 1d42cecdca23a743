"""``quotaflow statement`` and ``quotaflow payroll``: a rep's monthly statement as
text, CSV or PDF, and the payroll export of a locked month, from the worker's API
(or, with ``--direct``, from ClickHouse)."""

from __future__ import annotations

import csv
import io
import urllib.parse
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from domain.money import format_money
from domain.points import pts
from projections.payout import NotLocked, payroll, rep_statements
from streams.cli import pdf
from streams.cli.query import (
    DataDirOpt,
    DirectOpt,
    TokenOpt,
    WorkerUrlOpt,
    from_worker,
)
from streams.infra.runtime import PlanFileError, load_plan, open_store
from streams.infra.settings import Settings
from streams.web.statements import MONTH, inert, payroll_csv, statement_json


class Format(StrEnum):
    TEXT = "text"
    CSV = "csv"
    PDF = "pdf"


PeriodArg = Annotated[str, typer.Argument(help="The pay period, a month: 2026-03.")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write here instead of to the terminal.")
]
PlanOpt = Annotated[
    Path | None,
    typer.Option(help="With --direct: the plan whose payout rules apply."),
]

_SUMS = (
    ("opening", "Opening balance"),
    ("released", "Commission released by payments"),
    ("bonus", "Bonuses and awards"),
    ("adjustment", "Manual adjustments"),
    ("true_up", "True-ups of closed periods"),
    ("clawback", "Clawbacks"),
    ("closing", "Amount due"),
    ("paid", "Paid at the lock"),
    ("carried", "Carried into the next month"),
    ("earned", "Commission earned, not yet payable"),
)
LINE_COLUMNS = (
    "date", "line_id", "deal_id", "category", "kind", "rule", "amount", "currency",
    "plan", "explanation",
)  # fmt: skip


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _month(period: str) -> str:
    if not MONTH.fullmatch(period):
        raise _fail(f"the period is a month, like 2026-03, not {period!r}")
    return period


def _approval_above(plan: Path | None) -> Decimal:
    try:
        found = load_plan(plan or Settings().plan_file)
    except PlanFileError as exc:
        raise _fail(str(exc)) from exc
    return found.payout.approval_required_above if found.payout else Decimal(0)


def _amount(value: str, currency: str = "") -> str:
    shown = format_money(Decimal(value))
    return f"{shown} {currency}".rstrip()


def statement_text(statement: dict[str, Any]) -> list[str]:
    """The statement as people read it: who, which month, its state, the sums, then
    every line with its explanation."""
    currency = statement["currency"]
    head = [
        f"QuotaFlow statement: {statement['rep_id']}, {statement['period']} "
        f"({statement['status']})"
    ]
    if statement["approved_by"]:
        head.append(
            f"approved by {statement['approved_by']} at {statement['approved_at']}"
        )
    if statement["locked_by"]:
        head.append(f"locked by {statement['locked_by']} at {statement['locked_at']}")
    if statement["status"] == "held":
        head.append("held: above the approval threshold and not approved")
    head.append("")
    sums = {**statement["sums"], **statement}
    for key, label in _SUMS:
        head.append(f"{label:<40}{_amount(sums[key], currency):>24}")
    head.append(f"{'Points':<40}{pts(Decimal(sums['points'])):>24}")
    head += ["", f"{len(statement['lines'])} line(s), by deal:"]
    by_deal: dict[str, list[dict[str, Any]]] = {}
    for line in statement["lines"]:  # in date order: deals by their first line
        by_deal.setdefault(line["deal_id"] or "", []).append(line)
    for deal_id, lines in sorted(by_deal.items(), key=lambda item: not item[0]):
        title = f"deal {deal_id}" if deal_id else "not of a deal"
        head.append(f"{title}: {len(lines)} line(s)")
        for line in lines:
            head.append(
                f"  {line['occurred_at'][:10]} {line['category']:<10} "
                f"{_amount(line['amount']):>14}  {line['rule']}"
            )
            head.append(f"      {line['formula']}")
    head += ["", f"statement digest {statement['digest']}"]
    return head


def statement_csv(statement: dict[str, Any]) -> str:
    """Every line of the statement, one a row, then its sums as rows of their own
    (category ``total:<name>``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LINE_COLUMNS)
    for line in statement["lines"]:
        writer.writerow(
            inert(cell)
            for cell in (
                line["occurred_at"], line["line_id"], line["deal_id"],
                line["category"], line["kind"], line["rule"], line["amount"],
                line["currency"], line["plan"], line["formula"],
            )
        )  # fmt: skip
    sums = {**statement["sums"], **statement}
    for key, _label in _SUMS:
        writer.writerow(
            ["", "", "", f"total:{key}", "", "", sums[key], statement["currency"],
             "", statement["digest"]]
        )  # fmt: skip
    return out.getvalue()


def statement_command(  # noqa: PLR0913, PLR0917 - a command's options
    rep_id: Annotated[str, typer.Argument(help="The rep.")],
    period: PeriodArg,
    output: Annotated[Format, typer.Option("--format")] = Format.TEXT,
    out: OutOpt = None,
    worker_url: WorkerUrlOpt = None,
    direct: DirectOpt = False,
    token: TokenOpt = None,
    plan: PlanOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """A rep's statement of one month: text, CSV or a printable PDF."""
    _month(period)
    if direct:
        store = open_store(Settings())
        try:
            found = rep_statements(store, rep_id, _approval_above(plan))
        finally:
            store.close()
        chosen = [statement_json(s) for s in found if s.period == period]
        if not chosen:
            raise _fail(f"{rep_id} has no statement for {period}")
        statement = chosen[0]
    else:
        quoted = urllib.parse.quote(rep_id, safe="")
        path = f"/api/reps/{quoted}/statements?period={period}"
        statement = from_worker(worker_url, path, token, data_dir=data_dir)
    if output is Format.PDF:
        data = pdf.render(statement_text(statement))
        if out is None:
            raise _fail("a PDF needs a file: add --out statement.pdf")
        out.write_bytes(data)
        typer.echo(f"wrote {out} ({len(data):,} bytes)")
        return
    text = (
        statement_csv(statement)
        if output is Format.CSV
        else "\n".join(statement_text(statement)) + "\n"
    )
    _emit(text, out)


def _emit(text: str, out: Path | None) -> None:
    """To the terminal, or into ``out`` with a line saying so."""
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")


def payroll_command(
    period: PeriodArg,
    out: OutOpt = None,
    worker_url: WorkerUrlOpt = None,
    direct: DirectOpt = False,
    token: TokenOpt = None,
    plan: PlanOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """What payroll pays for a locked month, as CSV (the same file every time)."""
    _month(period)
    if direct:
        store = open_store(Settings())
        try:
            text = payroll_csv(payroll(store, period, _approval_above(plan)))
        except NotLocked as exc:
            raise _fail(str(exc)) from exc
        finally:
            store.close()
    else:
        path = f"/api/payroll?period={period}"
        text = from_worker(worker_url, path, token, raw=True, data_dir=data_dir)
    _emit(text, out)
