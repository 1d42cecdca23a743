"""``quotaflow plan``: the plan document's schema, and checking a plan file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from domain.plan import Plan
from streams.cli.plancheck import check_plan

plan_cli = typer.Typer(help="Incentive plan documents.", no_args_is_help=True)


@plan_cli.command("schema")
def plan_schema() -> None:
    """Print the JSON Schema of a plan document."""
    typer.echo(json.dumps(Plan.model_json_schema(), indent=2, ensure_ascii=False))


@plan_cli.command("check")
def plan_check(path: Path) -> None:
    """Report every error of a plan file with its field path and line."""
    problems = check_plan(path)
    for problem in problems:
        typer.secho(problem, fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{path}: valid plan")
