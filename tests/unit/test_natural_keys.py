"""SPEC §9, one fact, one count: a fact sent again under another ``event_id`` (by a
second source, or by a retry that mints new ids) counts once, for every event type;
the same natural key with other content is refused as a conflict, with the key named."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.engine import Step
from domain.events import Event
from domain.plan import Plan
from tests.factories import envelope
from tests.unit.test_engine import deal, event, fold, total

D = Decimal
AT = "2026-03-14T09:30:00+08:00"


def sent(event_type: str, event_id: str, source: str, **fields: Any) -> Event:
    raw = envelope(event_type, event_id, AT, **fields)
    return event({**raw, "source": source})


FACTS = {
    "ActivityLogged": {"activity_id": "V-9", "rep_id": "R-17", "kind": "visit"},
    "CollaborationConfirmed": {"collaboration_id": "C-9", "helper_rep_id": "R-17",
                               "beneficiary_rep_id": "R-2"},
}  # fmt: skip


@pytest.mark.parametrize("event_type", FACTS)
def test_an_activity_from_two_sources_earns_its_points_once(
    full_plan: Plan, event_type: str
) -> None:
    fields = FACTS[event_type]
    world, steps = fold(
        full_plan,
        [sent(event_type, "crm-1", "crm", **fields),
         sent(event_type, "app-77", "mobile", **fields)],
    )  # fmt: skip
    assert steps[0].lines
    assert steps[1] == Step()
    assert total(world, "points") == sum(line.amount for line in steps[0].lines)


def test_the_same_activity_id_with_other_content_is_a_conflict(full_plan: Plan) -> None:
    fields = FACTS["ActivityLogged"]
    _, steps = fold(
        full_plan,
        [sent("ActivityLogged", "crm-1", "crm", **fields),
         sent("ActivityLogged", "app-77", "mobile", **{**fields, "kind": "mentoring"})],
    )  # fmt: skip
    (refused,) = steps[1].rejected
    assert refused.code == "conflict"
    assert refused.reason == "activity V-9 was already recorded with other content"


def test_a_redemption_from_two_sources_spends_the_points_once(
    full_plan: Plan,
) -> None:
    redeem = {"redemption_id": "RD-1", "rep_id": "R-17", "points": "30",
              "reward": "headset"}  # fmt: skip
    world, steps = fold(
        full_plan,
        [deal(1, "125000.00", new_customer=True),  # 80 points
         sent("PointsRedeemed", "shop-1", "shop", **redeem),
         sent("PointsRedeemed", "hr-1", "hr", **redeem)],
    )  # fmt: skip
    assert steps[2] == Step()
    assert total(world, "points") == D(50)


def test_a_survey_response_from_two_sources_counts_once(reference_plan: Plan) -> None:
    answer = {"deal_id": "D-1", "customer_id": "C-88", "score": "96",
              "response_id": "SR-5"}  # fmt: skip
    world, steps = fold(
        reference_plan,
        [deal(1, "200000.00"),
         sent("SatisfactionRecorded", "svy-1", "survey", **answer),
         sent("SatisfactionRecorded", "crm-9", "crm", **answer),
         sent("SatisfactionRecorded", "crm-10", "crm", **{**answer, "score": "40"})],
    )  # fmt: skip
    assert steps[2] == Step()
    assert steps[3].rejected[0].reason == (
        "survey response SR-5 was already recorded with other content"
    )
    assert total(world, "bonus") == D("4000.00")
    assert world.reps["R-17"].scores_in("2026") == (D(96), 1)


def test_scores_without_a_response_id_are_told_apart_by_event_id(
    reference_plan: Plan,
) -> None:
    answer = {"deal_id": "D-1", "customer_id": "C-88", "score": "96"}
    world, _ = fold(
        reference_plan,
        [deal(1, "200000.00"),
         sent("SatisfactionRecorded", "svy-1", "survey", **answer),
         sent("SatisfactionRecorded", "svy-2", "survey", **answer)],
    )  # fmt: skip
    assert world.reps["R-17"].scores_in("2026") == (D(192), 2)


def test_a_spiff_announced_by_two_sources_is_one_window(reference_plan: Plan) -> None:
    window = {"spiff_id": "x2", "starts_at": "2026-03-13T09:00:00+08:00",
              "ends_at": "2026-03-15T09:00:00+08:00", "multiplier": "2"}  # fmt: skip
    world, steps = fold(
        reference_plan,
        [sent("SpiffAnnounced", "mkt-1", "marketing", **window),
         sent("SpiffAnnounced", "crm-1", "crm", **window),
         deal(1, "100000.00")],
    )  # fmt: skip
    assert steps[1] == Step()
    assert len(world.spiffs) == 1
    assert total(world, "earned") == D("6000.00")


def test_an_adjustment_sent_twice_moves_the_target_once(reference_plan: Plan) -> None:
    quota = {"node_id": "CO", "level": "company", "parent_id": None,
             "period": "2026-Q1", "amount": "1000000.00",
             "currency": "CNY"}  # fmt: skip
    adjust = {"node_id": "CO", "level": "company", "parent_id": None,
              "period": "2026-Q1", "amount": "1100000.00", "currency": "CNY",
              "reason": "new market", "approved_by": "cfo"}  # fmt: skip
    world, steps = fold(
        reference_plan,
        [sent("QuotaAssigned", "t-1", "plan", **quota),
         sent("QuotaAdjusted", "t-2", "plan", **adjust),
         sent("QuotaAdjusted", "t-3", "excel", **adjust)],
    )  # fmt: skip
    assert steps[2] == Step()
    node = world.targets.get("CO", "2026-Q1")
    assert node is not None
    assert node.amount == D("1100000.00")
