"""The ``quotaflow`` command line."""

from __future__ import annotations

import gc

import typer

from streams.cli.bench import bench_cli
from streams.cli.dlq import dlq_cli
from streams.cli.plan import plan_cli
from streams.cli.query import query_cli
from streams.cli.rebuild import rebuild_command
from streams.cli.serve import generate, run, worker
from streams.cli.simulate import simulate
from streams.cli.statement import payroll_command, statement_command
from streams.cli.tokens import token_cli

cli = typer.Typer(
    help="QuotaFlow: real-time, explainable sales incentives.", no_args_is_help=True
)
cli.add_typer(query_cli, name="query")
cli.add_typer(bench_cli, name="bench")
cli.add_typer(plan_cli, name="plan")
cli.add_typer(dlq_cli, name="dlq")
cli.add_typer(token_cli, name="token")
cli.command("rebuild")(rebuild_command)
for command in (run, worker, generate, simulate):
    cli.command()(command)
cli.command("statement")(statement_command)
cli.command("payroll")(payroll_command)


# The fold's state is millions of small objects that live for the whole process, and
# the cyclic collector scans them again and again at its default thresholds: decode +
# fold of 100,000 events went from 7,500 to 9,500 events/s (the 1,000-rep year of
# `quotaflow bench fold`) with a first generation of 50,000 allocations.
GC_THRESHOLDS = (50_000, 50, 100)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    cli(prog_name="quotaflow")
