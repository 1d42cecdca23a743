"""``quotaflow simulate``: a file of events folded with the stream's domain code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from domain.ledger import line_as_json
from domain.money import ZERO
from domain.replay import replay, summary
from domain.statements import PayLine, statements
from streams.cli.query import echo_statement
from streams.infra.runtime import PlanFileError, load_plan
from streams.web.statements import statement_json


def simulate(
    plan: Annotated[list[Path], typer.Option(help="Plan file(s) in force.")],
    events: Annotated[Path, typer.Option(help="Events, one JSON object per line.")],
    explain: Annotated[
        str | None, typer.Option(help="Print this rep's ledger lines instead.")
    ] = None,
    statements_of: Annotated[
        str | None,
        typer.Option(
            "--statements", help="Print this rep's monthly statements (JSON) instead."
        ),
    ] = None,
) -> None:
    """Fold a file of events with the stream's domain code; print the totals as JSON.

    Also the what-if tool: run the same events under a candidate plan.
    """
    try:
        plans = [load_plan(path) for path in plan]
        raw = events.read_bytes().splitlines()
    except PlanFileError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    except OSError as exc:
        typer.secho(
            f"cannot read {events}: {exc.strerror}", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(2) from exc
    result = replay(plans, raw)
    if statements_of is not None:
        mine = [PayLine.of(ln) for ln in result.lines if ln.rep_id == statements_of]
        above = max(
            (p.payout.approval_required_above for p in plans if p.payout), default=ZERO
        )
        found = statements(
            statements_of, mine, result.records, above, plans[0].currency
        )
        typer.echo(json.dumps([statement_json(s) for s in found], ensure_ascii=False))
        return
    if explain is None:
        typer.echo(json.dumps(summary(result), ensure_ascii=False))
        return
    echo_statement(
        explain,
        [
            {
                **line_as_json(line),
                "plan": f"{line.plan_id} v{line.plan_version}",
            }
            for line in result.lines
            if line.rep_id == explain
        ],
    )
