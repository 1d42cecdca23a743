"""``quotaflow token``: access tokens for the board and the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from streams.infra.settings import Settings
from streams.web.access import Grant, Role, issue

token_cli = typer.Typer(help="Access tokens for the board and the API.")
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 - a file name, not a secret


@token_cli.command("issue")
def issue_token(
    role: Annotated[Role, typer.Option(help="rep, manager or admin.")],
    name: Annotated[str, typer.Option(help="Whose token, as people know it.")],
    rep: Annotated[str | None, typer.Option(help="A rep's own id.")] = None,
    team: Annotated[str | None, typer.Option(help="A manager's team.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="The worker's data dir (its access.json).")
    ] = None,
) -> None:
    """Make a token, record its digest for the worker, print it once."""
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    try:
        grant = Grant(name=name, role=role, rep_id=rep, team_id=team)
    except ValidationError as exc:
        for error in exc.errors():
            typer.secho(error["msg"], fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    token = issue(settings.access_path, grant)
    typer.echo(token)
    typer.echo(
        f"issued a {role.value} token for {name}; its digest is in "
        f"{settings.access_path}. It is shown only this once.",
        err=True,
    )


def admin_token(settings: Settings) -> Path:
    """The embedded run's admin token: issued once, kept in a file only its owner
    reads (never printed or logged), so the board and `quotaflow query` work."""
    path = settings.data_dir / ADMIN_TOKEN_FILE
    if not path.exists():
        token = issue(settings.access_path, Grant(name="admin", role=Role.ADMIN))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(token + "\n")
    return path


def token_for_query(settings: Settings, given: str | None) -> str | None:
    """The token `quotaflow query` sends: --token / QUOTAFLOW_TOKEN, else the
    embedded run's admin token when this directory holds one."""
    if given:
        return given
    path = settings.data_dir / ADMIN_TOKEN_FILE
    return path.read_text().strip() if path.exists() else None
