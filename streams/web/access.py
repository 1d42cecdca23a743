"""Who may read what: bearer tokens for reps, managers and admins.

The worker keeps only each token's SHA-256 digest, in a JSON file
(``QUOTAFLOW_ACCESS_FILE``, by default ``<data dir>/access.json``); `quotaflow token
issue` makes a token, prints it once and records its digest. The file is read again
when it changes, so a token issued to a running worker works at once.

- An admin reads everything.
- A manager reads the statements of the reps in their team (the rep directory as it
  stands), and the shared views.
- A rep reads their own statement, and the shared views.

The shared views (leaderboards, attainment, heatmap, forecasts) are what a sales
floor's board shows everyone; dead letters and the budget are for admins.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"


class Grant(BaseModel):
    """What one token is: a name for people to recognise it, a role and its scope."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    role: Role
    rep_id: str | None = None
    team_id: str | None = None

    @model_validator(mode="after")
    def _scoped(self) -> Grant:
        if self.role is Role.REP and not self.rep_id:
            msg = "a rep's token names the rep (rep_id)"
            raise ValueError(msg)
        if self.role is Role.MANAGER and not self.team_id:
            msg = "a manager's token names the team (team_id)"
            raise ValueError(msg)
        return self


class _Entry(Grant):
    sha256: str


class AccessError(ValueError):
    """The access file cannot be read; the message says where and why."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(path: Path, grant: Grant) -> str:
    """Make a new token for ``grant``, record its digest in ``path`` and return it."""
    token = secrets.token_urlsafe(24)
    entries = _read(path)
    entries.append(_Entry(**grant.model_dump(), sha256=digest(token)))
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"tokens": [entry.model_dump(mode="json") for entry in entries]}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body, indent=2) + "\n")
    temporary.chmod(0o600)
    os.replace(temporary, path)
    return token


def _read(path: Path) -> list[_Entry]:
    if not path.exists():
        return []
    try:
        body = json.loads(path.read_text())
        return [_Entry.model_validate(entry) for entry in body["tokens"]]
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"{path}: not a QuotaFlow access file ({exc})"
        raise AccessError(msg) from exc


class AccessList:
    """The grants of the tokens recorded in one file, re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_digest: dict[str, Grant] = {}

    def grant_for(self, token: str | None) -> Grant | None:
        """The grant of a token, or None for a missing or unknown one."""
        if not token:
            return None
        wanted = digest(token)
        for known, grant in self._grants().items():
            if hmac.compare_digest(known, wanted):
                return grant
        return None

    def _grants(self) -> dict[str, Grant]:
        with self._lock:
            try:
                stat = self.path.stat()
                stamp = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp != self._stamp:
                self._by_digest = {
                    entry.sha256: Grant(
                        **entry.model_dump(exclude={"sha256"}),
                    )
                    for entry in _read(self.path)
                }
                self._stamp = stamp
            return self._by_digest


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def may_read_statement(grant: Grant, rep_id: str, team_of_rep: str | None) -> bool:
    """A rep their own; a manager their team's reps; an admin anyone's."""
    if grant.role is Role.ADMIN:
        return True
    if grant.role is Role.MANAGER:
        return team_of_rep is not None and team_of_rep == grant.team_id
    return grant.rep_id == rep_id
