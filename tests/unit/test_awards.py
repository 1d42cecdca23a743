from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.awards import (
    AwardError,
    AwardLine,
    AwardRules,
    BasePerformanceBonus,
    ChampionAward,
    ClosedPeriod,
    CrossFunctionalPool,
    DarkHorseAward,
    InnovationAward,
    InnovationProposal,
    LeaderCoefficient,
    LongServiceAward,
    Nomination,
    PromotionSignal,
    RepPeriodFacts,
    SupportBonus,
    TeamPeriodFacts,
    TeamPool,
    Withheld,
    base_performance_bonus,
    champions,
    cross_functional_pool,
    dark_horse,
    innovation_award,
    leader_bonus,
    long_service,
    period_awards,
    promotion_signal,
    support_bonus,
    team_pool,
)

D = Decimal
CST = timezone(timedelta(hours=8))
HIRED = datetime(2020, 1, 6, 9, 0, tzinfo=CST)


def _bands(*steps: tuple[str, str | None, str]) -> list[dict[str, Any]]:
    return [{"lower": lo, "upper": hi, "factor": f} for lo, hi, f in steps]


BASE = BasePerformanceBonus.model_validate(
    {
        "cadence": "quarter",
        "base_by_grade": {"P5": "20000", "P6": "30000"},
        "bands": _bands(
            ("0", "0.8", "0"),
            ("0.8", "1.0", "0.6"),
            ("1.0", "1.2", "1.0"),
            ("1.2", None, "1.3"),
        ),
    }
)
LEADER = LeaderCoefficient.model_validate(
    {"bands": _bands(("0", "0.9", "0.8"), ("0.9", "1.1", "1.0"), ("1.1", None, "1.2"))}
)
SUPPORT = SupportBonus.model_validate(
    {
        "cadence": "quarter",
        "base_by_grade": {"S2": "10000"},
        "bands": _bands(
            ("0", "80", "0"),
            ("80", "90", "0.8"),
            ("90", "95", "1.0"),
            ("95", None, "1.2"),
        ),
    }
)
POOL = TeamPool(
    cadence="quarter",
    team_above=D("1.10"),
    funding_rate=D("0.10"),
    member_at_least=D("0.80"),
)
CROSS = CrossFunctionalPool(cadence="quarter", pool_id="xf", amount=D(9000))
CHAMPION = ChampionAward(amounts=(D(50000), D(30000), D(20000)))
DARK_HORSE = DarkHorseAward(
    cadence="quarter", tenure_under_years=1, growth_above=D(2), amount=D(8000)
)
LONG_SERVICE = LongServiceAward.model_validate(
    {"tiers": [{"years": 3, "amount": "5000"}, {"years": 5, "amount": "12000"}]}
)
PROMOTION = PromotionSignal(quarters=2, attainment_above=D("1.20"), mentees_passed=2)
INNOVATION = InnovationAward(share_of_uplift=D("0.05"))
Q2 = ClosedPeriod(period="2026-Q2", ends_at=datetime(2026, 7, 1, tzinfo=CST))


def _rep(rep_id: str = "R-1", **changes: Any) -> RepPeriodFacts:
    facts: dict[str, Any] = {
        "rep_id": rep_id,
        "team_id": "T-1",
        "role": "account_manager",
        "grade": "P6",
        "hired_at": HIRED,
        "revenue": D(0),
    }
    return RepPeriodFacts.model_validate(facts | changes)


def _team(
    revenue: str, target: str = "1000000", team_id: str = "T-1"
) -> TeamPeriodFacts:
    return TeamPeriodFacts(team_id=team_id, revenue=D(revenue), target=D(target))


def _amounts(lines: tuple[AwardLine, ...]) -> dict[str, Decimal]:
    return {line.rep_id: line.amount for line in lines}


# 基础绩效奖金: step bands on attainment; the whole base takes the band's share.
@pytest.mark.parametrize(
    ("grade", "revenue", "target", "expected"),
    [
        ("P6", "520000", "500000", "30000.00"),  # 104% in 100%–120%: 30,000 × 1.0
        ("P5", "450000", "500000", "12000.00"),  # 90% in 80%–100%: 20,000 × 0.6
        ("P5", "400000", "500000", "12000.00"),  # exactly 80% is in 80%–100%
        ("P5", "600000", "500000", "26000.00"),  # exactly 120%: 20,000 × 1.3
        ("P6", "399999", "500000", None),  # 79.9998%: share 0, no line
    ],
)
def test_base_performance_bonus_takes_the_share_of_the_attainment_band(
    grade: str, revenue: str, target: str, expected: str | None
) -> None:
    rep = _rep(grade=grade, revenue=D(revenue), target=D(target))
    line = base_performance_bonus(rep, BASE, "CNY")
    assert (line and line.amount) == (expected and D(expected))


