from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.points import (
    DealFacts,
    PointsAccount,
    PointsError,
    PointsLine,
    PointsRules,
    earn,
    points_for_activity,
    points_for_attainment,
    points_for_collaboration,
    points_for_deal,
    points_for_payment,
    points_for_review,
    redeem,
    split_team_pool,
)

D = Decimal
RULES = PointsRules.model_validate(
    {
        "attainment_bands": [
            {"lower": "0", "upper": "1.00", "step": "0.10", "points_per_step": "10"},
            {"lower": "1.00", "step": "0.10", "points_per_step": "20"},
        ],
        "new_customer": "50",
        "repeat_purchase": "15",
        "ticket_size": [
            {"min_amount": "50000", "points": "10"},
            {"min_amount": "100000", "points": "30"},
            {"min_amount": "500000", "points": "80"},
        ],
        "fast_collection": {"within_days": 30, "points": "20"},
        "high_margin": {"min_ratio": "0.30", "points": "20"},
        "prospect_entered_complete": "3",
        "visit": "5",
        "decision_maker_visit": "12",
        "collaboration_confirmed": "25",
        "mentoring": "20",
        "knowledge_sharing": "10",
        "crisis_support": "30",
        "negative_review": {"below_score": "60", "points": "40"},
    }
)


def _deal(**overrides: Any) -> DealFacts:
    facts: dict[str, Any] = {
        "rep_id": "R-17",
        "event_id": "crm-7f3a",
        "amount": D("125000.00"),
        "margin": D("41000.00"),
        "new_customer": True,
        "repeat_customer": False,
    }
    return DealFacts(**(facts | overrides))


def _earned(points: str, source: str, rep_id: str = "R-17") -> PointsLine:
    return PointsLine(
        rep_id=rep_id,
        rule="visit",
        points=D(points),
        formula="",
        source_event_ids=(source,),
    )


def test_new_customer_deal_earns_customer_ticket_and_margin_points() -> None:
    # 125,000 reaches the 100,000 tier (30); margin 41,000 / 125,000 = 0.328 is at
    # least 0.30 (20); a new customer (50).
    lines = points_for_deal(_deal(), RULES)
    assert [(x.rule, x.points) for x in lines] == [
        ("new_customer", D(50)),
        ("ticket_size", D(30)),
        ("high_margin", D(20)),
    ]
    assert all(x.source_event_ids == ("crm-7f3a",) for x in lines)
    assert lines[1].formula == "ticket size 125,000.00 ≥ 100,000.00: 30 points"


def test_split_deal_earns_points_by_the_reps_share() -> None:
    # Half of a repeat purchase of 600,000 at 20% margin: 15 × 0.5 and 80 × 0.5.
    deal = _deal(
        amount=D(600_000), margin=D(120_000), new_customer=False, repeat_customer=True
    )
    lines = points_for_deal(deal.model_copy(update={"share": D("0.5")}), RULES)
    assert [(x.rule, x.points) for x in lines] == [
        ("repeat_purchase", D("7.5")),
        ("ticket_size", D(40)),
    ]
    assert lines[0].formula == "repeat purchase: 15 points × share 0.5"


def test_small_low_margin_deal_of_a_known_customer_earns_nothing() -> None:
    deal = _deal(amount=D(20_000), margin=D(1_000), new_customer=False)
    assert points_for_deal(deal, RULES) == ()


def test_trigger_worth_zero_points_is_switched_off() -> None:
    rules = PointsRules(new_customer=D(0))
    assert points_for_deal(_deal(), rules) == ()


def test_deal_flagged_both_new_and_repeat_is_rejected() -> None:
    with pytest.raises(ValidationError, match="both new and repeat"):
        _deal(repeat_customer=True)


