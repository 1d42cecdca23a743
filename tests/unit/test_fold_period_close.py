"""PeriodClosed through the whole fold: attainment-band commission and points, and
the period awards, with examples/plans/full.yaml's numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.credits import deal_credit, node_revenue
from domain.engine import Step, node_attainment
from domain.events import Event
from domain.ledger import LedgerLine
from domain.periodawards import facts_of
from domain.plan import Plan
from tests.factories import envelope
from tests.unit.test_engine import deal, event, fold

D = Decimal
AT = "2026-01-01T00:00:00+08:00"
LATER = "2026-02-10T00:00:00+08:00"
HIRED = "2024-01-01T00:00:00+08:00"


def quota(node: str, level: str, parent: str | None, period: str, amount: str) -> Event:
    return event(
        envelope("QuotaAssigned", f"q-{node}-{period}", AT, node_id=node, level=level,
                 parent_id=parent, period=period, amount=amount, currency="CNY")
    )  # fmt: skip


def tree(period: str, team: str, reps: dict[str, str]) -> list[Event]:
    """A company → product line → region → team T1 → reps chain of targets."""
    return [
        quota("ACME", "company", None, period, "100000000"),
        quota("cloud", "product_line", "ACME", period, "100000000"),
        quota("east", "region", "cloud", period, "100000000"),
        quota("T1", "team", "east", period, team),
        *(quota(rep, "rep", "T1", period, amount) for rep, amount in reps.items()),
    ]


def hire(
    rep: str, role: str = "account_manager", grade: str = "P5", **kw: Any
) -> Event:
    fields = {"team_id": "T1", "region": "east", "role": role, "grade": grade,
              "hired_at": HIRED, **kw}  # fmt: skip
    return event(envelope("RepHired", f"h-{rep}", AT, rep_id=rep, **fields))


def sale(n: int, amount: str, rep: str, at: str) -> Event:
    return deal(
        n, amount, rep=rep, occurred_at=at, payment_due_at="2027-12-31T00:00:00+08:00"
    )


def close(period: str, at: str, n: int = 1) -> Event:
    return event(envelope("PeriodClosed", f"pc-{period}-{n}", at, period=period))


def by_rule(lines: list[LedgerLine], rep: str) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for line in lines:
        if line.rep_id == rep:
            found[line.rule] = found.get(line.rule, D(0)) + line.amount
    return found


def test_monthly_target_100000_and_sales_150000_earn_2000_and_200_points(
    full_plan: Plan,
) -> None:
    events = [
        *tree("2026-03", "100000", {"R-17": "100000"}),
        deal(1, "150000.00"),
        close("2026-03", "2026-04-01T00:00:00+08:00"),
    ]
    _, steps = fold(full_plan, events)
    closing = [line for line in steps[-1].lines if line.rule.startswith(("att", "po"))]
    assert [line.amount for line in closing if line.kind == "earned"] == [
        D("800.00"),
        D("600.00"),
        D("600.00"),
    ]
    # 150%: ten 10% steps at 10 points below 100%, five at 20 above: 100 + 100.
    (attained,) = (line for line in closing if line.kind == "points")
    assert attained.amount == D(200)
    assert "150%" in attained.formula
    assert by_rule(closing, "R-17")["attainment_band_commission"] == D(2000)


def test_closing_a_period_again_pays_nothing_twice(full_plan: Plan) -> None:
    events = [
        *tree("2026-03", "100000", {"R-17": "100000"}),
        deal(1, "150000.00"),
        close("2026-03", "2026-04-01T00:00:00+08:00", 1),
        close("2026-03", "2026-04-02T00:00:00+08:00", 2),
    ]
    _, steps = fold(full_plan, events)
    assert steps[-2].lines != ()
    assert steps[-1].lines == ()


def team_quarter() -> list[Event]:
    """A lead and two reps in T1 with 100,000 targets each for Q1 (300,000 for the
    team), their February sales of 200,000, 70,000 and 110,000, and Q1's close."""
    q = "2026-Q1"
    return [
        hire("A"),
        hire("B"),
        hire("L", role="team_lead", grade="P6"),
        *tree(q, "300000", {"A": "100000", "B": "100000", "L": "100000"}),
        sale(1, "200000.00", "A", "2026-02-01T09:00:00+08:00"),
        sale(2, "70000.00", "B", "2026-02-02T09:00:00+08:00"),
        sale(3, "110000.00", "L", "2026-02-03T09:00:00+08:00"),
        close(q, "2026-04-01T00:00:00+08:00"),
    ]


