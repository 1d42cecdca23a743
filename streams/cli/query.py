"""``quotaflow query``: live figures, from the worker's API or from ClickHouse."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from projections.ledger import leaderboard, rep_statement
from streams.cli.tokens import token_for_query
from streams.infra.runtime import open_store
from streams.infra.settings import Settings

query_cli = typer.Typer(help="Read live figures from ClickHouse.", no_args_is_help=True)
WorkerUrlOpt = Annotated[
    str | None,
    typer.Option(
        help="Worker that owns the embedded ClickHouse (default: from settings)."
    ),
]
DirectOpt = Annotated[
    bool, typer.Option(help="Open ClickHouse directly instead of asking the worker.")
]


TokenOpt = Annotated[
    str | None,
    typer.Option(
        envvar="QUOTAFLOW_TOKEN",
        help="Access token (default: the embedded run's admin token, if here).",
    ),
]


DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        help="The data dir of the run to ask (default ./.quotaflow): its worker's "
        "address and admin token are found there."
    ),
]
ADDRESS_FILE = "worker.address"
"""Where a running worker leaves its web address in its data dir."""


def from_worker(
    url: str | None,
    path: str,
    token: str | None,
    raw: bool = False,
    data_dir: Path | None = None,
) -> Any:
    """What the worker's API answers at ``path`` (JSON, or with ``raw`` the body's
    text); a refusal or no worker is one sentence and exit 1. Without ``url``, the
    worker is the one that runs on ``data_dir``, else the settings' address."""
    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    address = settings.data_dir / ADDRESS_FILE
    found = address.read_text().strip() if address.exists() else None
    base = url or found or f"http://{settings.web_host}:{settings.web_port}"
    request = urllib.request.Request(f"{base}{path}")  # noqa: S310 - the worker's URL
    sent = token_for_query(settings, token)
    if sent:
        request.add_header("Authorization", f"Bearer {sent}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.read().decode() if raw else json.load(response)
    except urllib.error.HTTPError as exc:
        refusal = json.load(exc).get("error", exc.reason)
        typer.secho(
            f"the worker refused ({exc.code}): {refusal}", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(1) from exc
    except (urllib.error.URLError, OSError) as exc:
        typer.secho(
            f"cannot reach the QuotaFlow worker at {base} ({exc}); is `quotaflow run` "
            "running? With a ClickHouse server, use --direct.",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1) from exc


def direct_rows(fn: Any, *args: Any) -> Any:
    store = open_store(Settings())
    try:
        return [row.model_dump(mode="json") for row in fn(store, *args)]
    finally:
        store.close()


@query_cli.command("leaderboard")
def query_leaderboard(
    limit: int = 10,
    worker_url: WorkerUrlOpt = None,
    direct: DirectOpt = False,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Reps ranked by commission booked so far."""
    rows = (
        direct_rows(leaderboard, limit)
        if direct
        else from_worker(
            worker_url, f"/api/leaderboard?limit={limit}", token, data_dir=data_dir
        )
    )
    typer.echo(f"{'rank':>4}  {'rep':<10} {'commission':>14} {'deals':>6}")
    for row in rows:
        typer.echo(
            f"{row['rank']:>4}  {row['rep_id']:<10} "
            f"{row['commission']:>14} {row['deals']:>6}"
        )


@query_cli.command("statement")
def query_statement(
    rep_id: str,
    worker_url: WorkerUrlOpt = None,
    direct: DirectOpt = False,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Every ledger line of one rep, with why it is that amount."""
    quoted = urllib.parse.quote(rep_id, safe="")
    lines = (
        direct_rows(rep_statement, rep_id)
        if direct
        else from_worker(
            worker_url, f"/api/reps/{quoted}/statement", token, data_dir=data_dir
        )
    )
    echo_statement(rep_id, lines)


def echo_statement(rep_id: str, lines: list[dict[str, Any]]) -> None:
    """A rep's ledger lines, one a row: amount, kind, deal, rule, plan, why, sources."""
    if not lines:
        typer.echo(f"no ledger lines for {rep_id}")
    for line in lines:
        typer.echo(
            f"{line['amount']:>12} {line['currency']} {line['kind']:<8} "
            f"{line['deal_id']:<12} {line['rule']} ({line['plan']}): {line['formula']} "
            f"[{', '.join(line['source_event_ids'])}]"
        )