def test_base_performance_bonus_explains_base_band_and_attainment() -> None:
    rep = _rep(revenue=D(520000), target=D(500000))
    line = base_performance_bonus(rep, BASE, "CNY")
    assert line is not None
    assert line.formula == (
        "base 30,000.00 × 100% (attainment 104.00% in band 100%–120%) = 30,000.00"
    )
    assert line.key == "award/base_performance_bonus"
    assert ("attainment", "1.04") in line.inputs


@pytest.mark.parametrize(
    "changes",
    [
        {"grade": "P9"},  # no base for the grade in the plan
        {"role": "support"},  # support staff have their own bonus
        {"target": D(0)},  # no target, no attainment
    ],
)
def test_base_performance_bonus_needs_a_sales_role_a_graded_base_and_a_target(
    changes: dict[str, Any],
) -> None:
    rep = _rep(**{"revenue": D(520000), "target": D(500000)} | changes)
    assert base_performance_bonus(rep, BASE, "CNY") is None


@pytest.mark.parametrize(
    ("team_revenue", "expected"),
    [
        ("2300000", "36000.00"),  # team 115%: 30,000 × 1.0 × 1.2
        ("2000000", "30000.00"),  # team 100%: × 1.0
        ("1700000", "24000.00"),  # team 85%: × 0.8
    ],
)
def test_leader_bonus_is_the_base_bonus_times_the_team_coefficient(
    team_revenue: str, expected: str
) -> None:
    lead = _rep("L-1", role="team_lead", revenue=D(1040000), target=D(1000000))
    line = leader_bonus(lead, _team(team_revenue, "2000000"), BASE, LEADER, "CNY")
    assert line is not None
    assert (line.rule, line.amount) == ("leader_bonus", D(expected))


def test_leader_bonus_formula_names_the_team_coefficient() -> None:
    lead = _rep("L-1", role="team_lead", revenue=D(1040000), target=D(1000000))
    line = leader_bonus(lead, _team("2300000", "2000000"), BASE, LEADER, "CNY")
    assert line is not None
    assert line.formula.endswith(
        "× 1.2 (team T-1 attainment 115.00% in band 110%–∞) = 36,000.00"
    )


# Support staff: base × the factor of the service satisfaction band.
@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("92", "10000.00"),  # 90–95: × 1.0
        ("96", "12000.00"),  # 95–∞: × 1.2
        ("85", "8000.00"),  # 80–90: × 0.8
        ("70", None),  # below 80: × 0
    ],
)
def test_support_bonus_follows_the_satisfaction_band(
    score: str, expected: str | None
) -> None:
    rep = _rep("S-1", role="support", grade="S2", service_satisfaction=D(score))
    line = support_bonus(rep, SUPPORT, "CNY")
    assert (line and line.amount) == (expected and D(expected))


def test_support_bonus_formula_shows_the_score_band() -> None:
    rep = _rep("S-1", role="support", grade="S2", service_satisfaction=D(96))
    line = support_bonus(rep, SUPPORT, "CNY")
    assert line is not None
    assert line.formula == (
        "base 10,000.00 × 1.2 (service satisfaction 96 in band 95–∞) = 12,000.00"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"role": "account_manager"},
        {"grade": "S9"},
        {"service_satisfaction": None},
    ],
)
def test_support_bonus_needs_a_support_role_a_graded_base_and_a_score(
    changes: dict[str, Any],
) -> None:
    facts = {"role": "support", "grade": "S2", "service_satisfaction": D(96)}
    assert support_bonus(_rep("S-1", **facts | changes), SUPPORT, "CNY") is None


# 团队捆绑激励: team 1,150,000 of 1,000,000 = 115% > 110% funds
# 10% × 150,000 = 15,000.00. A (600,000 of 500,000 = 120%) and B (450,000 of
# 300,000 = 150%) meet 80%; C (100,000 of 200,000 = 50%) does not. Shares of the
# 1,050,000 sharing revenue: A 15,000 × 4/7 = 8,571.428… → 8,571.43,
# B 15,000 × 3/7 = 6,428.571… → 6,428.57; together 15,000.00.
TEAM_MEMBERS = (
    _rep("A", revenue=D(600000), target=D(500000)),
    _rep("B", revenue=D(450000), target=D(300000)),
    _rep("C", revenue=D(100000), target=D(200000)),
)


