"""The payout cycle's actions over the API (issue 15): a rep raises an inquiry on a
line and acknowledges the plan, their manager answers and approves, an admin books
an adjustment; each is an event on the log, folded like any other. Who may do what
is checked against the token, and a refusal of the fold reaches the dead letters."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from projections.dimensions import team_of
from projections.payout import payout_records
from projections.store import Store
from streams.infra.settings import Settings
from streams.infra.topics import ORG
from streams.web.access import Grant, Role, issue
from streams.worker.app import QuotaFlowApp
from tests.factories import hire_event
from tests.integration.conftest import (
    admin_of,
    earned,
    get_json,
    send,
    unique,
    wait_for,
)

pytestmark = pytest.mark.integration
AT = "2033-01-01T00:00:00+08:00"


def _post(
    settings: Settings, path: str, token: str, body: dict[str, Any] | bytes
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.web_port}{path}", data=data, method="POST",
        headers={"Authorization": f"Bearer {token}",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=15) as page:  # noqa: S310
            return page.status, json.load(page)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def _kinds(store: Store, rep: str) -> list[str]:
    return [r.kind for r in payout_records(store, rep) if r.rep_id == rep]


def _dead(store: Store, reason: str, needle: str) -> bool:
    rows = store.rows(
        "SELECT detail FROM dead_letters FINAL WHERE reason = {r:String}",
        {"r": reason},
    )
    return any(needle in detail for (detail,) in rows)


def test_a_rep_asks_a_manager_answers_approves_and_an_admin_adjusts(
    worker: QuotaFlowApp, producer: Producer, settings: Settings, store: Store
) -> None:
    rep, team, other_team = unique("R-PAY"), unique("T-pay"), unique("T-other")
    send(producer, ORG, rep.encode(), orjson.dumps(hire_event(rep, team, "east", AT)))
    rita = issue(settings.access_path, Grant(name="Rita", role=Role.REP, rep_id=rep))
    mo = issue(settings.access_path, Grant(name="Mo", role=Role.MANAGER, team_id=team))
    sam = Grant(name="Sam", role=Role.MANAGER, team_id=other_team)
    stranger = issue(settings.access_path, sam)
    admin = admin_of(settings)
    base = f"/api/reps/{rep}"
    # A manager acts for the reps the directory places in their team.
    wait_for(lambda: team_of(store, rep) == team, 30, "the rep in the directory")

    status, asked = _post(settings, f"{base}/inquiries", rita,
                          {"line_id": "L-1", "question": "why 60%?"})  # fmt: skip
    assert status == 202, asked
    inquiry = asked["inquiry_id"]
    assert asked["event_type"] == "InquiryRaised"
    refusals = [
        (_post(settings, f"{base}/inquiries", rita, {"line_id": "L-1"}), 400),
        (_post(settings, f"{base}/inquiries", rita, b"[1, 2]"), 400),
        (_post(settings, f"{base}/inquiries", mo, {"line_id": "L", "question": "?"}),
         403),
        (_post(settings, f"{base}/inquiries/{inquiry}/answer", stranger,
               {"answer": "no"}), 403),
        (_post(settings, f"{base}/statements/2033-01/approve", rita, {}), 403),
        (_post(settings, f"{base}/adjustments", mo,
               {"amount": "1", "reason": "r", "approved_by": "x"}), 403),
        (_post(settings, "/api/periods/2033-01/lock", mo, {}), 403),
        (_post(settings, f"{base}/acknowledgements", rita,
               {"plan_id": "reference", "version": "one"}), 400),
    ]  # fmt: skip
    for (status, body), expected in refusals:
        assert (status, bool(body.get("error"))) == (expected, True), body

    status, _ = _post(settings, f"{base}/inquiries/{inquiry}/answer", mo,
                      {"answer": "the split was agreed at 60/40"})  # fmt: skip
    assert status == 202
    status, booked = _post(settings, f"{base}/adjustments", admin,
                           {"amount": "250.00", "reason": "goodwill",
                            "approved_by": "Mo", "inquiry_id": inquiry})  # fmt: skip
    assert status == 202, booked
    assert rep in get_json(settings, "/api/acknowledgements")["not_yet"]
    team_page = f"/api/teams/{team}/statements?period=2033-01"
    assert get_json(settings, team_page, mo) == []  # nothing booked in January
    with pytest.raises(urllib.error.HTTPError) as refused:
        get_json(settings, team_page, stranger)
    assert refused.value.code == 403
    status, _ = _post(settings, f"{base}/acknowledgements", rita,
                      {"plan_id": "reference", "version": 1})  # fmt: skip
    assert status == 202
    wait_for(lambda: sorted(_kinds(store, rep)) == [
        "acknowledged", "adjusted", "answered", "inquiry"], 60,
        "the four steps in payout_records")  # fmt: skip
    assert earned(store, rep, "bonus") == Decimal("250.00")
    acknowledged = get_json(
        settings, "/api/acknowledgements?plan_id=reference&version=1"
    )
    assert rep not in acknowledged["not_yet"]
    (adjusted,) = [r for r in payout_records(store, rep) if r.kind == "adjusted"]
    assert (adjusted.by, adjusted.ref, adjusted.amount) == (
        "Mo",
        inquiry,
        Decimal("250.00"),
    )

    # Sent, then refused by the fold, with the reason, on the dead-letter topic.
    status, _ = _post(settings, f"{base}/adjustments", admin,
                      {"amount": "1.00", "reason": "mine",
                       "approved_by": "admin"})  # fmt: skip
    assert status == 202
    status, _ = _post(settings, f"{base}/statements/2033-01/approve", mo, {})
    assert status == 202
    wait_for(lambda: _dead(store, "four_eyes", "approver other than who booked"),
             60, "the self-approved adjustment refused")  # fmt: skip
    wait_for(lambda: _dead(store, "not_closed", f"the statement of {rep}"),
             60, "the approval of an open month refused")  # fmt: skip
