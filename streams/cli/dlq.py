"""``quotaflow dlq``: list the dead letters, and send them back after a fix."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

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


DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        help="The data dir of a running `quotaflow run` (default ./.quotaflow): its "
        "embedded broker's address is found there."
    ),
]
BROKER_FILE = "broker.address"
"""Where `quotaflow run` leaves its embedded broker's address in its data dir."""
_QUIET = logging.getLogger("quotaflow.dlq.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def broker_config(data_dir: Path | None) -> dict[str, Any]:
    """The broker to read: the running embedded one of ``data_dir`` (by default
    ./.quotaflow's, unless QUOTAFLOW_BOOTSTRAP_SERVERS names one), else the
    settings'. Unreachable: one sentence, exit 1."""
    settings = load_settings(data_dir=data_dir)
    config = settings.confluent_config()
    found = settings.data_dir / BROKER_FILE
    named = data_dir is None and "QUOTAFLOW_BOOTSTRAP_SERVERS" in os.environ
    if found.exists() and not named:
        config["bootstrap.servers"] = found.read_text().strip()
    try:
        probe: dict[str, Any] = {**config, "logger": _QUIET}
        AdminClient(probe).list_topics(timeout=5)
    except KafkaException as exc:
        where, why = config["bootstrap.servers"], exc.args[0].str()
        typer.secho(
            f"cannot reach the broker at {where} ({why}); is `quotaflow run` "
            "running? (--data-dir names its data dir; QUOTAFLOW_BOOTSTRAP_SERVERS "
            "another broker)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1) from exc
    return config


@dlq_cli.command("list")
def dlq_list(
    reason: ReasonOpt = None, offset: OffsetOpt = None, data_dir: DataDirOpt = None
) -> None:
    """What was set aside, oldest first: offset, reason, origin and detail."""
    config = broker_config(data_dir)
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
    data_dir: DataDirOpt = None,
) -> None:
    """Send dead letters back to the topic they came from, after a fix."""
    if not (all_ or reason or offset):
        typer.secho(
            "say which dead letters to replay: --reason CODE, --offset N or --all",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    config = broker_config(data_dir)
    letters = select(dead_letters(config), reason=reason, offsets=offset or ())
    sent = resubmit(config, letters)
    typer.echo(f"replayed {sent} dead letter(s) to their source topics")