def test_quarter_close_pays_base_bonus_team_pool_and_the_leaders_coefficient(
    full_plan: Plan,
) -> None:
    _, steps = fold(full_plan, team_quarter())
    lines = list(steps[-1].lines)
    # Team 380,000 / 300,000 = 126.7% > 110%: 5% of the 80,000 above target = 4,000,
    # shared by A (200%) and L (110%), not B (70% < 80%): 200/310 and 110/310.
    assert by_rule(lines, "A") == {
        "base_performance_bonus": D("15000.00"),  # 10,000 × 1.5 (≥120%)
        "team_pool": D("2580.65"),
    }
    assert by_rule(lines, "B") == {}  # 70% of target: factor 0
    assert by_rule(lines, "L") == {
        "leader_bonus": D("18000.00"),  # 15,000 × 1 (110%) × 1.2 (team 126.7%)
        "team_pool": D("1419.35"),
    }


def test_the_cross_functional_pool_needs_a_nomination_from_sales(
    full_plan: Plan,
) -> None:
    q = "2026-Q1"
    nominate = event(
        envelope("NominationMade", "n-1", AT, nomination_id="N-1", nominee_id="S",
                 nominated_by="A", pool="xf", period=q)
    )  # fmt: skip
    events = [
        hire("A"),
        hire("S", role="support", grade="S3"),
        nominate,
        # The same nomination from a second source counts once (SPEC §9); the same
        # nomination id for someone else is a conflict.
        nominate.model_copy(update={"event_id": "n-2"}),
        nominate.model_copy(update={"event_id": "n-3", "nominee_id": "A"}),
        close(q, "2026-04-01T00:00:00+08:00"),
    ]
    _, steps = fold(full_plan, events)
    assert steps[3] == Step()
    assert steps[4].rejected[0].code == "conflict"
    assert "nomination N-1 was already recorded" in steps[4].rejected[0].reason
    assert by_rule(list(steps[-1].lines), "S") == {
        "cross_functional_pool": D("20000.00")
    }


def test_support_staff_bonus_follows_their_teams_satisfaction_scores(
    full_plan: Plan,
) -> None:
    q = "2026-Q1"

    def score(n: int, value: str) -> Event:
        return event(envelope("SatisfactionRecorded", f"s-{n}", LATER, deal_id=f"D-{n}",
                              customer_id="C-88", score=value))  # fmt: skip

    events = [
        hire("A"),
        hire("S", role="support", grade="S3"),
        hire("X", team_id="T2"),
        deal(1, "10000.00", rep="A"),
        deal(2, "10000.00", rep="A"),
        score(1, "90"),
        score(2, "98"),
        close(q, "2026-04-01T00:00:00+08:00"),
    ]
    _, steps = fold(full_plan, events)
    # Mean score 94 (X's team does not count): the 90–95 band pays 0.8 of 6,000.
    assert by_rule(list(steps[-1].lines), "S") == {"support_bonus": D("4800.00")}