def test_team_pool_is_split_only_among_members_meeting_the_individual_threshold() -> (
    None
):
    lines = team_pool(_team("1150000"), TEAM_MEMBERS, POOL, "CNY")
    assert _amounts(lines) == {"A": D("8571.43"), "B": D("6428.57")}
    assert lines[0].formula == (
        "team T-1 pool 15,000.00 (10% of 150,000.00 above target, team attainment "
        "115.00% above 110.00%) × 57.14% contribution (600,000.00 of 1,050,000.00 "
        "from members at or above 80.00% attainment) = 8,571.43"
    )
    assert lines[0].key == "award/team_pool/T-1"


@pytest.mark.parametrize("team_revenue", ["1100000", "1050000", "900000"])
def test_team_pool_is_not_funded_at_or_below_110_percent(team_revenue: str) -> None:
    assert team_pool(_team(team_revenue), TEAM_MEMBERS, POOL, "CNY") == ()


def test_team_pool_counts_a_member_at_the_threshold_and_ignores_other_teams() -> None:
    # Team 1,200,000 of 1,000,000: pool 10% × 200,000 = 20,000.00. D is exactly at 80%
    # (400,000 of 500,000) and shares with A: 20,000 × 600/1,000 = 12,000.00 and
    # 20,000 × 400/1,000 = 8,000.00. E belongs to another team.
    members = (
        TEAM_MEMBERS[0],
        _rep("D", revenue=D(400000), target=D(500000)),
        _rep("E", team_id="T-2", revenue=D(900000), target=D(100000)),
        _rep("S", role="support", revenue=D(0)),
    )
    lines = team_pool(_team("1200000"), members, POOL, "CNY")
    assert _amounts(lines) == {"A": D("12000.00"), "D": D("8000.00")}


# Cross-functional pool: 需销售部门提名方可解锁.
def _nomination(
    nominee: str, by: str, pool: str = "xf", period: str = "2026-Q2"
) -> Nomination:
    return Nomination(
        nomination_id=f"N-{nominee}-{by}-{pool}-{period}",
        nominee_id=nominee,
        nominated_by=by,
        pool=pool,
        period=period,
    )


ORG = (
    _rep("A"),
    _rep("L", role="team_lead"),
    _rep("S-1", role="support", grade="S2"),
    _rep("S-3", role="support", grade="S2"),
)


def test_cross_functional_pool_without_nomination_pays_nothing_and_says_why() -> None:
    outcome = cross_functional_pool("2026-Q2", (), ORG, CROSS, "CNY")
    assert isinstance(outcome, Withheld)
    assert outcome.rule == "cross_functional_pool"
    assert "pool xf for 2026-Q2 not unlocked" in outcome.reason
    assert "需销售部门提名方可解锁" in outcome.reason


def test_cross_functional_pool_ignores_nominations_not_made_by_sales() -> None:
    nominations = (
        _nomination("S-1", "S-3"),  # support cannot unlock it
        _nomination("A", "A"),  # nobody nominates themselves
        _nomination("S-1", "A", pool="other"),
        _nomination("S-1", "A", period="2026-Q1"),
    )
    outcome = cross_functional_pool("2026-Q2", nominations, ORG, CROSS, "CNY")
    assert isinstance(outcome, Withheld)
    assert outcome.reason.endswith("2 other nomination(s)")


def test_cross_functional_pool_is_shared_equally_by_distinct_nominees() -> None:
    # 9,000 shared by S-1 (nominated twice) and S-3: 4,500.00 each.
    nominations = (
        _nomination("S-1", "A"),
        _nomination("S-3", "L"),
        _nomination("S-1", "L"),
    )
    outcome = cross_functional_pool("2026-Q2", nominations, ORG, CROSS, "CNY")
    assert not isinstance(outcome, Withheld)
    assert _amounts(outcome) == {"S-1": D("4500.00"), "S-3": D("4500.00")}
    assert outcome[0].formula == (
        "pool xf 9,000.00 shared by 2 nominee(s) (nominated by A, L) = 4,500.00"
    )


