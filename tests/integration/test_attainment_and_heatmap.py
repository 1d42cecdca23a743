"""Attainment per rep, team, region and product line, and the region × product-line
heatmap, as the worker's API serves them from ClickHouse."""

from __future__ import annotations

import json
import urllib.error
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from domain.credits import node_revenue
from domain.plan import Plan
from domain.replay import replay
from streams.infra.settings import Settings
from streams.infra.topics import DEALS, ORG, TARGETS
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event, envelope, hire_event, quota_event
from tests.integration.conftest import get_json, routed, send, unique, wait_for

pytestmark = pytest.mark.integration
YEAR = "2033"  # no other test sells in 2033
Q = f"{YEAR}-Q1"
AT = f"{YEAR}-01-01T00:00:00+08:00"


def _by_key(settings: Settings, level: str) -> dict[str, tuple[str, Any]]:
    rows = get_json(settings, f"/api/attainment?level={level}&period={Q}")
    return {row["key"]: (row["revenue"], row["attainment"]) for row in rows}


def _quota(node: str, level: str, parent: str | None, amount: str) -> Any:
    return quota_event(node, level, parent, Q, amount, AT)


def _hire(rep: str, team: str, region: str) -> Any:
    return hire_event(rep, team, region, AT)


def _deal(reps: dict[str, str], amount: str, line: str, region: str) -> Any:
    first = next(iter(reps))
    return deal_event(
        event_id=unique("e"), deal_id=unique("D"), rep_id=first, amount=amount,
        margin="0.00", new_customer=False, product_line=line, region=region,
        occurred_at=f"{YEAR}-02-10T09:00:00+08:00",
        payment_due_at=f"{YEAR}-12-31T00:00:00+08:00",
        splits=[{"rep_id": rep, "share": share} for rep, share in reps.items()],
    )  # fmt: skip


def test_attainment_and_heatmap_follow_deals_targets_and_the_organisation(
    worker: QuotaFlowApp, producer: Producer, settings: Settings
) -> None:
    a, b, c = unique("A"), unique("B"), unique("C")
    team1, team2, east, west = unique("T"), unique("T"), unique("E"), unique("W")
    company, line1, line2 = unique("ACME"), unique("cloud"), unique("iot")
    organisation = [_hire(a, team1, east), _hire(b, team1, east), _hire(c, team2, west)]
    targets = [
        _quota(company, "company", None, "1000000"),
        _quota(line1, "product_line", company, "400000"),
        _quota(line2, "product_line", company, "100000"),
        _quota(east, "region", line1, "300000"),
        _quota(team1, "team", east, "300000"),
        _quota(a, "rep", team1, "100000"),
    ]
    assert len(targets) == 6
    before = {topic: routed(settings, topic) for topic in (ORG, TARGETS)}
    for topic, events in ((ORG, organisation), (TARGETS, targets)):
        for event in events:
            send(producer, topic, event["event_id"].encode(), orjson.dumps(event))
    wanted = {ORG: before[ORG] + len(organisation)}
    wanted[TARGETS] = before[TARGETS] + len(targets)
    wait_for(
        lambda: all(routed(settings, t) >= n for t, n in wanted.items()),
        60,
        "the organisation and the targets routed",
    )
    split = _deal({a: "0.5", b: "0.5"}, "50000.00", line2, east)
    cancelled = _deal({c: "1"}, "999000.00", line1, west)
    deals = [
        _deal({a: "1"}, "100000.00", line1, east),
        split,
        _deal({c: "1"}, "80000.00", line1, west),
        cancelled,
    ]
    cancel = envelope("DealCancelled", unique("x"), f"{YEAR}-02-11T09:00:00+08:00",
                      deal_id=cancelled["deal_id"], reason="lost")  # fmt: skip
    for event in [*deals, cancel]:
        send(producer, DEALS, event["deal_id"].encode(), orjson.dumps(event))

    expected_reps = {
        a: ("125000.00", "1.25"),  # 100,000 + half of 50,000, target 100,000
        b: ("25000.00", None),  # no target of its own
        c: ("80000.00", None),  # the cancelled deal does not count
    }

    def reps_seen() -> dict[str, tuple[str, Any]] | None:
        found = {k: v for k, v in _by_key(settings, "rep").items() if k in (a, b, c)}
        return found if found == expected_reps else None

    wait_for(reps_seen, 60, "every rep's attainment")
    assert _by_key(settings, "team")[team1] == ("150000.00", "0.5")
    assert _by_key(settings, "team")[team2] == ("80000.00", None)
    assert _by_key(settings, "region")[east] == ("150000.00", "0.5")
    lines = _by_key(settings, "product_line")
    assert lines[line1] == ("180000.00", "0.45")
    assert lines[line2] == ("50000.00", "0.5")

    heat = get_json(settings, f"/api/heatmap?period={Q}")
    cells = {
        (cell["region"], cell["product_line"]): (cell["revenue"], cell["deals"])
        for cell in heat
    }
    # Attainment per cell: the region's target under that product line.
    attained = {
        (cell["region"], cell["product_line"]): cell["attainment"] for cell in heat
    }
    assert Decimal(attained[(east, line1)]).quantize(Decimal("0.0001")) == Decimal(
        "0.3333"
    )  # 100,000 of east's 300,000 under line1
    assert attained[(east, line2)] is None  # east sits under line1, not line2
    assert attained[(west, line1)] is None  # west has no target

    def ranked(level: str, measure: str) -> list[str]:
        rows = get_json(settings, f"/api/leaderboard?level={level}&period={Q}"
                        f"&measure={measure}&limit=1000")  # fmt: skip
        return [row["key"] for row in rows if row["key"] in (a, b, c, team1, team2)]

    assert ranked("rep", "revenue") == [a, c, b]
    # Only a has a target: the others follow, by key.
    assert ranked("rep", "attainment") == [a, *sorted((b, c))]
    commission = ranked("rep", "commission")
    assert commission == [a, c, b]  # 3% of 125,000, 80,000 and 25,000
    assert ranked("team", "revenue") == [team1, team2]
    assert cells[(east, line1)] == ("100000.00", 1)
    assert cells[(east, line2)] == ("50000.00", 1)
    assert cells[(west, line1)] == ("80000.00", 1)
    assert Decimal(cells[(east, line2)][0]) == Decimal(split["amount"])