def year_with_champions() -> list[Event]:
    """Three reps over 2025 and 2026, and the close of 2026."""
    return [
        hire("A"),
        hire("B"),
        hire("N", hired_at="2025-06-01T00:00:00+08:00"),
        *tree("2025", "1000000", {"A": "100000", "B": "100000", "N": "100000"}),
        *tree("2026", "1000000", {"A": "100000", "B": "100000", "N": "100000"}),
        sale(1, "150000.00", "A", "2025-05-01T09:00:00+08:00"),
        sale(2, "100000.00", "N", "2025-07-01T09:00:00+08:00"),
        sale(3, "150000.00", "A", "2026-05-01T09:00:00+08:00"),
        sale(4, "150000.00", "B", "2026-04-01T09:00:00+08:00"),
        sale(5, "350000.00", "N", "2026-03-01T09:00:00+08:00"),
        close("2026", "2027-01-01T00:00:00+08:00"),
    ]


def test_year_close_ranks_champions_and_pays_long_service(
    full_plan: Plan,
) -> None:
    _, steps = fold(full_plan, year_with_champions())
    lines = list(steps[-1].lines)
    champions = {
        line.rep_id: line.amount for line in lines if line.rule == "annual_champion"
    }
    # N first; A and B tie at 150,000 and B reached it earlier (April before May).
    assert champions == {"N": D(50000), "B": D(30000), "A": D(20000)}
    assert by_rule(lines, "A")["long_service"] == D(10000)  # 2025 and 2026 met
    assert "long_service" not in by_rule(lines, "B")  # 2025 not met


def test_a_newcomer_tripling_revenue_quarter_on_quarter_is_the_dark_horse(
    full_plan: Plan,
) -> None:
    events = [
        hire("N", hired_at="2025-10-01T00:00:00+08:00"),
        sale(1, "100000.00", "N", "2025-11-01T09:00:00+08:00"),
        sale(2, "350000.00", "N", "2026-02-01T09:00:00+08:00"),
        close("2026-Q1", "2026-04-01T00:00:00+08:00"),
    ]
    _, steps = fold(full_plan, events)
    # Hired under a year before the quarter ends; 350,000 vs 100,000 is 250% growth.
    assert by_rule(list(steps[-1].lines), "N") == {"dark_horse": D(20000)}


def test_promotion_signal_after_two_quarters_above_120_percent_and_two_mentees(
    full_plan: Plan,
) -> None:
    def mentee(n: int) -> Event:
        return event(envelope("ActivityLogged", f"m-{n}", AT, activity_id=f"M-{n}",
                              rep_id="A", kind="mentee_passed"))  # fmt: skip

    events = [
        hire("A"),
        *tree("2026-Q1", "1000000", {"A": "100000"}),
        *tree("2026-Q2", "1000000", {"A": "100000"}),
        sale(1, "130000.00", "A", "2026-02-01T09:00:00+08:00"),
        sale(2, "125000.00", "A", "2026-05-01T09:00:00+08:00"),
        close("2026-Q1", "2026-04-01T00:00:00+08:00"),
        close("2026-Q2", "2026-07-01T00:00:00+08:00"),
        mentee(1),
        mentee(2),
        close("2026-Q2", "2026-07-02T00:00:00+08:00", 2),
    ]
    _, steps = fold(full_plan, events)
    assert steps[-5].candidates == ()  # one quarter only
    assert steps[-4].candidates == ()  # no mentees yet
    assert steps[-1].candidates == ()  # Q2 is closed already
    fresh = [*events[:-4], mentee(1), mentee(2), events[-4]]
    _, steps = fold(full_plan, fresh)
    (candidate,) = steps[-1].candidates
    assert candidate.rep_id == "A"


def test_a_team_lead_without_a_team_target_is_withheld_and_the_close_goes_on(
    full_plan: Plan,
) -> None:
    # T1's target is in the tree; L leads T2, which has none.
    events = [
        hire("L", role="team_lead", grade="P6", team_id="T2"),
        hire("A"),
        *tree("2026-Q1", "100000", {"A": "100000"}),
        sale(1, "130000.00", "A", "2026-02-01T09:00:00+08:00"),
        close("2026-Q1", "2026-04-01T00:00:00+08:00"),
    ]
    _, steps = fold(full_plan, events)
    assert steps[-1].rejected == ()
    (withheld,) = (w for w in steps[-1].withheld if w.rule == "leader_bonus")
    assert "no target for team T2" in withheld.reason
    assert by_rule(list(steps[-1].lines), "A")["base_performance_bonus"] > 0


