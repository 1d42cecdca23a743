"""``quotaflow rebuild``: the projections made again from the log and swapped in."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from streams.infra.runtime import runtime
from streams.infra.settings import Settings
from streams.state.rebuild import (
    RebuildError,
    compare,
    drop_previous,
    prepare,
    replay,
    sources,
    swap,
)


def rebuild_command(
    dry_run: Annotated[
        bool, typer.Option(help="Build and compare, but keep the live tables.")
    ] = False,
    drop_previous_tables: Annotated[
        bool,
        typer.Option(
            "--drop-previous", help="Only drop the old tables the last rebuild kept."
        ),
    ] = False,
) -> None:
    """Replay the log from its start into new tables, compare them with the live
    ones row for row, then swap them in (EXCHANGE TABLES). Stop the worker first."""
    settings = Settings()
    if settings.clickhouse_cluster:
        typer.secho("rebuild runs on one ClickHouse server or embedded chDB; on a "
                    "cluster, rebuild each shard's tables (not supported yet)",
                    fg=typer.colors.RED, err=True)  # fmt: skip
        raise typer.Exit(2)
    with runtime(settings) as rt:
        if drop_previous_tables:
            dropped = drop_previous(rt.store)
            typer.echo("dropped the old tables" if dropped else "no old tables kept")
            return
        try:
            rebuilt = prepare(rt.store)
        except RebuildError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
        plan_of = sources(rt.settings)
        total = sum(source.until for source in plan_of)
        with typer.progressbar(length=total, label="replaying the log") as bar:
            replay(rt.settings, rt.plan, rebuilt, plan_of, bar.update)
        compared = compare(rt.store, rebuilt)
        for row in compared:
            verdict = "identical" if row.identical else (
                f"{row.only_live} row(s) only live, "
                f"{row.only_rebuilt} only rebuilt")  # fmt: skip
            typer.echo(f"{row.table:<14} live {row.live:>9}  rebuilt "
                       f"{row.rebuilt:>9}  {verdict}")  # fmt: skip
        if dry_run:
            typer.echo(f"dry run: the rebuilt tables are in {rebuilt.database}")
            return
        previous = swap(rt.store, rebuilt)
        typer.echo(json.dumps({"swapped": True, "old_tables": previous}))
