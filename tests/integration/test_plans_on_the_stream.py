"""Plans, SPIFF windows, targets and the organisation reach every rep's world;
a rep's activities reach that rep."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from projections.store import Store
from streams.infra.settings import Settings
from streams.infra.topics import ACTIVITIES, DEALS, ORG, PLANS
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event, envelope
from tests.integration.conftest import (
    earned,
    get_json,
    metrics_text,
    routed,
    send,
    unique,
    wait_for,
)

pytestmark = pytest.mark.integration
# Far from the generated streams' dates (2026-2027), so other tests are not repriced.
YEAR = "2030"


def _deal(rep: str, at: str, **fields: Any) -> dict[str, Any]:
    return deal_event(**{
        "event_id": unique("e"), "deal_id": unique("D"), "rep_id": rep,
        "amount": "100000.00", "margin": "0.00", "new_customer": False,
        "occurred_at": at, "payment_due_at": f"{YEAR}-12-31T00:00:00+08:00",
        "splits": [{"rep_id": rep, "share": "1"}], **fields,
    })  # fmt: skip


def test_a_published_plan_prices_later_deals_and_a_spiff_window_doubles_them(
    worker: QuotaFlowApp, producer: Producer, store: Store, settings: Settings
) -> None:
    bands = [
        {"lower": "0", "upper": "500000", "rate": "0.04"},
        {"lower": "500000", "rate": "0.05"},
    ]
    plan = envelope(
        "PlanPublished", unique("plan"), f"{YEAR}-01-01T00:00:00+08:00",
        plan_id="reference", version=2,
        effective_from=f"{YEAR}-01-01T00:00:00+08:00",
        effective_to=f"{int(YEAR) + 1}-01-01T00:00:00+08:00",
        plan={"currency": "CNY", "revenue_bands": bands},
    )  # fmt: skip
    spiff = envelope(
        "SpiffAnnounced", unique("spiff"), f"{YEAR}-06-01T00:00:00+08:00",
        spiff_id=unique("june"), starts_at=f"{YEAR}-06-01T00:00:00+08:00",
        ends_at=f"{YEAR}-06-03T00:00:00+08:00", multiplier="2",
        product_lines=["cloud"],
    )  # fmt: skip
    misplaced = _deal("R-x", f"{YEAR}-01-02T00:00:00+08:00")
    before = routed(settings, PLANS)
    for event in (plan, spiff, misplaced):
        send(producer, PLANS, event["event_id"].encode(), orjson.dumps(event))
    wait_for(lambda: routed(settings, PLANS) >= before + 2, 60, "both broadcast")

    rep = unique("R")
    march = _deal(rep, f"{YEAR}-03-01T10:00:00+08:00")
    june = _deal(rep, f"{YEAR}-06-02T10:00:00+08:00", product_line="cloud")
    for deal in (march, june):
        send(producer, DEALS, deal["deal_id"].encode(), orjson.dumps(deal))
    # March: 100,000 at v2's 4% = 4,000; June: 100,000 at 4% x 2 (SPIFF) = 8,000.
    wait_for(lambda: earned(store, rep) == Decimal("12000.00"), 60, "v2 and SPIFF")
    lines = get_json(settings, f"/api/reps/{rep}/statement")
    assert {line["plan"] for line in lines} == {"reference v2"}

    def misplaced_set_aside() -> bool:
        wanted = 'quotaflow_dead_letters_total{reason="wrong_topic"}'
        return wanted in metrics_text(settings)

    wait_for(misplaced_set_aside, 30, "a deal on the plans topic dead-lettered")


def test_activities_reach_their_rep_and_org_and_targets_reach_every_rep(
    worker: QuotaFlowApp, producer: Producer, store: Store, settings: Settings
) -> None:
    year = "2031"
    plan = envelope(
        "PlanPublished", unique("plan"), f"{year}-01-01T00:00:00+08:00",
        plan_id=unique("points"), version=1,
        effective_from=f"{year}-01-01T00:00:00+08:00",
        effective_to=f"{int(year) + 1}-01-01T00:00:00+08:00",
        plan={"currency": "CNY", "revenue_bands": [{"lower": "0", "rate": "0.03"}],
              "points": {"visit": "5", "decision_maker_visit": "10"}},
    )  # fmt: skip
    before = routed(settings, PLANS)
    send(producer, PLANS, plan["event_id"].encode(), orjson.dumps(plan))
    wait_for(lambda: routed(settings, PLANS) >= before + 1, 60, "the plan broadcast")

    rep, at = unique("R"), f"{year}-02-01T10:00:00+08:00"
    visit = envelope("ActivityLogged", unique("a"), at, activity_id=unique("A"),
                     rep_id=rep, kind="decision_maker_visit")  # fmt: skip
    redeem = envelope("PointsRedeemed", unique("r"), at, redemption_id=unique("RD"),
                      rep_id=rep, points="50", reward="a dinner")  # fmt: skip
    moved = envelope("RepMoved", unique("m"), at, rep_id=unique("nobody"),
                     team_id="T1", region="east", role="account_manager",
                     grade="P5", hired_at=at)  # fmt: skip
    for topic, event in ((ACTIVITIES, visit), (ACTIVITIES, redeem), (ORG, moved)):
        send(producer, topic, event["event_id"].encode(), orjson.dumps(event))

    wait_for(
        lambda: earned(store, rep, "points") == Decimal(10), 60, "the visit's points"
    )
    for reason in ("insufficient_points", "unknown_rep"):
        wanted = f'quotaflow_dead_letters_total{{reason="{reason}"}}'
        wait_for(lambda w=wanted: w in metrics_text(settings), 30, reason)


def test_a_spiff_and_a_plan_arriving_after_the_deals_they_cover_reprice_them(
    worker: QuotaFlowApp, producer: Producer, store: Store, settings: Settings
) -> None:
    """SPEC §9 on the stream: the rules ride ``plans``, the deals ``deals``; a rule
    that comes second prices the deals as if it had come first."""
    year, rep, line = "2035", unique("R"), unique("pl")
    first = _deal(rep, f"{year}-06-02T10:00:00+08:00", product_line=line,
                  payment_due_at=f"{year}-12-31T00:00:00+08:00")  # fmt: skip
    send(producer, DEALS, first["deal_id"].encode(), orjson.dumps(first))
    # The reference plan (v1): 100,000 at 3%.
    wait_for(lambda: earned(store, rep) == Decimal("3000.00"), 60, "v1's 3%")

    spiff = envelope(
        "SpiffAnnounced", unique("spiff"), f"{year}-06-05T00:00:00+08:00",
        spiff_id=unique("june"), starts_at=f"{year}-06-01T00:00:00+08:00",
        ends_at=f"{year}-06-03T00:00:00+08:00", multiplier="2", product_lines=[line],
    )  # fmt: skip
    send(producer, PLANS, spiff["event_id"].encode(), orjson.dumps(spiff))
    wait_for(lambda: earned(store, rep) == Decimal("6000.00"), 60, "the late SPIFF")

    bands = [{"lower": "0", "upper": "500000", "rate": "0.04"},
             {"lower": "500000", "rate": "0.05"}]  # fmt: skip
    plan = envelope(
        "PlanPublished", unique("plan"), f"{year}-07-01T00:00:00+08:00",
        plan_id="reference", version=3, effective_from=f"{year}-01-01T00:00:00+08:00",
        effective_to=f"{int(year) + 1}-01-01T00:00:00+08:00",
        plan={"currency": "CNY", "revenue_bands": bands},
    )  # fmt: skip
    send(producer, PLANS, plan["event_id"].encode(), orjson.dumps(plan))
    # 100,000 at v3's 4%, × 2 in the SPIFF window.
    wait_for(lambda: earned(store, rep) == Decimal("8000.00"), 60, "the late plan")
    lines = get_json(settings, f"/api/reps/{rep}/statement")
    assert any("re-priced: plan reference v3" in row["formula"] for row in lines)