def test_profit_above_target_is_shared_in_tiers_and_follows_amendments(
    full_plan: Plan,
) -> None:
    amend = event(
        envelope("DealAmended", "am-1", "2026-02-10T00:00:00+08:00", deal_id="D-1",
                 amount="120000.00", margin="40000.00", currency="CNY",
                 splits=[{"rep_id": "R-17", "share": "1"}])
    )  # fmt: skip
    events = [
        *tree("2026-Q1", "100000", {"R-17": "100000"}),
        deal(1, "120000.00", margin="50000.00"),
        close("2026-Q1", "2026-04-01T00:00:00+08:00"),
    ]
    _, steps = fold(full_plan, events)
    # Profit target 100,000 × 30% = 30,000; 20,000 above: 10,000 × 5% + 10,000 × 10%.
    shared = [line for line in steps[-1].lines if line.rule == "profit_share"]
    assert [line.amount for line in shared] == [D("500.00"), D("1000.00")]
    assert "30,000.00" in shared[0].formula
    _, steps = fold(full_plan, [*events[:-1], amend, events[-1]])
    shared = [line for line in steps[-1].lines if line.rule == "profit_share"]
    assert [line.amount for line in shared] == [D("500.00")]


def test_attainment_of_a_team_and_region_sums_their_members(full_plan: Plan) -> None:
    q = "2026-Q1"
    events = [
        hire("A"),
        hire("B"),
        hire("L", role="team_lead", grade="P6"),
        *tree(q, "300000", {"A": "100000", "B": "100000", "L": "100000"}),
        sale(1, "200000.00", "A", "2026-02-01T09:00:00+08:00"),
        sale(2, "70000.00", "B", "2026-02-02T09:00:00+08:00"),
        sale(3, "110000.00", "L", "2026-02-03T09:00:00+08:00"),
    ]
    world, _ = fold(full_plan, events)
    assert node_attainment(world, "T1", q) == D(380000) / D(300000)
    assert node_attainment(world, "east", q) == D("0.0038")
    assert node_attainment(world, "B", q) == D("0.7")
    assert node_attainment(world, "T1", "2026-Q2") is None


def test_a_deal_counts_for_its_reps_team_as_of_its_close(full_plan: Plan) -> None:
    """SPEC §9: one attainment definition; a deal's team and region are its rep's
    as of the close, whatever order the move arrives in."""
    q = "2026-Q1"
    moved = event(
        envelope("RepMoved", "m-B", "2026-02-15T00:00:00+08:00", rep_id="B",
                 team_id="T2", region="west", role="account_manager", grade="P5",
                 hired_at=HIRED)
    )  # fmt: skip
    events = [
        hire("A"),
        hire("B"),
        *tree(q, "300000", {"A": "100000", "B": "100000", "L": "100000"}),
        sale(1, "200000.00", "A", "2026-02-01T09:00:00+08:00"),
        sale(2, "70000.00", "B", "2026-02-02T09:00:00+08:00"),  # in T1
        sale(3, "50000.00", "B", "2026-03-02T09:00:00+08:00"),  # in T2
        sale(4, "90000.00", "B", "2026-04-02T09:00:00+08:00"),  # another quarter
        sale(5, "40000.00", "B", "2026-01-20T09:00:00+08:00"),
        event(envelope("DealCancelled", "x-5", "2026-01-21T09:00:00+08:00",
                       deal_id="D-5", reason="lost")),
    ]  # fmt: skip
    for order in ([*events, moved], [*events[:2], moved, *events[2:]]):
        world, _ = fold(full_plan, order)
        assert node_attainment(world, "T1", q) == D(270000) / D(300000)
        assert world.people["B"].team_id == "T2"
        assert world.people["B"].placed_at(datetime(2026, 1, 1, tzinfo=UTC)) == (
            "T1", "east",
        )  # fmt: skip
        (credit,) = (
            c for d in ("D-3",) if (c := deal_credit(world, d, "B")) is not None
        )
        assert (credit.team_id, credit.rep_region) == ("T2", "west")
        facts = facts_of(world, world.people["B"], q)
        assert facts.team_revenue == (("T1", D(70000)), ("T2", D(50000)))
        assert node_revenue(world, "company", "ACME", q) == D(320000)
    # A person recorded before placements were kept sits where they stand.
    unplaced = replace(world.people["B"], placements=())
    assert unplaced.placed_at(datetime(2026, 1, 1, tzinfo=UTC)) == ("T2", "west")