def test_cross_functional_pool_rounds_each_share_half_even() -> None:
    # 10,000 / 3 = 3,333.333… → 3,333.33 each.
    pool = CROSS.model_copy(update={"amount": D(10000)})
    nominations = tuple(_nomination(n, "A") for n in ("S-1", "S-3", "L"))
    outcome = cross_functional_pool("2026-Q2", nominations, ORG, pool, "CNY")
    assert not isinstance(outcome, Withheld)
    assert set(_amounts(outcome).values()) == {D("3333.33")}


# 年度销售冠军: top 3 by revenue; ties by earlier time reaching it, then rep id.
def test_champion_ties_are_broken_by_earlier_time_then_rep_id() -> None:
    def at(month: int, day: int, tz: timezone = CST) -> datetime:
        return datetime(2026, month, day, tzinfo=tz)

    reps = (
        _rep("A", revenue=D(1200000), reached_revenue_at=at(11, 3)),
        _rep("B", revenue=D(1200000), reached_revenue_at=at(10, 1)),
        _rep("C", revenue=D(900000)),  # unknown time counts as latest
        _rep("E", revenue=D(900000), reached_revenue_at=at(12, 1) + timedelta(hours=8)),
        _rep("D", revenue=D(900000), reached_revenue_at=at(12, 1, UTC)),
        _rep("Z", revenue=D(0)),
    )
    lines = champions(reps, CHAMPION, "CNY")
    # B and A tie at 1,200,000: B reached it first. D and E reached 900,000 at the same
    # instant (08:00+08:00 == 00:00Z): D before E by rep id, C (no time) after both.
    assert [(x.rep_id, x.amount) for x in lines] == [
        ("B", D("50000.00")),
        ("A", D("30000.00")),
        ("D", D("20000.00")),
    ]
    assert lines[0].formula.startswith("rank 1 by revenue 1,200,000.00 (ties:")
    assert ("reached_revenue_at", "2026-10-01T00:00:00+08:00") in lines[0].inputs


def test_champions_ranks_only_reps_with_revenue_and_no_more_than_the_prizes() -> None:
    lines = champions((_rep("A", revenue=D(5)), _rep("B")), CHAMPION, "CNY")
    assert [(x.rep_id, x.amount) for x in lines] == [("A", D("50000.00"))]
    assert ("reached_revenue_at", "") in lines[0].inputs


# 黑马新人: tenure under one year at the period end, growth above 200%.
def test_dark_horse_pays_a_new_rep_whose_revenue_more_than_tripled() -> None:
    # (350,000 - 100,000) / 100,000 = 250% > 200%; hired 2025-09-01, under 1 year.
    rep = _rep(
        hired_at=datetime(2025, 9, 1, tzinfo=CST),
        revenue=D(350000),
        previous_revenue=D(100000),
    )
    line = dark_horse(rep, DARK_HORSE, Q2.ends_at, "CNY")
    assert line is not None
    assert line.amount == D("8000.00")
    assert "growth 250.00% above 200.00%" in line.formula


@pytest.mark.parametrize(
    "changes",
    [
        {"hired_at": datetime(2025, 7, 1, tzinfo=CST)},  # exactly 1 year at period end
        {"hired_at": datetime(2024, 3, 1, tzinfo=CST)},  # over a year
        {"revenue": D(300000)},  # growth exactly 200%, not above
        {"previous_revenue": D(0)},  # no growth without a previous period
    ],
)
def test_dark_horse_excludes_tenure_of_a_year_or_growth_not_above_200_percent(
    changes: dict[str, Any],
) -> None:
    facts: dict[str, Any] = {
        "hired_at": datetime(2025, 9, 1, tzinfo=CST),
        "revenue": D(350000),
        "previous_revenue": D(100000),
    }
    assert dark_horse(_rep(**facts | changes), DARK_HORSE, Q2.ends_at, "CNY") is None


def test_dark_horse_counts_a_leap_day_hire_one_year_on_from_1_march() -> None:
    rep = _rep(
        hired_at=datetime(2024, 2, 29, 9, 0, tzinfo=CST),
        revenue=D(350000),
        previous_revenue=D(100000),
    )
    feb_end = datetime(2025, 3, 1, tzinfo=CST)
    assert dark_horse(rep, DARK_HORSE, feb_end, "CNY") is not None
    march_end = datetime(2025, 4, 1, tzinfo=CST)
    assert dark_horse(rep, DARK_HORSE, march_end, "CNY") is None


