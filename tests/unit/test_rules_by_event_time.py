"""SPEC §9, plans and SPIFFs by event time: a ``SpiffAnnounced`` or ``PlanPublished``
that arrives after deals it covers prices them as if it had arrived first, booking
only the difference, with lines that say what arrived."""

from __future__ import annotations

from decimal import Decimal
from itertools import permutations
from typing import Any

import pytest

from domain.events import Event
from domain.plan import Plan
from tests.factories import envelope, payment_event
from tests.unit.test_engine import deal, event, fold, lines_of, total

D = Decimal
ON_TIME = "2026-03-20T00:00:00+08:00"  # before the factory's due date, within 30 days


def spiff(**fields: Any) -> Event:
    return event(
        envelope("SpiffAnnounced", "spiff-1", "2026-03-16T09:00:00+08:00",
                 spiff_id="double-cloud", starts_at="2026-03-13T09:00:00+08:00",
                 ends_at="2026-03-15T09:00:00+08:00", multiplier="2", **fields)
    )  # fmt: skip


def paid(n: int = 1, amount: str = "100000.00") -> Event:
    return event(payment_event(f"p-{n}", "D-1", amount, ON_TIME))


def test_a_spiff_announced_after_a_deal_it_covers_doubles_it_to_6000(
    reference_plan: Plan,
) -> None:
    world, steps = fold(reference_plan, [deal(1, "100000.00"), spiff()])
    assert total(world, "earned") == D("6000.00")
    (repriced,) = steps[1].lines
    assert repriced.amount == D("3000.00")
    assert repriced.source_event_ids == ("spiff-1",)
    assert "× 2 (SPIFF double-cloud)" in repriced.formula
    assert "re-priced: SPIFF double-cloud announced after the deal" in repriced.formula


@pytest.mark.parametrize("filters", [{"regions": ["west"]}, {"product_lines": ["hw"]}])
def test_a_late_spiff_that_does_not_match_the_deal_changes_nothing(
    reference_plan: Plan, filters: dict[str, Any]
) -> None:
    _, steps = fold(reference_plan, [deal(1, "100000.00"), spiff(**filters)])
    assert steps[1].lines == ()


@pytest.mark.parametrize("order", list(permutations(range(3))), ids=str)
def test_a_spiff_counts_the_same_wherever_it_arrives(
    reference_plan: Plan, order: tuple[int, int, int]
) -> None:
    """Deal, payment and SPIFF in any order (a payment before its deal waits)."""
    events = [deal(1, "100000.00"), paid(), spiff()]
    world, _ = fold(reference_plan, [events[i] for i in order])
    assert total(world, "earned") == D("6000.00")
    assert total(world, "payable") == D("6600.00")  # paid fast: × 1.10


def test_a_cancelled_deal_is_not_repriced(reference_plan: Plan) -> None:
    cancel = event(envelope("DealCancelled", "x-1", "2026-03-15T00:00:00+08:00",
                            deal_id="D-1"))  # fmt: skip
    world, steps = fold(reference_plan, [deal(1, "100000.00"), cancel, spiff()])
    assert steps[2].lines == ()
    assert total(world, "earned") == D(0)


def _version_2(plan: Plan, rate: str = "0.04", currency: str = "CNY") -> Event:
    document = plan.model_dump(mode="json", exclude={"plan_id", "version"})
    document["revenue_bands"][0]["rate"] = rate
    document["currency"] = currency
    return event(
        envelope("PlanPublished", "plan-2", "2026-04-10T00:00:00+08:00",
                 plan_id="reference", version=2, plan=document,
                 effective_from="2026-03-01T00:00:00+08:00")
    )  # fmt: skip


def test_a_plan_published_after_deals_it_covers_reprices_them(
    reference_plan: Plan,
) -> None:
    world, steps = fold(
        reference_plan, [deal(1, "100000.00"), _version_2(reference_plan)]
    )
    assert total(world, "earned") == D("4000.00")
    (repriced,) = steps[1].lines
    assert (repriced.plan_version, repriced.amount) == (2, D("1000.00"))
    assert "re-priced: plan reference v2 published after the deal" in repriced.formula
    early, _ = fold(reference_plan, [_version_2(reference_plan), deal(1, "100000.00")])
    assert total(early, "earned") == total(world, "earned")


def test_a_late_plan_in_another_currency_leaves_the_deal_as_priced(
    reference_plan: Plan,
) -> None:
    late = _version_2(reference_plan, currency="USD")
    world, steps = fold(reference_plan, [deal(1, "100000.00"), late])
    assert steps[1].lines == ()
    assert total(world, "earned") == D("3000.00")


def test_a_plan_that_covers_no_deal_reprices_nothing(reference_plan: Plan) -> None:
    document = reference_plan.model_dump(mode="json", exclude={"plan_id", "version"})
    later = event(
        envelope("PlanPublished", "plan-3", "2026-04-10T00:00:00+08:00",
                 plan_id="reference", version=3, plan=document,
                 effective_from="2026-06-01T00:00:00+08:00")
    )  # fmt: skip
    _, steps = fold(reference_plan, [deal(1, "100000.00"), later])
    assert steps[1].lines == ()
    assert lines_of(steps)[0].plan_version == 1