@pytest.mark.parametrize(
    ("attainment", "expected"),
    [
        # 10 steps × 10 below 100% + 3 whole steps × 20 above (the half step is dropped)
        (D("1.35"), D(160)),
        (D("1.00"), D(100)),
        (D("0.95"), D(90)),
        (D("2.00"), D(300)),
    ],
)
def test_attainment_points_weigh_the_excess_higher(
    attainment: Decimal, expected: Decimal
) -> None:
    (line,) = points_for_attainment("R-17", attainment, RULES, event_id="close-q1")
    assert (line.rule, line.points) == ("attainment_bands", expected)


def test_attainment_formula_shows_each_band() -> None:
    (line,) = points_for_attainment("R-17", D("1.35"), RULES, event_id="close-q1")
    assert line.formula == "attainment 135%: 10 × 10 (0%–100%) + 3 × 20 (100%–∞)"


def test_attainment_below_one_step_earns_nothing() -> None:
    assert points_for_attainment("R-17", D("0.05"), RULES, event_id="e") == ()


@pytest.mark.parametrize(
    ("kind", "rule", "points"),
    [
        ("visit", "visit", D(5)),
        ("decision_maker_visit", "decision_maker_visit", D(12)),
        ("prospect_entered", "prospect_entered_complete", D(3)),
        ("mentoring", "mentoring", D(20)),
        ("knowledge_sharing", "knowledge_sharing", D(10)),
        ("crisis_support", "crisis_support", D(30)),
    ],
)
def test_each_activity_earns_its_plan_points(
    kind: Any, rule: str, points: Decimal
) -> None:
    (line,) = points_for_activity(kind, True, RULES, rep_id="R-1", event_id="act-1")
    assert (line.rep_id, line.rule, line.points) == ("R-1", rule, points)


def test_incomplete_prospect_entry_earns_nothing() -> None:
    lines = points_for_activity(
        "prospect_entered", False, RULES, rep_id="R-1", event_id="act-1"
    )
    assert lines == ()


def test_activity_the_plan_does_not_reward_earns_nothing() -> None:
    assert (
        points_for_activity("visit", True, PointsRules(), rep_id="R", event_id="e")
        == ()
    )


def test_decision_maker_visit_must_score_higher_than_a_visit() -> None:
    with pytest.raises(ValidationError, match="decision_maker_visit must score higher"):
        PointsRules(visit=D(5), decision_maker_visit=D(5))


def test_collaboration_earns_the_helper_points_once_the_beneficiary_confirms() -> None:
    (line,) = points_for_collaboration("R-1", "R-2", "R-2", RULES, event_id="col-1")
    assert (line.rep_id, line.rule, line.points) == (
        "R-1",
        "collaboration_confirmed",
        D(25),
    )


@pytest.mark.parametrize(
    ("helper", "beneficiary", "confirmer"),
    [("R-1", "R-2", "R-1"), ("R-1", "R-1", "R-1"), ("R-1", "R-2", "R-3")],
)
def test_collaboration_not_confirmed_by_another_beneficiary_earns_nothing(
    helper: str, beneficiary: str, confirmer: str
) -> None:
    lines = points_for_collaboration(
        helper, beneficiary, confirmer, RULES, event_id="col-1"
    )
    assert lines == ()


def test_collaboration_worth_zero_points_earns_nothing() -> None:
    lines = points_for_collaboration("R-1", "R-2", "R-2", PointsRules(), event_id="c")
    assert lines == ()


@pytest.mark.parametrize(("days", "points"), [(0, D(20)), (30, D(20)), (31, None)])
def test_payment_within_the_plan_days_earns_fast_collection_points(
    days: int, points: Decimal | None
) -> None:
    lines = points_for_payment(days, RULES, rep_id="R-1", event_id="pay-1")
    assert [x.points for x in lines] == ([] if points is None else [points])


def test_fast_collection_needs_the_rule_in_the_plan() -> None:
    assert points_for_payment(1, PointsRules(), rep_id="R-1", event_id="p") == ()