# Long service: the highest tier the target-met streak reaches.
@pytest.mark.parametrize(
    ("streak", "expected"),
    [(2, None), (3, "5000.00"), (4, "5000.00"), (5, "12000.00"), (9, "12000.00")],
)
def test_long_service_pays_the_highest_tier_reached(
    streak: int, expected: str | None
) -> None:
    line = long_service(_rep(years_target_met_streak=streak), LONG_SERVICE, "CNY")
    assert (line and line.amount) == (expected and D(expected))


# 破格晋升: two consecutive quarters above 120% and two mentees who passed.
@pytest.mark.parametrize(
    ("quarters", "mentees", "signalled"),
    [
        ((D("1.10"), D("1.25"), D("1.30")), 2, True),
        ((D("1.25"), D("1.20")), 2, False),  # exactly 120% is not above
        ((D("1.30"), D("1.25"), D("1.10")), 2, False),  # the latest two count
        ((D("1.50"),), 2, False),  # only one quarter known
        ((D("1.25"), D("1.30")), 1, False),  # one mentee passed
    ],
)
def test_promotion_signal_needs_two_quarters_above_120_percent_and_two_mentees(
    quarters: tuple[Decimal, ...], mentees: int, signalled: bool
) -> None:
    rep = _rep(quarterly_attainments=quarters, mentees_passed=mentees)
    candidate = promotion_signal(rep, PROMOTION)
    assert (candidate is not None) == signalled
    if candidate is not None:
        assert candidate.formula == (
            "last 2 quarter(s) 125.00%, 130.00% all above 120.00%, "
            "2 mentee(s) passed (needs 2)"
        )


# Innovation award: 5% of the measured uplift, approved manually.
def _proposal(**changes: Any) -> InnovationProposal:
    facts: dict[str, Any] = {
        "proposal_id": "P-7",
        "rep_id": "R-1",
        "period": "2026-Q2",
        "measured_uplift": D(240000),
        "adopted": True,
        "approved_by": "cfo",
    }
    return InnovationProposal.model_validate(facts | changes)


def test_innovation_award_pays_five_percent_of_an_approved_uplift() -> None:
    outcome = innovation_award(_proposal(), INNOVATION, "CNY")
    assert isinstance(outcome, AwardLine)
    # 5% × 240,000 = 12,000.00
    assert outcome.amount == D("12000.00")
    assert outcome.key == "award/innovation_award/P-7"
    assert "approved by cfo" in outcome.formula


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"approved_by": None}, "awaiting manual approval"),
        ({"adopted": False}, "not adopted"),
    ],
)
def test_innovation_award_is_withheld_without_adoption_and_approval(
    changes: dict[str, Any], why: str
) -> None:
    outcome = innovation_award(_proposal(**changes), INNOVATION, "CNY")
    assert outcome == Withheld(
        rule="innovation_award", rep_id="R-1", reason=f"innovation proposal P-7: {why}"
    )


def test_innovation_award_of_no_uplift_is_no_line() -> None:
    assert innovation_award(_proposal(measured_uplift=D(0)), INNOVATION, "CNY") is None


# The plan sections refuse tables they could not apply.
@pytest.mark.parametrize(
    "bands",
    [
        [],
        _bands(("0.5", None, "1")),  # does not start at 0
        _bands(("0", "1", "1")),  # not open-ended
        _bands(("0", "1", "0"), ("1.1", None, "1")),  # a gap
        _bands(("0", "1", "0"), ("1", "0.5", "1"), ("0.5", None, "1")),  # falling
    ],
)
def test_step_bands_must_cover_every_value_once(bands: list[dict[str, Any]]) -> None:
    with pytest.raises(ValidationError, match="step bands"):
        LeaderCoefficient.model_validate({"bands": bands})


def test_long_service_tiers_must_rise() -> None:
    tiers = [{"years": 5, "amount": "1"}, {"years": 3, "amount": "1"}]
    with pytest.raises(ValidationError, match="strictly increasing"):
        LongServiceAward.model_validate({"tiers": tiers})


def test_leader_coefficient_needs_the_base_performance_bonus() -> None:
    with pytest.raises(ValidationError, match="leader_coefficient"):
        AwardRules(leader_coefficient=LEADER)


