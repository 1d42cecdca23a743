"""``quotaflow dlq``: list the dead letters, and send them back after a fix."""

from __future__ import annotations

from typing import Annotated

import typer

from streams.cli.options import load_settings
from streams.log.dlq import dead_letters, resubmit, select

dlq_cli = typer.Typer(
    help="Dead letters on the broker QUOTAFLOW_BOOTSTRAP_SERVERS names.",
    no_args_is_help=True,
)
ReasonOpt = Annotated[
    str | None, typer.Option(help="Only dead letters with this reason code.")
]
OffsetOpt = Annotated[
    list[int] | None,
    typer.Option("--offset", help="Only this dead letter (repeatable)."),
]


@dlq_cli.command("list")
def dlq_list(reason: ReasonOpt = None, offset: OffsetOpt = None) -> None:
    """What was set aside, oldest first: offset, reason, origin and detail."""
    config = load_settings().confluent_config()
    letters = select(dead_letters(config), reason=reason, offsets=offset or ())
    typer.echo(f"{'offset':>7}  {'reason':<26} {'from':<22} detail")
    for letter in letters:
        origin = (
            f"{letter.source_topic}/{letter.source_partition}@{letter.source_offset}"
        )
        typer.echo(
            f"{letter.offset:>7}  {letter.reason:<26} {origin:<22} {letter.detail}"
        )
    typer.echo(f"{len(letters)} dead letter(s)", err=True)


@dlq_cli.command("replay")
def dlq_replay(
    reason: ReasonOpt = None,
    offset: OffsetOpt = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every dead letter (else name some).")
    ] = False,
) -> None:
    """Send dead letters back to the topic they came from, after a fix."""
    if not (all_ or reason or offset):
        typer.secho(
            "say which dead letters to replay: --reason CODE, --offset N or --all",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    config = load_settings().confluent_config()
    letters = select(dead_letters(config), reason=reason, offsets=offset or ())
    sent = resubmit(config, letters)
    typer.echo(f"replayed {sent} dead letter(s) to their source topics")