@pytest.mark.parametrize(("score", "points"), [(D(55), D(-40)), (D(60), None)])
def test_review_below_the_bar_deducts_points(
    score: Decimal, points: Decimal | None
) -> None:
    lines = points_for_review(score, RULES, rep_id="R-1", event_id="svy-9")
    assert [x.points for x in lines] == ([] if points is None else [points])


def test_review_deduction_needs_the_rule_in_the_plan() -> None:
    assert points_for_review(D(0), PointsRules(), rep_id="R-1", event_id="s") == ()


def test_redemption_beyond_balance_is_rejected_with_the_reason() -> None:
    account = earn(PointsAccount(rep_id="R-17"), (_earned("320", "e1"),))
    with pytest.raises(PointsError) as raised:
        redeem(account, D(500), "headphones", "RD-1")
    assert str(raised.value) == "redeeming 500 points exceeds the balance of 320"


def test_redemption_within_balance_books_a_negative_line() -> None:
    account = earn(PointsAccount(rep_id="R-17"), (_earned("320", "e1"),))
    after = redeem(account, D(300), "headphones", "RD-1")
    assert after.balance == D(20)
    assert after.lines[-1].points == D(-300)
    assert after.lines[-1].formula == "redeemed 300 points for headphones"


def test_same_redemption_again_changes_nothing() -> None:
    account = earn(PointsAccount(rep_id="R-17"), (_earned("320", "e1"),))
    once = redeem(account, D(300), "headphones", "RD-1")
    assert redeem(once, D(300), "headphones", "RD-1") == once


def test_redemption_of_no_points_is_rejected() -> None:
    with pytest.raises(PointsError, match="positive number of points, not 0"):
        redeem(PointsAccount(rep_id="R-17"), D(0), "nothing", "RD-1")


def test_negative_review_deduction_floors_the_balance_at_zero() -> None:
    # Balance 20, a 40-point deduction: only 20 are deducted and the line says so.
    account = earn(PointsAccount(rep_id="R-1"), (_earned("20", "e1", "R-1"),))
    review = points_for_review(D(30), RULES, rep_id="R-1", event_id="svy-9")
    after = earn(account, review)
    assert after.balance == D(0)
    assert after.lines[-1].points == D(-20)
    assert after.lines[-1].formula.endswith("(floored at 0: -20 booked)")


def test_line_booked_twice_counts_once() -> None:
    account = earn(PointsAccount(rep_id="R-17"), (_earned("10", "e1"),))
    assert earn(account, (_earned("10", "e1"),)) == account


def test_line_for_another_rep_is_refused() -> None:
    with pytest.raises(PointsError, match="a line for R-2 cannot be booked on R-17"):
        earn(PointsAccount(rep_id="R-17"), (_earned("10", "e1", "R-2"),))


def test_team_pool_goes_by_contribution_with_largest_remainders() -> None:
    # 1,000 × 300/700 = 428.57, × 300/700 = 428.57, × 100/700 = 142.86 → floors 998;
    # the 2 left go to C (.86) then A (.57, tied with B, A sorts first).
    lines = split_team_pool(
        D(1000), {"B": D(300), "A": D(300), "C": D(100)}, event_id="pool-1"
    )
    assert [(x.rep_id, x.points) for x in lines] == [
        ("A", D(429)),
        ("B", D(428)),
        ("C", D(143)),
    ]
    assert lines[0].formula == "pool 1000 × 300 / 700, in whole 1 by largest remainder"


def test_team_pool_can_split_in_larger_units() -> None:
    # 100 in tens: A 1/3 → 3.33 units, B 2/3 → 6.67 units; the last unit goes to B.
    lines = split_team_pool(D(100), {"A": D(1), "B": D(2)}, event_id="p", unit=D(10))
    assert [(x.rep_id, x.points) for x in lines] == [("A", D(30)), ("B", D(70))]