@pytest.mark.parametrize(
    ("period", "cadence"),
    [("2026", "year"), ("2026-Q3", "quarter"), ("2026-03", "month")],
)
def test_closed_period_knows_its_cadence(period: str, cadence: str) -> None:
    closed = ClosedPeriod(period=period, ends_at=datetime(2027, 1, 1, tzinfo=CST))
    assert closed.cadence == cadence


# period_awards: every configured rule, in a fixed order.
ALL_QUARTERLY = AwardRules(
    base_performance=BASE,
    team_pool=POOL,
    leader_coefficient=LEADER,
    support=SUPPORT,
    cross_functional=CROSS,
    champion=CHAMPION,
    dark_horse=DARK_HORSE,
    long_service=LONG_SERVICE,
    promotion=PROMOTION,
    innovation=INNOVATION,
)
PEOPLE = (
    # Team T-1: 1,150,000 of 1,000,000 funds 15,000.00, shared by A, B and L
    # (1,570,000 sharing revenue):
    # A 15,000 × 600/1,570 = 5,732.484… → 5,732.48, B × 450/1,570 = 4,299.363… →
    # 4,299.36, L × 520/1,570 = 4,968.152… → 4,968.15. C (50%) does not share.
    # B: 450,000 of 300,000 = 150% → base 30,000 × 1.3 = 39,000.
    _rep("B", revenue=D(450000), target=D(300000)),
    # A: 120% → 39,000; two quarters above 120% and 2 mentees: a promotion signal.
    _rep(
        "A",
        revenue=D(600000),
        target=D(500000),
        quarterly_attainments=(D("1.3"), D("1.2001")),
        mentees_passed=2,
        years_target_met_streak=3,
    ),
    # C: 50% → share 0; below the team pool threshold; a dark horse: hired in 2026,
    # 100,000 vs 20,000 = 400% growth → 8,000.
    _rep(
        "C",
        revenue=D(100000),
        target=D(200000),
        hired_at=datetime(2026, 1, 5, tzinfo=CST),
        previous_revenue=D(20000),
    ),
    # L leads T-1 (1,150,000 of 1,000,000 = 115% → × 1.2) on its own 104%: 36,000.
    # It shares the team pool too, at 104%.
    _rep("L", role="team_lead", revenue=D(520000), target=D(500000)),
    # S-1: support, satisfaction 92 → 10,000.
    _rep("S-1", role="support", grade="S2", service_satisfaction=D(92)),
)


def _awards(period: ClosedPeriod = Q2, **changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "reps": PEOPLE,
        "teams": (_team("1150000"), _team("10", "100", "T-9")),
        "rules": ALL_QUARTERLY,
        "currency": "CNY",
        "nominations": (_nomination("S-1", "A"),),
        "proposals": (
            _proposal(proposal_id="P-9", approved_by=None),
            _proposal(proposal_id="P-8", rep_id="B"),
            _proposal(proposal_id="P-1", period="2026-Q1"),
        ),
    }
    return period_awards(period, **arguments | changes)


def test_period_awards_runs_every_rule_due_in_the_documented_order() -> None:
    awards = _awards()
    assert [(x.rule, x.rep_id, x.amount) for x in awards.lines] == [
        ("base_performance_bonus", "A", D("39000.00")),
        ("base_performance_bonus", "B", D("39000.00")),
        ("leader_bonus", "L", D("36000.00")),
        ("support_bonus", "S-1", D("10000.00")),
        ("team_pool", "A", D("5732.48")),
        ("team_pool", "B", D("4299.36")),
        ("team_pool", "L", D("4968.15")),
        ("cross_functional_pool", "S-1", D("9000.00")),
        ("dark_horse", "C", D("8000.00")),
        ("innovation_award", "B", D("12000.00")),
    ]
    assert [c.rep_id for c in awards.candidates] == ["A"]
    assert awards.withheld == (
        Withheld(
            rule="innovation_award",
            rep_id="R-1",
            reason="innovation proposal P-9: awaiting manual approval",
        ),
    )


def test_period_awards_at_year_close_adds_long_service_and_champions_only() -> None:
    year = ClosedPeriod(period="2026", ends_at=datetime(2027, 1, 1, tzinfo=CST))
    awards = _awards(year, proposals=(), nominations=())
    # Quarterly sections do not run at a year's close, nor does the promotion signal.
    # A: 3 years met → 5,000. Champions by revenue: A 600,000, L 520,000, B 450,000.
    assert [(x.rule, x.rep_id, x.amount) for x in awards.lines] == [
        ("long_service", "A", D("5000.00")),
        ("annual_champion", "A", D("50000.00")),
        ("annual_champion", "L", D("30000.00")),
        ("annual_champion", "B", D("20000.00")),
    ]
    assert awards.candidates == ()
    assert awards.withheld == ()


