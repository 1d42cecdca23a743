"""Team and region leaderboards, points balances, the budget's accrual and the run-rate
forecast, read from the real ClickHouse engine (chDB) over rows written by the
projection writers. Each test sells in a year no other test uses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from domain.accrual import ACCRUING_KINDS as DOMAIN_ACCRUING_KINDS
from domain.booking import points_draft
from domain.budget import BudgetRules, BudgetState, accrue
from domain.ledger import LedgerLine
from domain.plan import Plan
from domain.points import PointsLine
from domain.rep import Source
from domain.targets import TargetError
from projections.dimensions import write_dimensions
from projections.forecast import Forecast, forecast
from projections.ledger import write_lines
from projections.points import PointsBalance, points_balances, redemptions
from projections.store import Store
from projections.tracking import (
    ACCRUING_KINDS,
    GroupRank,
    budget_accrual,
    group_leaderboard,
    region_leaderboard,
    team_leaderboard,
)
from streams.infra.runtime import load_plan
from tests.integration.conftest import unique
from tests.integration.rows import VERSIONS, at, credit, line, person, target

pytestmark = pytest.mark.integration


@pytest.fixture
def store(contract_store: Store) -> Store:
    """Part of the projection contract: run on chDB and on a named server."""
    return contract_store


D = Decimal
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def full_plan() -> Plan:
    return load_plan(ROOT / "examples/plans/full.yaml")


def board(ranks: list[GroupRank]) -> list[tuple[int, str, Decimal, int]]:
    return [(r.rank, r.key, r.commission, r.reps) for r in ranks]


def test_team_and_region_commission_counts_each_line_in_its_deals_plan_period(
    store: Store,
) -> None:
    a, b, c, d, stray = (unique(r) for r in "ABCDE")
    t1, t2, t3, east, west = (unique(g) for g in ("T1", "T2", "T3", "E", "W"))
    deals = {r: unique("D") for r in (a, b, c, d)}
    q2_deal, late_deal = unique("D"), unique("D")
    credits = [credit(r, deals[r], "1", "2041-02-10T09:00:00+08:00") for r in deals]
    credits += [
        credit(d, q2_deal, "1", "2041-04-10T09:00:00+08:00"),
        # 03:00 on April 1st in +08:00 is still March 31st in UTC: the deal's
        # offset decides, as attainment counts it.
        credit(c, late_deal, "1", "2041-04-01T03:00:00+08:00"),
    ]
    people = [person(a, t1, east), person(b, t1, east), person(c, t2, east)]
    people.append(person(d, t3, west))
    write_dimensions(store, credits, people, [])
    lines = [
        line(a, "earned", "3000.00", "2041-02-10T09:00:00+08:00", deal=deals[a]),
        line(b, "earned", "1500.00", "2041-02-10T09:00:00+08:00", deal=deals[b]),
        # A clawback booked in May lands in the deal's February.
        line(b, "earned", "-500.00", "2041-05-03T09:00:00+08:00", deal=deals[b]),
        line(c, "earned", "4200.00", "2041-02-10T09:00:00+08:00", deal=deals[c]),
        line(d, "earned", "2000.00", "2041-02-10T09:00:00+08:00", deal=deals[d]),
        line(d, "payable", "9999.00", "2041-02-11T09:00:00+08:00", deal=deals[d]),
        line(d, "bonus", "777.00", "2041-02-11T09:00:00+08:00", deal=deals[d]),
        # The Q1 close, booked in April, counts in Q1 (its inputs name the period).
        line(
            a,
            "earned",
            "800.00",
            "2041-04-02T09:00:00+08:00",
            inputs=(("period", "2041-Q1"), ("sales", "1")),
        ),
        line(d, "earned", "5000.00", "2041-04-10T09:00:00+08:00", deal=q2_deal),
        line(c, "earned", "600.00", "2041-04-01T03:00:00+08:00", deal=late_deal),
        # Not in the rep directory: counts for no team or region.
        line(stray, "earned", "100000.00", "2041-02-10T09:00:00+08:00"),
    ]
    write_lines(store, lines)
    write_lines(store, lines)  # a rewrite carries the same versions: counted once

    assert board(team_leaderboard(store, "2041-Q1")) == [
        (1, t1, D("4800.00"), 2),  # 3,000 + 1,500 - 500 + 800
        (2, t2, D("4200.00"), 1),
        (3, t3, D("2000.00"), 1),  # payable and bonus lines are not earned
    ]
    assert board(region_leaderboard(store, "2041-Q1")) == [
        (1, east, D("9000.00"), 3),
        (2, west, D("2000.00"), 1),
    ]
    # A month holds its deals' lines but not the quarter's close.
    assert board(team_leaderboard(store, "2041-02")) == [
        (1, t2, D("4200.00"), 1),
        (2, t1, D("4000.00"), 2),
        (3, t3, D("2000.00"), 1),
    ]
    assert board(team_leaderboard(store, "2041-Q2")) == [
        (1, t3, D("5000.00"), 1),
        (2, t2, D("600.00"), 1),
    ]
    tied = sorted((t1, t2))  # 4,800 each over the year: ties go by key
    assert board(team_leaderboard(store, "2041")) == [
        (1, t3, D("7000.00"), 1),
        (2, tied[0], D("4800.00"), 2 if tied[0] == t1 else 1),
        (3, tied[1], D("4800.00"), 2 if tied[1] == t1 else 1),
    ]
    assert board(group_leaderboard(store, "region", "2041", limit=1)) == [
        (1, east, D("9600.00"), 3)  # t1 4,800 + t2 4,800; west 7,000
    ]
    assert {r.currency for r in team_leaderboard(store, "2041")} == {"CNY"}
    assert team_leaderboard(store, "2042") == []


def test_a_deals_commission_counts_for_the_team_its_rep_sat_in_at_the_close(
    store: Store,
) -> None:
    """SPEC §9: a deal's team and region are the rep's as of its close. The rep
    moved from ``before`` (east) to ``after`` (west) since; a line of no deal
    counts where the directory places the rep now."""
    rep, deal = unique("R"), unique("D")
    before, after, east, west = (unique(g) for g in ("T1", "T2", "E", "W"))
    when = "2043-02-10T09:00:00+08:00"
    placed = credit(rep, deal, "1", when, team=before, rep_region=east)
    write_dimensions(store, [placed], [person(rep, after, west)], [])
    write_lines(
        store,
        [
            line(rep, "earned", "3000.00", when, deal=deal),
            line(rep, "earned", "500.00", "2043-04-02T09:00:00+08:00",
                 inputs=(("period", "2043-Q1"), ("sales", "1"))),
        ],
    )  # fmt: skip
    assert board(team_leaderboard(store, "2043-Q1")) == [
        (1, before, D("3000.00"), 1),
        (2, after, D("500.00"), 1),
    ]
    assert board(region_leaderboard(store, "2043-02")) == [(1, east, D("3000.00"), 1)]


def test_a_group_leaderboard_refuses_an_unknown_level_or_a_limit_below_one(
    store: Store,
) -> None:
    with pytest.raises(ValueError, match="level"):
        group_leaderboard(store, "galaxy", "2041")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        team_leaderboard(store, "2041", limit=0)


def test_points_balance_is_earned_less_redeemed_and_lists_each_redemption(
    store: Store, full_plan: Plan
) -> None:
    p1, p2 = unique("P1"), unique("P2")

    def points(rep: str, rule: str, amount: int, when: str, why: str) -> LedgerLine:
        item = PointsLine(
            rep_id=rep, rule=rule, points=D(amount), formula=why,
            source_event_ids=(unique("e"),),
        )  # fmt: skip
        drafted = points_draft(rep, full_plan, item, Source(unique("e"), at(when)))
        return replace(drafted, sequence=next(VERSIONS))

    headset = "redeemed 30 points for a headset"
    day_off = "redeemed 20 points for a day off"
    lines = [
        points(p1, "visit", 100, "2043-01-05T10:00:00+08:00", "visits"),
        points(p1, "new_customer", 20, "2043-01-06T10:00:00+08:00", "new customer"),
        points(p1, "redemption", -30, "2043-02-01T10:00:00+08:00", headset),
        points(p1, "redemption", -20, "2043-03-01T10:00:00+08:00", day_off),
        points(p2, "visit", 50, "2043-01-05T10:00:00+08:00", "visits"),
        points(p2, "negative_review", -10, "2043-01-09T10:00:00+08:00", "review"),
        line(p1, "earned", "1000.00", "2043-01-05T10:00:00+08:00"),  # money, not points
    ]
    write_lines(store, lines)
    write_lines(store, lines[2:4])  # rewritten redemptions are not redeemed twice

    assert points_balances(store, p1) == [
        PointsBalance(rep_id=p1, earned=D(120), redeemed=D(50), balance=D(70))
    ]
    everyone = {b.rep_id: b for b in points_balances(store, None)}
    assert everyone[p2] == PointsBalance(
        rep_id=p2, earned=D(40), redeemed=D(0), balance=D(40)
    )
    assert everyone[p1].balance == D(70)
    spent = redemptions(store, p1)
    assert [(r.redeemed_at, r.points, r.formula) for r in spent] == [
        (datetime(2043, 2, 1, 2, tzinfo=UTC), D(30), headset),  # 10:00 at +08:00
        (datetime(2043, 3, 1, 2, tzinfo=UTC), D(20), day_off),
    ]
    assert redemptions(store, p2) == []
    assert points_balances(store, unique("nobody")) == []


def test_the_budget_accrues_earned_and_bonus_lines_as_the_domain_does(
    store: Store, full_plan: Plan
) -> None:
    assert set(ACCRUING_KINDS) == DOMAIN_ACCRUING_KINDS
    rules = full_plan.budget
    assert rules is not None
    assert rules == BudgetRules(total=D(1_000_000), currency="CNY")  # 15% reserve
    plan, other, rep = unique("plan"), unique("plan"), unique("R")
    first = [
        line(rep, "earned", "600000.00", "2043-03-01T10:00:00+08:00", plan=plan),
        line(rep, "bonus", "250000.00", "2043-03-02T10:00:00+08:00", plan=plan),
        line(rep, "payable", "500000.00", "2043-03-03T10:00:00+08:00", plan=plan),
        line(rep, "points", "1000.00", "2043-03-03T10:00:00+08:00", plan=plan),
        line(rep, "earned", "999999.00", "2043-03-03T10:00:00+08:00", plan=other),
    ]
    write_lines(store, first)
    reached = budget_accrual(store, rules, plan)
    assert (reached.accrued, reached.status, reached.alert) == (
        D("850000.00"), "within", False,
    )  # fmt: skip  # reaching the limit exactly is not passing it

    more = [line(rep, "earned", "50000.00", "2043-04-01T10:00:00+08:00", plan=plan)]
    write_lines(store, more)
    over = budget_accrual(store, rules, plan)
    assert over.model_dump() == {
        "plan_id": plan, "period": None, "currency": "CNY",
        "accrued": D("900000.00"), "total": D(1_000_000),
        "non_reserve_limit": D(850_000), "reserve": D(150_000),
        "remaining_non_reserve": D(-50_000), "remaining": D(100_000),
        "status": "drawing_reserve", "alert": True,
        "alerts": ("non_reserve_exceeded",),
    }  # fmt: skip

    last = [line(rep, "bonus", "100000.01", "2044-01-10T10:00:00+08:00", plan=plan)]
    write_lines(store, last)
    write_lines(store, last)
    spent = budget_accrual(store, rules, plan)
    assert (spent.accrued, spent.remaining, spent.status) == (
        D("1000000.01"), D("-0.01"), "reserve_exhausted",
    )  # fmt: skip
    assert spent.alerts == ("non_reserve_exceeded", "reserve_exhausted")
    assert budget_accrual(store, rules, plan, "2043").accrued == D("900000.00")
    assert budget_accrual(store, rules, plan, "2043-Q2").accrued == D("50000.00")
    assert budget_accrual(store, rules, plan, "2044-01").alerts == ()
    # A release paid fast: its premium (×1.10 of 1,000 earned) is accrued; the
    # 1,100 released is not accrued again.
    fast = line(rep, "payable", "1100.00", "2044-02-10T10:00:00+08:00", plan=plan,
                premium="100.00")  # fmt: skip
    write_lines(store, [fast])
    assert budget_accrual(store, rules, plan, "2044-02").accrued == D("100.00")

    state, raised = BudgetState(), set()
    for amount in ("600000.00", "250000.00", "50000.00", "100000.01"):
        state, alerts = accrue(state, D(amount), rules, currency="CNY")
        raised |= {alert.kind for alert in alerts}
    assert state.accrued == spent.accrued
    assert raised == set(spent.alerts)


def _forecasts(rows: list[Forecast]) -> dict[str, tuple[object, ...]]:
    return {
        r.key: (r.revenue, r.forecast, r.target, r.shortfall, r.alert) for r in rows
    }


def test_run_rate_forecast_alerts_the_reps_and_teams_heading_below_target(
    store: Store,
) -> None:
    r1, r2, r3, r4, ta, tb = (unique(k) for k in ("r1", "r2", "r3", "r4", "TA", "TB"))
    q = "2045-Q1"  # 90 days; halfway at the start of February 15th
    write_dimensions(
        store,
        [
            credit(r1, unique("D"), "40000.00", "2045-01-10T09:00:00+08:00"),
            credit(r2, unique("D"), "60000.00", "2045-02-01T09:00:00+08:00"),
            credit(r2, unique("D"), "30000.00", "2045-02-20T09:00:00+08:00"),
            credit(
                r2,
                unique("D"),
                "500000.00",
                "2045-01-20T09:00:00+08:00",
                cancelled=True,
            ),
            credit(r4, unique("D"), "10000.00", "2045-02-14T09:00:00+08:00"),
        ],
        [
            person(r, team, "east")
            for r, team in ((r1, ta), (r2, ta), (r3, tb), (r4, tb))
        ],
        [
            target(r1, "rep", q, "100000"),
            target(r2, "rep", q, "100000"),
            target(r3, "rep", q, "50000"),
            target(ta, "team", q, "150000"),
            target(tb, "team", q, "300000"),
        ],
    )
    half = at("2045-02-15T00:00:00+08:00")

    reps = forecast(store, "rep", q, half)
    assert {r.elapsed for r in reps} == {D("0.5")}
    assert {k: v for k, v in _forecasts(reps).items() if k in (r1, r2, r3, r4)} == {
        r1: (D(40000), D(80000), D(100000), D(20000), True),
        r2: (D(60000), D(120000), D(100000), D(0), False),  # Feb 20th is to come
        r3: (D(0), D(0), D(50000), D(50000), True),  # a target and no sales yet
        r4: (D(10000), D(20000), None, None, False),  # no target, no alert
    }
    assert _forecasts(forecast(store, "team", q, half, key=tb)) == {
        tb: (D(10000), D(20000), D(300000), D(280000), True)
    }
    assert _forecasts(forecast(store, "team", q, half, key=ta)) == {
        ta: (D(100000), D(200000), D(150000), D(0), False)
    }

    before = forecast(store, "rep", q, at("2044-12-31T23:00:00+08:00"), key=r1)
    assert _forecasts(before) == {r1: (D(0), None, D(100000), None, False)}
    after = forecast(store, "rep", q, at("2045-06-01T00:00:00+08:00"), key=r2)
    assert after[0].elapsed == 1
    assert _forecasts(after) == {r2: (D(90000), D(90000), D(100000), D(10000), True)}


def test_a_forecast_refuses_a_bad_level_period_or_a_naive_moment(store: Store) -> None:
    when = at("2045-02-15T00:00:00+08:00")
    with pytest.raises(ValueError, match="level"):
        forecast(store, "region", "2045-Q1", when)  # type: ignore[arg-type]
    with pytest.raises(TargetError, match="period"):
        forecast(store, "rep", "2045-Q5", when)
    with pytest.raises(ValueError, match="offset"):
        forecast(store, "rep", "2045-Q1", datetime(2045, 2, 15))  # noqa: DTZ001


@pytest.mark.parametrize(
    "hostile",
    [
        "x' OR '1'='1",
        "2041' OR 1=1 --",
        "'; DROP TABLE ledger_lines; --",
        "2041-Q1') UNION ALL SELECT 1 --",
    ],
)
def test_an_injection_string_as_rep_or_period_finds_nothing_and_changes_nothing(
    store: Store, hostile: str
) -> None:
    rep = unique("R")
    write_lines(store, [line(rep, "points", "5.00", "2046-01-01T00:00:00+08:00")])
    lines_before = store.rows("SELECT count() FROM ledger_lines FINAL")
    rules = BudgetRules(total=D(1000), currency="CNY")

    assert team_leaderboard(store, hostile) == []
    assert region_leaderboard(store, hostile) == []
    assert points_balances(store, hostile) == []
    assert redemptions(store, hostile) == []
    assert budget_accrual(store, rules, hostile).accrued == 0
    assert budget_accrual(store, rules, "P", hostile).accrued == 0
    assert forecast(store, "rep", "2046", at("2046-06-01T00:00:00Z"), hostile) == []
    with pytest.raises(TargetError):
        forecast(store, "rep", hostile, at("2046-06-01T00:00:00Z"))

    assert store.rows("SELECT count() FROM ledger_lines FINAL") == lines_before
    assert points_balances(store, rep)[0].balance == D(5)