def test_team_pool_member_without_contribution_gets_no_line() -> None:
    lines = split_team_pool(D(10), {"A": D(1), "Z": D(0)}, event_id="p")
    assert [(x.rep_id, x.points) for x in lines] == [("A", D(10))]


@pytest.mark.parametrize(
    ("pool", "contributions", "reason"),
    [
        (D("10.5"), {"A": D(1)}, "not a whole number of 1 units"),
        (D(-10), {"A": D(1)}, "not a whole number"),
        (D(10), {"A": D(0)}, "add up to more than zero"),
        (D(10), {}, "add up to more than zero"),
        (D(10), {"A": D(2), "B": D(-1)}, "non-negative"),
    ],
)
def test_team_pool_that_cannot_be_split_is_rejected(
    pool: Decimal, contributions: dict[str, Decimal], reason: str
) -> None:
    with pytest.raises(PointsError, match=reason):
        split_team_pool(pool, contributions, event_id="p")


@pytest.mark.parametrize(
    ("bands", "reason"),
    [
        ([{"lower": "0.5", "step": "0.1", "points_per_step": "1"}], "start at 0"),
        ([{"lower": "0", "upper": "1", "step": "0.1", "points_per_step": "1"}], "open"),
        (
            [
                {"lower": "0", "upper": "1", "step": "0.1", "points_per_step": "1"},
                {"lower": "1.2", "step": "0.1", "points_per_step": "2"},
            ],
            "must end where the next starts",
        ),
        (
            [
                {"lower": "0", "upper": "1", "step": "0.3", "points_per_step": "1"},
                {"lower": "1", "step": "0.1", "points_per_step": "2"},
            ],
            "whole number of steps",
        ),
        (
            [
                {"lower": "0", "upper": "1", "step": "0.1", "points_per_step": "2"},
                {"lower": "1", "step": "0.1", "points_per_step": "1"},
            ],
            "weighted at least as high",
        ),
    ],
)
def test_plan_with_inconsistent_attainment_bands_is_rejected(
    bands: list[dict[str, str]], reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        PointsRules.model_validate({"attainment_bands": bands})


def test_plan_with_ticket_tiers_out_of_order_is_rejected() -> None:
    tiers = [{"min_amount": "100", "points": "2"}, {"min_amount": "100", "points": "3"}]
    with pytest.raises(ValidationError, match="rise strictly"):
        PointsRules.model_validate({"ticket_size": tiers})


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["earn", "deduct", "redeem"]),
        st.decimals(min_value=1, max_value=1000, places=2),
    ),
    max_size=40,
)


@given(OPERATIONS)
def test_balance_never_goes_negative_whatever_the_sequence(
    operations: list[tuple[str, Decimal]],
) -> None:
    account = PointsAccount(rep_id="R")
    for index, (op, points) in enumerate(operations):
        source = f"e{index}"
        if op == "redeem":
            try:
                account = redeem(account, points, "reward", source)
            except PointsError:
                assert points > account.balance
        else:
            sign = 1 if op == "earn" else -1
            account = earn(account, (_earned(str(sign * points), source, "R"),))
        assert account.balance >= 0
        assert account.balance == sum((x.points for x in account.lines), D(0))


@given(
    st.integers(min_value=0, max_value=10**6),
    st.dictionaries(
        st.text("ABCDEFGH", min_size=1, max_size=3),
        st.decimals(min_value=0, max_value=10**6, places=3),
        min_size=1,
    ).filter(lambda c: sum(c.values()) > 0),
)
def test_team_pool_split_sums_exactly_to_the_pool(
    pool: int, contributions: dict[str, Decimal]
) -> None:
    lines = split_team_pool(D(pool), contributions, event_id="p")
    assert sum((x.points for x in lines), D(0)) == pool
    total = sum(contributions.values())
    for line in lines:
        exact = D(pool) * contributions[line.rep_id] / total
        assert exact - 1 < line.points < exact + 1