def test_period_awards_withholds_the_cross_functional_pool_without_nomination() -> None:
    awards = _awards(nominations=(), proposals=())
    assert [w.rule for w in awards.withheld] == ["cross_functional_pool"]
    assert "cross_functional_pool" not in {x.rule for x in awards.lines}


def test_period_awards_with_no_rules_awards_nothing() -> None:
    month = ClosedPeriod(period="2026-05", ends_at=datetime(2026, 6, 1, tzinfo=CST))
    assert _awards(month, rules=AwardRules()).lines == ()
    assert _awards(month).lines == ()


def test_period_awards_pays_a_team_lead_the_plain_base_without_coefficient() -> None:
    rules = ALL_QUARTERLY.model_copy(update={"leader_coefficient": None})
    lines = _awards(rules=rules).lines
    assert ("base_performance_bonus", "L", D("30000.00")) in [
        (x.rule, x.rep_id, x.amount) for x in lines
    ]


def test_a_team_lead_whose_team_has_no_target_is_withheld_not_the_period() -> None:
    awarded = _awards(teams=())
    (withheld,) = (w for w in awarded.withheld if w.rule == "leader_bonus")
    assert withheld.rep_id == "L"
    assert withheld.reason.startswith("team lead L: no target for team T-1")
    assert any(line.rule == "base_performance_bonus" for line in awarded.lines)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reps": (*PEOPLE, _rep("A"))}, "rep facts given more than once: A"),
        ({"teams": (_team("1"), _team("2"))}, "team facts given more than once: T-1"),
    ],
)
def test_period_awards_refuses_inconsistent_facts(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(AwardError, match=message):
        _awards(**changes)


# Properties.
member = st.builds(
    lambda i, revenue, target: _rep(f"M-{i:02}", revenue=D(revenue), target=D(target)),
    st.integers(0, 99),
    st.integers(0, 2_000_000),
    st.integers(0, 1_000_000),
)


@given(
    st.lists(member, max_size=8, unique_by=lambda m: m.rep_id),
    st.integers(0, 3_000_000),
    st.decimals("0", "1", places=4),
)
def test_team_pool_shares_add_up_to_the_pool_and_skip_members_below_the_threshold(
    members: list[RepPeriodFacts], revenue: int, rate: Decimal
) -> None:
    team = _team(str(revenue))
    rule = POOL.model_copy(update={"funding_rate": rate})
    lines = team_pool(team, members, rule, "CNY")
    sharing = {
        m.rep_id
        for m in members
        if m.attainment is not None and m.attainment >= rule.member_at_least
    }
    assert {x.rep_id for x in lines} <= sharing
    if team.attainment <= rule.team_above:
        assert lines == ()
    elif sharing:
        pool = (rate * (team.revenue - team.target)).quantize(D("0.01"))
        total = sum((x.amount for x in lines), D(0))
        assert abs(total - pool) <= D("0.005") * len(sharing)


contender = st.builds(
    lambda i, revenue, day: _rep(
        f"R-{i:02}",
        revenue=D(revenue),
        reached_revenue_at=None if day is None else datetime(2026, 12, day, tzinfo=CST),
    ),
    st.integers(0, 30),
    st.sampled_from([0, 100, 200, 300]),
    st.none() | st.integers(1, 3),
)


@given(st.lists(contender, max_size=8, unique_by=lambda r: r.rep_id), st.randoms())
def test_champions_do_not_depend_on_the_order_of_the_facts(
    reps: list[RepPeriodFacts], random: Any
) -> None:
    shuffled = list(reps)
    random.shuffle(shuffled)
    assert champions(shuffled, CHAMPION, "CNY") == champions(reps, CHAMPION, "CNY")


@given(st.permutations(PEOPLE), st.permutations(("L", "A", "S-1")))
def test_period_awards_do_not_depend_on_the_order_of_the_facts(
    people: list[RepPeriodFacts], nominators: list[str]
) -> None:
    nominations = tuple(_nomination("S-1", by) for by in nominators)
    expected = _awards(nominations=tuple(_nomination("S-1", by) for by in "AL"))
    assert _awards(reps=tuple(people), nominations=nominations) == expected