@pytest.mark.parametrize(
    "path",
    [
        "attainment?level=galaxy&period=2033-Q1",
        "attainment?level=rep&period=2033-Q5",
        "attainment?level=rep&period=2033'%20OR%201=1%20--",
        "heatmap?period=",
        "leaderboard?level=rep&period=2033-Q1&measure=luck",
        "leaderboard?level=product_line&period=2033-Q1&measure=revenue",
        "leaderboard?level=rep&period=2033-13&measure=revenue",
    ],
)
def test_a_bad_level_or_period_is_refused_with_the_reason(
    worker: QuotaFlowApp, settings: Settings, path: str
) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        get_json(settings, f"/api/{path}")
    assert refused.value.code == 400
    error = json.load(refused.value)["error"]
    assert "period" in error or "measure" in error


def _changes_of(settings: Settings, period: str, node: str, count: int) -> bool:
    path = f"/api/targets/changes?period={period}&node={node}"
    return len(get_json(settings, path)) >= count


def test_every_target_change_is_in_the_audit_view_with_who_when_why(
    worker: QuotaFlowApp, producer: Producer, settings: Settings
) -> None:
    company, line = unique("ACME"), unique("cloud")
    period = f"{YEAR}-Q2"

    def target(event_type: str, at: str, **fields: Any) -> dict[str, Any]:
        return envelope(event_type, unique("t"), f"{YEAR}-{at}T09:00:00+08:00",
                        period=period, currency="CNY", **fields)  # fmt: skip

    events = [
        target("QuotaAssigned", "01-02", node_id=company, level="company",
               parent_id=None, amount="1000000"),
        target("QuotaAdjusted", "02-03", node_id=company, level="company",
               parent_id=None, amount="1100000", reason="new market",
               approved_by="CFO-1"),
        target("QuotaAssigned", "02-04", node_id=line, level="product_line",
               parent_id=company, amount="1100000"),
        envelope("TargetsConfirmed", unique("c"), f"{YEAR}-03-01T09:00:00+08:00",
                 node_id=company, period=period, confirmed_by="CEO-1"),
    ]  # fmt: skip
    # The line's target rides another partition than the company's: each stage is
    # sent once the one before is in, as planners work (a line of 1,100,000 before
    # the adjustment would be refused as above the company's 1,000,000).
    for stage, node in ((events[:2], company), (events[2:3], line)):
        for event in stage:
            send(producer, TARGETS, event["node_id"].encode(), orjson.dumps(event))
        wait_for(
            partial(_changes_of, settings, period, node, len(stage)),
            60,
            f"the targets of {node}",
        )
    send(producer, TARGETS, company.encode(), orjson.dumps(events[3]))

    def audited() -> list[dict[str, Any]] | None:
        rows = get_json(
            settings, f"/api/targets/changes?period={period}&node={company}"
        )
        return rows if len(rows) == 3 else None

    rows = wait_for(audited, 60, "the company's three target changes")
    assert [(r["kind"], r["before"], r["after"], r["approved_by"]) for r in rows] == [
        ("confirmed", "1100000.00", "1100000.00", "CEO-1"),
        ("adjusted", "1000000.00", "1100000.00", "CFO-1"),
        ("assigned", None, "1000000.00", None),
    ]
    assert rows[1]["reason"] == "new market"
    assert rows[1]["occurred_at"].startswith(f"{YEAR}-02-03T01:00:00")  # in UTC


