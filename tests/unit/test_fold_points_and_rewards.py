"""Points, instant rewards, the budget and the organisation, through the whole fold,
with examples/plans/full.yaml's numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from domain.engine import Step, World
from domain.events import Event
from domain.ledger import LedgerLine
from domain.plan import Plan
from domain.replay import replay, summary
from tests.factories import deal_event, envelope
from tests.unit.test_engine import deal, event, fold, lines_of, pay

D = Decimal
AT = "2026-03-14T09:30:00+08:00"


def points(world: World, rep: str = "R-17") -> Decimal:
    return world.reps[rep].total("points")


def rules(lines: list[LedgerLine], kind: str) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for line in lines:
        if line.kind == kind:
            found[line.rule] = found.get(line.rule, D(0)) + line.amount
    return found


def other(event_type: str, event_id: str, at: str = AT, **fields: Any) -> Event:
    return event(envelope(event_type, event_id, at, **fields))


def test_new_customer_deal_of_125000_earns_80_points(full_plan: Plan) -> None:
    world, steps = fold(full_plan, [deal(1, "125000.00", new_customer=True)])
    assert rules(lines_of(steps), "points") == {
        "points_new_customer": D(50),
        "points_ticket_size": D(30),
    }
    assert points(world) == D(80)
    assert all(
        line.currency == "PTS" for line in lines_of(steps) if line.kind == "points"
    )


def test_repeat_order_high_margin_and_fast_collection_earn_their_points(
    full_plan: Plan,
) -> None:
    events = [
        deal(1, "50000.00", customer_id="C-1"),
        deal(2, "50000.00", customer_id="C-1", margin="25000.00"),
        pay(1, 2, "50000.00", "2026-03-20T00:00:00+08:00"),
    ]
    world, steps = fold(full_plan, events)
    # An existing customer (new_customer false) buying again is a repeat purchase.
    assert rules(lines_of(steps[:1]), "points") == {"points_repeat_purchase": D(20)}
    assert rules(lines_of(steps[1:2]), "points") == {
        "points_repeat_purchase": D(20),
        "points_high_margin": D(25),
    }
    assert rules(lines_of(steps[2:]), "points") == {"points_fast_collection": D(15)}
    assert points(world) == D(80)


def test_cancelling_a_deal_claws_back_its_points(full_plan: Plan) -> None:
    events = [
        deal(1, "125000.00", new_customer=True),
        other("DealCancelled", "c-1", deal_id="D-1", reason="customer withdrew"),
    ]
    world, steps = fold(full_plan, events)
    assert points(world) == D(0)
    assert sum(line.amount for line in steps[1].lines if line.kind == "points") == -80


def test_a_split_deal_shares_its_points(full_plan: Plan) -> None:
    splits = [{"rep_id": "R-17", "share": "0.5"}, {"rep_id": "R-2", "share": "0.5"}]
    world, _ = fold(full_plan, [deal(1, "125000.00", splits=splits, new_customer=True)])
    assert points(world) == points(world, "R-2") == D(40)


def test_activities_earn_points_and_an_incomplete_prospect_earns_none(
    full_plan: Plan,
) -> None:
    def act(n: int, kind: str, complete: bool = True) -> Event:
        return other("ActivityLogged", f"a-{n}", activity_id=f"A-{n}", rep_id="R-17",
                     kind=kind, complete=complete)  # fmt: skip

    events = [
        act(1, "visit"),
        act(2, "decision_maker_visit"),
        act(3, "prospect_entered", complete=False),
        act(4, "prospect_entered"),
        act(5, "mentoring"),
        act(6, "knowledge_sharing"),
        act(7, "crisis_support"),
        act(8, "mentee_passed"),
    ]
    world, steps = fold(full_plan, events)
    assert steps[2].lines == ()
    assert points(world) == D(5 + 10 + 2 + 10 + 6 + 12)
    assert world.reps["R-17"].mentees_passed == 1


def test_confirmed_collaboration_earns_the_helper_points(full_plan: Plan) -> None:
    events = [
        other("CollaborationConfirmed", "cc-1", collaboration_id="X-1",
              helper_rep_id="R-2", beneficiary_rep_id="R-17"),
        other("CollaborationConfirmed", "cc-2", collaboration_id="X-2",
              helper_rep_id="R-2", beneficiary_rep_id="R-2"),
    ]  # fmt: skip
    world, steps = fold(full_plan, events)
    assert points(world, "R-2") == D(8)
    assert steps[1].rejected[0].code == "invalid"


def test_redemption_spends_points_and_beyond_the_balance_is_refused(
    full_plan: Plan,
) -> None:
    def redeem(n: int, amount: str) -> Event:
        return other("PointsRedeemed", f"r-{n}", redemption_id=f"RD-{n}",
                     rep_id="R-17", points=amount, reward="team dinner")  # fmt: skip

    events = [deal(1, "125000.00", new_customer=True), redeem(1, "30"), redeem(2, "51")]
    world, steps = fold(full_plan, events)
    assert points(world) == D(50)
    (line,) = steps[1].lines
    assert (line.rule, line.amount) == ("points_redemption", D(-30))
    assert steps[2].rejected[0].code == "insufficient_points"
    assert "exceeds R-17's balance of 50" in steps[2].rejected[0].reason


def test_a_negative_review_deducts_points_and_records_debt_below_zero(
    full_plan: Plan,
) -> None:
    """SPEC §9: a deduction beyond the balance takes it to zero and the rest is
    points debt, so reviews and other points lines may come in any order."""

    def review(n: int, deal_no: int, score: str) -> Event:
        return other("SatisfactionRecorded", f"s-{n}", deal_id=f"D-{deal_no}",
                     customer_id="C-88", score=score)  # fmt: skip

    events = [
        deal(1, "125000.00", new_customer=True),
        review(1, 1, "40"),
        review(2, 1, "50"),
        review(3, 1, "55"),
        review(4, 1, "10"),
    ]
    world, steps = fold(full_plan, events)
    deducted = [(line.rule, line.amount) for line in lines_of(steps[1:])]
    assert deducted == [
        ("points_negative_review", D(-30)),
        ("points_negative_review", D(-30)),
        ("points_negative_review", D(-30)), ("points_debt_recorded", D(10)),
        ("points_negative_review", D(-30)), ("points_debt_recorded", D(30)),
    ]  # fmt: skip
    assert points(world) == D(0)
    assert world.reps["R-17"].points_debt == D(40)


def test_a_review_of_a_cancelled_deal_counts_whichever_came_first(
    full_plan: Plan,
) -> None:
    review = other("SatisfactionRecorded", "s-1", deal_id="D-1", customer_id="C-88",
                   score="40")  # fmt: skip
    cancel = other("DealCancelled", "x-1", deal_id="D-1", reason="lost")
    first = deal(1, "125000.00", new_customer=True)
    one, _ = fold(full_plan, [first, review, cancel])
    two, steps = fold(full_plan, [first, cancel, review])
    assert steps[2].rejected == ()
    for world in (one, two):
        assert (points(world), world.reps["R-17"].points_debt) == (D(0), D(30))
        assert world.reps["R-17"].scores_in("2026") == (D(40), 1)


def test_lightning_fires_on_the_deal_taking_the_day_over_100000(
    full_plan: Plan,
) -> None:
    events = [deal(1, "60000.00"), deal(2, "50000.00")]
    world, steps = fold(full_plan, events)
    assert rules(lines_of(steps[:1]), "bonus") == {}
    assert rules(lines_of(steps[1:]), "bonus") == {"lightning": D(1000)}
    assert world.reps["R-17"].total("bonus") == D(1000)


def test_cancelling_a_deal_of_the_day_reverses_the_lightning_award(
    full_plan: Plan,
) -> None:
    events = [
        deal(1, "60000.00"),
        deal(2, "50000.00"),
        other("DealCancelled", "c-2", deal_id="D-2"),
    ]
    world, steps = fold(full_plan, events)
    assert rules(lines_of(steps[2:]), "bonus") == {"lightning": D(-1000)}
    assert world.reps["R-17"].total("bonus") == D(0)


def test_three_key_account_new_customers_in_a_week_earn_the_breakthrough(
    full_plan: Plan,
) -> None:
    events = [
        deal(n, "10000.00", new_customer=True, key_account=True,
             occurred_at=f"2026-03-{10 + n}T09:30:00+08:00", customer_id=f"C-{n}")
        for n in (1, 2, 3)
    ]  # fmt: skip
    _, steps = fold(full_plan, events)
    assert rules(lines_of(steps[2:]), "bonus") == {"breakthrough": D(5000)}


def test_three_deals_with_one_key_account_customer_earn_no_breakthrough(
    full_plan: Plan,
) -> None:
    """SPEC §9: the breakthrough counts distinct customers, not deals."""
    events = [
        deal(n, "10000.00", new_customer=True, key_account=True,
             occurred_at=f"2026-03-{10 + n}T09:30:00+08:00", customer_id="C-88")
        for n in (1, 2, 3)
    ]  # fmt: skip
    _, steps = fold(full_plan, events)
    assert "breakthrough" not in rules(lines_of(steps), "bonus")
    more = [
        deal(n, "10000.00", new_customer=True, key_account=True,
             occurred_at=f"2026-03-{10 + n}T09:30:00+08:00", customer_id=f"C-{n}")
        for n in (4, 5)
    ]  # fmt: skip
    _, steps = fold(full_plan, [*events, *more])
    # C-88, C-4 and C-5 are three customers within the week.
    assert rules(lines_of(steps[3:]), "bonus") == {"breakthrough": D(5000)}


def test_a_day_keeps_an_amended_amount_that_moved_no_award(full_plan: Plan) -> None:
    """Found by the every-kind order property: D-1 amended from 90,000 to 1 fired and
    reversed nothing, and the day forgot it, so a later 50,000.01 that day fired a
    lightning award on 140,000.01 instead of 50,001.01."""
    amended = other("DealAmended", "a-1", "2026-03-15T09:30:00+08:00",
                    deal_id="D-1", amount="1", margin="0.00", currency="CNY",
                    splits=[{"rep_id": "R-17", "share": "1"}])  # fmt: skip
    _, steps = fold(full_plan, [deal(1, "90000.00"), amended, deal(2, "50000.01")])
    assert [line for s in steps for line in s.lines if line.rule == "lightning"] == []


def test_an_amendment_judges_the_lightning_award_again(full_plan: Plan) -> None:
    def amend(n: int, amount: str, splits: list[dict[str, str]]) -> Event:
        return other("DealAmended", f"a-{n}", "2026-03-15T09:30:00+08:00",
                     deal_id="D-1", amount=amount, margin="0.00", currency="CNY",
                     splits=splits)  # fmt: skip

    alone = [{"rep_id": "R-17", "share": "1"}]
    shared = [{"rep_id": "R-17", "share": "0.5"}, {"rep_id": "R-2", "share": "0.5"}]
    world, steps = fold(
        full_plan,
        [deal(1, "90000.00"), amend(1, "120000.00", alone),
         amend(2, "90000.00", alone), amend(3, "240000.00", shared),
         amend(4, "240000.00", [{"rep_id": "R-2", "share": "1"}])],
    )  # fmt: skip
    lightning = [
        [(line.rep_id, line.amount) for line in step.lines if line.rule == "lightning"]
        for step in steps
    ]
    assert lightning == [
        [],
        [("R-17", D(1000))],  # 120,000 > 100,000: fires
        [("R-17", D(-1000))],  # back to 90,000: reversed
        [("R-17", D(1000)), ("R-2", D(1000))],  # 120,000 each
        [("R-17", D(-1000))],  # R-17 taken off; R-2 now has 240,000 (already fired)
    ]
    assert world.reps["R-2"].total("bonus") == D(1000)


def test_accruals_past_the_non_reserve_budget_raise_one_alert(
    full_plan: Plan,
) -> None:
    # 500,000×3% + 500,000×5% + 12,000,000×7% = 880,000 earned, plus the 1,000
    # lightning award: above the 850,000 left when 15% of 1,000,000 is kept back.
    world, steps = fold(full_plan, [deal(1, "13000000.00"), deal(2, "1000.00")])
    (alert,) = steps[0].alerts
    assert alert.kind == "non_reserve_exceeded"
    assert alert.accrued == D("881000.00")
    assert alert.limit == D("850000.00")
    assert alert.budget == "full/2026"
    assert alert.message.startswith("budget full/2026: incentive accruals reached ")
    assert steps[1].alerts == ()
    assert world.budgets["full/2026"].accrued == D("881070.00")  # 1,000 at 7%


def test_the_budget_runs_per_plan_year_and_accrues_the_payment_speed_premium(
    full_plan: Plan,
) -> None:
    # 100,000 (not a new customer): 3,000 earned; paid in full 6 days after closing,
    # before its due date: 3,300 released, of which 300 is the premium.
    paid = pay(1, 1, "100000.00", "2026-03-20T00:00:00+08:00")
    later = deal(2, "100000.00", new_customer=False,
                 occurred_at="2027-02-01T10:00:00+08:00",
                 payment_due_at="2027-03-01T00:00:00+08:00")  # fmt: skip
    world, steps = fold(full_plan, [deal(1, "100000.00", new_customer=False), paid,
                                    later])  # fmt: skip
    (release,) = (line for line in steps[1].lines if line.kind == "payable")
    assert (release.amount, release.premium) == (D("3300.00"), D("300.00"))
    assert world.budgets["full/2026"].accrued == D("3300.00")
    assert world.budgets["full/2027"].accrued == D("3000.00")


def test_people_are_hired_moved_and_leave(full_plan: Plan) -> None:
    def org(kind: str, n: int, rep: str, day: int = 0, **fields: Any) -> Event:
        base = {"team_id": "T1", "region": "east", "role": "account_manager",
                "grade": "P5", "hired_at": "2025-06-01T00:00:00+08:00"}  # fmt: skip
        at = f"2026-01-{day or n:02d}T00:00:00+08:00"  # a move or departure: its own
        return other(kind, f"o-{n}", at, rep_id=rep, **{**base, **fields})

    rehired = "2026-09-01T00:00:00+08:00"
    events = [
        org("RepHired", 1, "R-1"),
        org("RepMoved", 2, "R-1", team_id="T2", grade="P6"),
        org("RepHired", 3, "R-1", hired_at="2025-07-01T00:00:00+08:00"),
        org("RepHired", 7, "R-1", day=1),  # the first hiring, from another source
        org("RepHired", 8, "R-1", day=1, grade="P7"),  # the first, other content
        org("RepLeft", 4, "R-1"),
        org("RepMoved", 5, "R-1"),
        org("RepHired", 6, "R-1", team_id="T3", hired_at=rehired),
    ]
    world, steps = fold(full_plan, events)
    assert steps[2].rejected[0].code == "conflict"
    assert "already employed" in steps[2].rejected[0].reason
    assert steps[3] == Step()
    assert steps[4].rejected[0].code == "conflict"
    assert "hiring of R-1 on 2025-06-01" in steps[4].rejected[0].reason
    assert steps[6].rejected[0].code == "unknown_rep"
    person = world.people["R-1"]
    assert (person.team_id, person.left_at) == ("T3", None)


def test_without_a_points_section_activities_and_help_earn_nothing(
    reference_plan: Plan,
) -> None:
    events = [
        other("ActivityLogged", "a-1", activity_id="A-1", rep_id="R-17", kind="visit"),
        other("CollaborationConfirmed", "cc-1", collaboration_id="X-1",
              helper_rep_id="R-2", beneficiary_rep_id="R-17"),
    ]  # fmt: skip
    _, steps = fold(reference_plan, events)
    assert steps[0] == steps[1] == Step()


def test_a_budget_in_another_currency_than_the_plan_is_invalid(
    full_plan: Plan,
) -> None:
    document = full_plan.model_dump()
    document["budget"]["currency"] = "USD"
    with pytest.raises(ValidationError, match=r"budget\.currency USD differs"):
        Plan.model_validate(document)


def test_the_simulate_report_prints_points_in_plain_notation(full_plan: Plan) -> None:
    splits = [{"rep_id": "R-17", "share": "0.5"}, {"rep_id": "R-2", "share": "0.5"}]
    raw = orjson.dumps(deal_event(event_id="e-1", amount="125000.00", splits=splits))
    report = summary(replay([full_plan], [raw]))
    # Each: 62,500 × (3% + 1.5% new customer); (50 + 30 points) × 0.5.
    assert report["reps"] == {
        rep: {"earned_commission": "2812.50", "payable_commission": "0.00",
              "bonus": "0.00", "points": "40"}
        for rep in ("R-17", "R-2")
    }  # fmt: skip


def test_replay_skips_blank_lines_and_reports_bad_ones_by_line_number(
    full_plan: Plan,
) -> None:
    good = orjson.dumps(deal_event(event_id="e-1"))
    other_terms = orjson.dumps(deal_event(event_id="e-1", amount="1.00", margin="0"))
    result = replay([full_plan], [b"  \n", b"{not json", good, other_terms])
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (2, "undecodable"),
        (4, "conflict"),
    ]
    assert len(result.lines) > 0


def test_simulate_reports_budget_alerts_with_the_line_that_raised_them(
    full_plan: Plan,
) -> None:
    raw = [
        orjson.dumps(deal_event(event_id="e-1", deal_id="D-1", amount="13000000.00")),
        orjson.dumps(deal_event(event_id="e-2", deal_id="D-2", amount="1000.00")),
    ]
    report = summary(replay([full_plan], raw))
    alerts: list[dict[str, object]] = report["alerts"]  # type: ignore[assignment]
    # The factory's deal is a new customer: 13,000,000 earns 1,075,000 with the
    # uplift, and the lightning award adds 1,000, past both limits at once.
    assert [(a["line"], a["kind"], a["accrued"], a["budget"]) for a in alerts] == [
        (1, "non_reserve_exceeded", "1076000.00", "full/2026"),
        (1, "reserve_exhausted", "1076000.00", "full/2026"),
    ]
    assert report["promotion_candidates"] == report["withheld"] == []


def test_a_cancelled_deal_takes_its_premium_out_of_the_budget(full_plan: Plan) -> None:
    paid = pay(1, 1, "100000.00", "2026-03-20T00:00:00+08:00")
    cancel = other("DealCancelled", "x-1", "2026-03-25T00:00:00+08:00", deal_id="D-1")
    world, steps = fold(full_plan, [deal(1, "100000.00", new_customer=False), paid,
                                    cancel])  # fmt: skip
    (reversed_,) = (line for line in steps[2].lines if line.kind == "payable")
    assert (reversed_.amount, reversed_.premium) == (D("-3300.00"), D("-300.00"))
    assert world.budgets["full/2026"].accrued == D(0)