def test_an_approved_innovation_proposal_earns_5_percent_of_its_uplift(
    full_plan: Plan,
) -> None:
    def adopted(n: int, approved_by: str | None) -> Event:
        return event(envelope("ProposalAdopted", f"pa-{n}", AT, proposal_id=f"P-{n}",
                              rep_id="A", period="2026-Q1", measured_uplift="200000",
                              approved_by=approved_by))  # fmt: skip

    events = [
        adopted(1, "CFO"),
        adopted(2, None),
        adopted(1, "CFO").model_copy(update={"event_id": "pa-again"}),
        adopted(1, "CEO").model_copy(update={"event_id": "pa-other"}),
        close("2026-Q1", "2026-04-01T00:00:00+08:00"),
    ]
    _, steps = fold(full_plan, events)
    assert steps[2] == Step()  # a second source: counted once
    assert steps[3].rejected[0].code == "conflict"
    assert by_rule(list(steps[-1].lines), "A") == {"innovation_award": D("10000.00")}
    (withheld,) = (w for w in steps[-1].withheld if w.rule == "innovation_award")
    assert "P-2: awaiting manual approval" in withheld.reason


def test_an_approval_sent_after_the_adoption_approves_it_even_after_the_close(
    full_plan: Plan,
) -> None:
    """The approval is the proposal sent again with ``approved_by``: before the
    close it lets the close pay; after it, the quarter's awards are trued up."""

    def adopted(event_id: str, approver: str | None, uplift: str = "200000") -> Event:
        return event(envelope("ProposalAdopted", event_id, AT, proposal_id="P-9",
                              rep_id="A", period="2026-Q1", measured_uplift=uplift,
                              approved_by=approver))  # fmt: skip

    quarter = close("2026-Q1", "2026-04-01T00:00:00+08:00")
    _, before = fold(full_plan, [adopted("a", None), adopted("b", "CFO"), quarter])
    assert before[1] == Step()
    assert by_rule(list(before[-1].lines), "A") == {"innovation_award": D("10000.00")}

    events = [
        adopted("a", None),
        quarter,
        adopted("b", "CFO"),
        adopted("c", None),  # the unapproved proposal again: nothing changes
        adopted("d", "CEO"),
        adopted("e", None, uplift="1"),
    ]
    _, steps = fold(full_plan, events)
    assert not by_rule(list(steps[1].lines), "A")
    (award,) = steps[2].lines
    assert (award.rule, award.amount) == ("innovation_award", D(10000))
    assert award.rep_id == "A"
    assert "approved by CFO" in award.formula
    assert "true-up of 2026-Q1's awards after ProposalAdopted b" in award.formula
    assert steps[3] == Step()
    assert [(r.code, r.reason) for r in steps[4].rejected] == [
        ("conflict", "proposal P-9 was already approved by CFO, not CEO")
    ]
    other_terms = "other terms (rep A, 2026-Q1, uplift 200,000.00)"
    assert [(r.code, r.reason) for r in steps[5].rejected] == [
        ("conflict", f"proposal P-9 was already recorded with {other_terms}")
    ]
