"""A statement as text, CSV and PDF (``quotaflow statement``), read back: the PDF by
pypdf's text extraction, the CSV by the csv module."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from pypdf import PdfReader

from domain.plan import Plan
from domain.statements import PayLine, statements
from streams.cli import pdf
from streams.cli.statement import statement_csv, statement_text
from streams.web.statements import payroll_csv, statement_json
from tests.unit.test_engine import deal, fold, pay
from tests.unit.test_payout import approve, close, lock


def _march(plan: Plan) -> dict[str, object]:
    events = [
        deal(1, "150000.00"),
        pay(1, 1, "150000.00", "2026-03-20T00:00:00+08:00"),
        close("2026-03"),
        approve("2026-03"),
        lock("2026-03"),
    ]
    _, steps = fold(plan, events)
    lines = [PayLine.of(line) for step in steps for line in step.lines]
    (march,) = statements("R-17", lines, [r for s in steps for r in s.records])
    return statement_json(march)


def _pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_the_pdf_of_a_statement_reads_back_with_its_totals(
    reference_plan: Plan,
) -> None:
    march = _march(reference_plan)
    text = statement_text(march)
    (page,) = _pdf_text(pdf.render(text))
    assert "QuotaFlow statement: R-17, 2026-03 (locked)" in page
    assert "approved by M-1" in page
    assert "locked by finance" in page
    shown = (
        ("Amount due", "4,950.00 CNY"),
        ("Paid at the lock", "4,950.00 CNY"),
        ("Commission earned", "4,500.00 CNY"),
    )
    for label, amount in shown:
        (row,) = [ln for ln in page.splitlines() if ln.startswith(label)]
        assert row.split()[-2:] == amount.split()
    assert f"statement digest {march['digest']}" in page
    assert "page 1 of 1" in page
    assert "deal D-1: 2 line(s)" in page  # the lines grouped by deal
    assert "band 0.00–500,000.00 × 3%" in page  # WinAnsiEncoding has the marks


def test_a_long_statement_runs_over_numbered_pages_and_odd_characters_survive() -> None:
    lines = [f"line {n} (of 150) with a \\ backslash" for n in range(150)]
    lines.append("提成 commission")
    pages = _pdf_text(pdf.render(lines))
    assert len(pages) == 3
    assert [p.splitlines()[-1] for p in pages] == [
        "page 1 of 3", "page 2 of 3", "page 3 of 3"
    ]  # fmt: skip
    joined = "\n".join(pages)
    assert "line 0 (of 150) with a \\ backslash" in joined
    assert "line 149 (of 150) with a \\ backslash" in joined
    assert "?? commission" in joined  # WinAnsiEncoding has no CJK: "?"


def test_the_csv_of_a_statement_has_its_lines_then_its_totals(
    reference_plan: Plan,
) -> None:
    march = _march(reference_plan)
    rows = list(csv.DictReader(io.StringIO(statement_csv(march))))
    lines = [row for row in rows if not row["category"].startswith("total:")]
    assert [(r["category"], r["amount"]) for r in lines] == [
        ("earned", "4500.00"),
        ("released", "4950.00"),
    ]
    totals = {r["category"]: Decimal(r["amount"]) for r in rows if r not in lines}
    assert totals["total:closing"] == totals["total:paid"] == Decimal("4950.00")
    assert totals["total:closing"] == sum(
        (Decimal(r["amount"]) for r in lines if r["category"] == "released"),
        Decimal(0),
    )


def test_the_payroll_file_has_the_columns_payroll_imports() -> None:
    text = payroll_csv([("R-17", "CNY", "4950.00", "2026-03", "reference v1", "ab")])
    assert text.splitlines() == [
        "employee_id,currency,amount,period,plan,statement_digest",
        "R-17,CNY,4950.00,2026-03,reference v1,ab",
    ]


def test_cells_a_spreadsheet_would_run_are_written_as_text() -> None:
    rows = [
        ('=HYPERLINK("http://x")', "CNY", "-4950.00", "2026-03", "+plan", "@d"),
        ("R-18", "CNY", "-12", "2026-03", "-1+1", "\tcmd"),
    ]
    read = list(csv.reader(io.StringIO(payroll_csv(rows))))[1:]
    assert read == [
        ['\'=HYPERLINK("http://x")', "CNY", "-4950.00", "2026-03", "'+plan", "'@d"],
        ["R-18", "CNY", "-12", "2026-03", "'-1+1", "'\tcmd"],
    ]


def test_a_statement_csv_writes_a_formula_in_a_reason_as_text(
    reference_plan: Plan,
) -> None:
    march = _march(reference_plan)
    march["lines"][0]["formula"] = "=1+1"
    march["lines"][0]["deal_id"] = "@SUM(A1)"
    rows = list(csv.DictReader(io.StringIO(statement_csv(march))))
    assert (rows[0]["explanation"], rows[0]["deal_id"]) == ("'=1+1", "'@SUM(A1)")
    assert rows[0]["amount"] == "4500.00"
