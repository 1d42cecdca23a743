"""Who reads what over the worker's API: 401 without a known token, 403 outside
the token's grant, and request values that are only ever data."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
from decimal import Decimal
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from projections.store import Store
from streams.infra.settings import Settings
from streams.infra.topics import DEALS, ORG
from streams.web.access import Grant, Role, issue
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event, hire_event
from tests.integration.conftest import (
    admin_of,
    earned,
    fetch,
    get_json,
    send,
    unique,
    wait_for,
)

pytestmark = pytest.mark.integration
AT = "2034-01-01T00:00:00+08:00"  # no other test sells in 2034
PAGES = (
    "/api/me",
    "/api/changes",
    "/api/leaderboard",
    "/api/attainment?level=rep&period=2034",
    "/api/heatmap?period=2034",
    "/api/dead-letters",
    "/api/reps/R-1/statement",
    "/api/reps/R-1/points",
    "/api/leaderboard?level=team&period=2034",
    "/api/forecast?level=team&period=2034",
    "/api/budget",
)


def _status(settings: Settings, path: str, token: str | None) -> int:
    """The HTTP status of a page asked with ``token`` (None: no header at all)."""
    try:
        fetch(settings.web_port, path, token)
    except urllib.error.HTTPError as refused:
        return refused.code
    return 200


def _statement(settings: Settings, rep: str, token: str) -> Any:
    return get_json(
        settings, f"/api/reps/{urllib.parse.quote(rep, safe='')}/statement", token
    )


@pytest.fixture(scope="module")
def team(
    worker: QuotaFlowApp, producer: Producer, settings: Settings, store: Store
) -> dict[str, str]:
    """Two reps of one team and one of another, each with a booked deal."""
    ana, bo, cy = unique("ANA"), unique("BO"), unique("CY")
    east, west = unique("T-east"), unique("T-west")
    for rep, team_id in ((ana, east), (bo, east), (cy, west)):
        hire = hire_event(rep, team_id, "east", AT)
        send(producer, ORG, rep.encode(), orjson.dumps(hire))
        # A customer of its own: each deal is that customer's first (SPEC §9).
        deal = deal_event(event_id=unique("e"), deal_id=unique("D"), rep_id=rep,
                          customer_id=unique("C"), amount="100000.00",
                          occurred_at="2034-02-01T09:00:00+08:00",
                          payment_due_at="2034-12-31T00:00:00+08:00",
                          splits=[{"rep_id": rep, "share": "1"}])  # fmt: skip
        send(producer, DEALS, deal["deal_id"].encode(), orjson.dumps(deal))
    for rep in (ana, bo, cy):
        wait_for(lambda r=rep: earned(store, r) > Decimal(0), 60, f"{rep}'s deal")

    def known(rep: str) -> bool:
        rows = store.rows(
            "SELECT count() FROM rep_directory FINAL WHERE rep_id = {r:String}",
            {"r": rep},
        )
        return bool(rows[0][0])

    for rep in (ana, bo, cy):
        wait_for(lambda r=rep: known(r), 60, f"{rep} in the directory")
    path = settings.access_path
    return {
        "ana": ana, "bo": bo, "cy": cy,
        "ana_token": issue(path, Grant(name="Ana", role=Role.REP, rep_id=ana)),
        "east": east,
        "east_token": issue(path, Grant(name="Mo", role=Role.MANAGER, team_id=east)),
    }  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("token", [None, "made-up-token"])
def test_every_api_page_refuses_a_missing_or_unknown_token_with_401(
    worker: QuotaFlowApp, settings: Settings, path: str, token: str | None
) -> None:
    assert _status(settings, path, token) == 401


def test_the_board_metrics_and_health_pages_need_no_token(
    worker: QuotaFlowApp, settings: Settings
) -> None:
    for path in ("/board", "/metrics", "/health"):
        assert _status(settings, path, None) == 200


def test_a_rep_reads_their_own_statement_and_no_one_elses(
    settings: Settings, team: dict[str, str]
) -> None:
    token = team["ana_token"]
    own = _statement(settings, team["ana"], token)
    assert own
    assert {line["kind"] for line in own} >= {"earned"}
    assert all(line["formula"] for line in own)
    assert get_json(settings, "/api/me", token)["rep_id"] == team["ana"]
    for other in (team["bo"], team["cy"]):
        assert _status(settings, f"/api/reps/{other}/statement", token) == 403
    assert _status(settings, "/api/dead-letters", token) == 403
    assert _status(settings, "/api/budget", token) == 403
    assert _status(settings, "/api/leaderboard", token) == 200
    # The reference plan books no points: the rep's own balance is empty, and
    # another rep's is refused like their statement.
    assert get_json(settings, f"/api/reps/{team['ana']}/points", token) == {
        "balance": None,
        "redemptions": [],
    }
    assert _status(settings, f"/api/reps/{team['cy']}/points", token) == 403


def test_a_manager_reads_their_teams_statements_only(
    settings: Settings, team: dict[str, str]
) -> None:
    token = team["east_token"]
    for member in (team["ana"], team["bo"]):
        assert _statement(settings, member, token)
    assert _status(settings, f"/api/reps/{team['cy']}/statement", token) == 403
    assert _status(settings, "/api/reps/nobody-at-all/statement", token) == 403
    assert _status(settings, "/api/dead-letters", token) == 403
    assert _status(settings, f"/api/reps/{team['bo']}/points", token) == 200
    assert _status(settings, f"/api/reps/{team['cy']}/points", token) == 403


def test_the_shared_views_rank_teams_and_forecast_against_targets(
    settings: Settings, team: dict[str, str]
) -> None:
    token = team["ana_token"]
    teams = get_json(settings, "/api/leaderboard?level=team&period=2034", token)
    # Each rep's 100,000 deal earns 4,500 under the reference plan (3% + 1.5% new).
    east = next(row for row in teams if row["key"] == team["east"])
    assert (east["commission"], east["reps"]) == ("9000.00", 2)
    at = urllib.parse.quote("2034-07-02T00:00:00+08:00")
    reps = get_json(settings, f"/api/forecast?level=rep&period=2034&as_of={at}", token)
    ana = next(row for row in reps if row["key"] == team["ana"])
    # No target for the rep: a forecast (100,000 × 365 / 182), never an alert.
    assert (ana["forecast"], ana["target"], ana["alert"]) == ("200549.45", None, False)


def test_the_budget_is_for_admins_and_says_when_the_plan_sets_none(
    settings: Settings, team: dict[str, str]
) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        get_json(settings, "/api/budget", admin_of(settings))
    assert missing.value.code == 404
    assert json.load(missing.value)["error"] == "the plan sets no budget"


@pytest.mark.parametrize(
    "rep",
    [
        "' OR '1'='1",
        "x' UNION SELECT line_id FROM ledger_lines --",
        "R-1\\'; DROP TABLE ledger_lines; --",
        "%' OR rep_id LIKE '%",
    ],
)
def test_an_injection_string_as_rep_id_is_only_an_id_that_has_no_lines(
    settings: Settings, store: Store, team: dict[str, str], rep: str
) -> None:
    before = store.rows("SELECT count() FROM ledger_lines")[0][0]
    assert _statement(settings, rep, admin_of(settings)) == []
    # A manager's check of the team runs on the same string: still refused.
    assert _status(settings, _path(rep), team["east_token"]) == 403
    assert _status(settings, _path(rep), team["ana_token"]) == 403
    assert store.rows("SELECT count() FROM ledger_lines")[0][0] >= before > 0
    assert _statement(settings, team["ana"], team["ana_token"])


def _path(rep: str) -> str:
    return f"/api/reps/{urllib.parse.quote(rep, safe='')}/statement"


@pytest.mark.parametrize(
    "path",
    [
        "/api/leaderboard?limit=1%20OR%201=1",
        "/api/attainment?level=rep%27%20OR%201=1&period=2034",
        "/api/heatmap?period=2034%27)%20OR%20(1=1",
        "/api/leaderboard?level=team&period=2034%27%20OR%201=1",
        "/api/leaderboard?level=team%27--&period=2034",
        "/api/forecast?level=rep&period=2034&as_of=2034-01-01%27%20OR%201=1",
        # A period outside the contract's dates: no event can fall in it, and its
        # end (year 10000) is no date.
        "/api/forecast?level=rep&period=9999-Q4",
        "/api/attainment?level=rep&period=1999",
    ],
)
def test_injection_strings_in_query_parameters_are_refused_with_400(
    settings: Settings, team: dict[str, str], path: str
) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        get_json(settings, path, team["ana_token"])
    assert refused.value.code == 400
    assert "error" in json.load(refused.value)