def test_a_deal_counts_for_its_reps_team_as_of_its_close_on_the_board(
    worker: QuotaFlowApp, producer: Producer, settings: Settings, plan: Plan
) -> None:
    """SPEC §9, one attainment definition: a move dated before a deal but sent
    after it puts the deal in the new team and region, on the board as in the
    domain (``domain.credits.node_revenue`` over the same events)."""
    period = f"{YEAR}-Q3"
    stay, mover = unique("S"), unique("M")
    old_team, new_team, east, west = unique("T"), unique("T"), unique("E"), unique("W")
    hires = [_hire(stay, old_team, east), _hire(mover, old_team, east)]
    deals = [
        _deal_in({stay: "1"}, "100000.00", f"{YEAR}-07-10T09:00:00+08:00"),
        _deal_in({mover: "1"}, "50000.00", f"{YEAR}-07-12T09:00:00+08:00"),
    ]
    moved = envelope("RepMoved", unique("m"), f"{YEAR}-07-01T00:00:00+08:00",
                     rep_id=mover, team_id=new_team, region=west,
                     role="account_manager", grade="P5",
                     hired_at="2030-01-01T00:00:00+08:00")  # fmt: skip
    before = routed(settings, ORG)
    for event in hires:
        send(producer, ORG, event["rep_id"].encode(), orjson.dumps(event))
    wait_for(lambda: routed(settings, ORG) >= before + 2, 60, "the hires routed")
    for event in deals:
        send(producer, DEALS, event["deal_id"].encode(), orjson.dumps(event))

    def teams() -> dict[str, str]:
        rows = get_json(settings, f"/api/attainment?level=team&period={period}")
        return {row["key"]: row["revenue"] for row in rows}

    wait_for(lambda: teams().get(old_team) == "150000.00", 60, "both deals in")
    send(producer, ORG, mover.encode(), orjson.dumps(moved))
    wait_for(lambda: teams().get(new_team) == "50000.00", 60, "the deal moved")
    assert teams()[old_team] == "100000.00"
    rows = get_json(settings, f"/api/attainment?level=region&period={period}")
    regions = {row["key"]: row["revenue"] for row in rows}
    assert (regions[east], regions[west]) == ("100000.00", "50000.00")
    heat = get_json(settings, f"/api/heatmap?period={period}")
    assert {cell["region"] for cell in heat if cell["region"] in (east, west)} == {
        east, west,
    }  # fmt: skip

    domain = replay([plan], [orjson.dumps(e) for e in [*hires, *deals, moved]])
    assert domain.rejected == ()
    for team, amount in teams().items():
        if team in (old_team, new_team):
            assert node_revenue(domain.world, "team", team, period) == Decimal(amount)


def _deal_in(reps: dict[str, str], amount: str, at: str) -> Any:
    first = next(iter(reps))
    return deal_event(
        event_id=unique("e"), deal_id=unique("D"), rep_id=first, amount=amount,
        margin="0.00", new_customer=False, product_line="cloud", region="north",
        occurred_at=at, payment_due_at=f"{YEAR}-12-31T00:00:00+08:00",
        splits=[{"rep_id": rep, "share": share} for rep, share in reps.items()],
    )  # fmt: skip
