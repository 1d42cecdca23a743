"""Access tokens: what a grant must name, how tokens are recorded and recognised,
and whose statement each role may read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.web.access import (
    AccessError,
    AccessList,
    Grant,
    Role,
    bearer,
    digest,
    issue,
    may_read_statement,
)

REP = Grant(name="ana", role=Role.REP, rep_id="R-1")
MANAGER = Grant(name="mo", role=Role.MANAGER, team_id="T-east")
ADMIN = Grant(name="root", role=Role.ADMIN)


def test_a_rep_grant_names_the_rep_and_a_manager_grant_the_team() -> None:
    with pytest.raises(ValidationError, match="rep_id"):
        Grant(name="x", role=Role.REP)
    with pytest.raises(ValidationError, match="team_id"):
        Grant(name="x", role=Role.MANAGER)


def test_an_issued_token_is_recorded_only_as_its_digest(tmp_path: Path) -> None:
    path = tmp_path / "access.json"
    token = issue(path, REP)
    text = path.read_text()
    assert token not in text
    assert json.loads(text)["tokens"][0]["sha256"] == digest(token)
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_token_is_recognised_and_a_new_one_works_without_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "access.json"
    first = issue(path, REP)
    access = AccessList(path)
    assert access.grant_for(first) == REP
    second = issue(path, MANAGER)
    # The same size and second as before would hide the change; make sure it shows.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert access.grant_for(second) == MANAGER
    assert access.grant_for(first) == REP


def test_missing_unknown_and_empty_tokens_have_no_grant(tmp_path: Path) -> None:
    access = AccessList(tmp_path / "none.json")
    assert access.grant_for("anything") is None
    issue(access.path, ADMIN)
    assert access.grant_for(None) is None
    assert access.grant_for("") is None
    assert access.grant_for("not-a-token") is None


def test_a_broken_access_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "access.json"
    path.write_text('{"tokens": [{"name": "x"}]}')
    with pytest.raises(AccessError, match=r"access\.json"):
        AccessList(path).grant_for("t")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc ", "abc"),
        ("Basic abc", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_the_bearer_token_is_taken_from_the_authorization_header(
    header: str | None, token: str | None
) -> None:
    assert bearer(header) == token


@pytest.mark.parametrize(
    ("grant", "rep", "team", "allowed"),
    [
        (REP, "R-1", "T-east", True),
        (REP, "R-2", "T-east", False),
        (MANAGER, "R-2", "T-east", True),
        (MANAGER, "R-3", "T-west", False),
        (MANAGER, "R-4", None, False),
        (ADMIN, "R-9", None, True),
    ],
)
def test_a_rep_reads_their_own_a_manager_their_team_an_admin_any_statement(
    grant: Grant, rep: str, team: str | None, allowed: bool
) -> None:
    assert may_read_statement(grant, rep, team) is allowed
