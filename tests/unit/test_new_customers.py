"""SPEC §9, new customer: the CRM flag *and* no earlier deal with that customer in
QuotaFlow's own history (by close time, not cancelled). Reference plan: 100,000 in
the 3% band earns 3,000, or 4,500 with the new-customer uplift (+1.5 points)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import permutations

import pytest

from domain.customers import index, unindex
from domain.engine import World
from domain.events import Event
from domain.plan import Plan
from domain.pmap import PMap
from domain.world import Buyer
from tests.factories import envelope
from tests.unit.test_engine import deal, event, fold

D = Decimal


def sale(n: int, day: int, rep: str = "R-17", flagged: bool = True) -> Event:
    return deal(
        n, "100000.00", rep=rep, new_customer=flagged, customer_id="C-88",
        occurred_at=f"2026-03-{day:02d}T10:00:00+08:00",
        payment_due_at="2026-06-30T00:00:00+08:00",
    )  # fmt: skip


def cancel(n: int) -> Event:
    return event(envelope("DealCancelled", f"x-{n}", "2026-03-25T00:00:00+08:00",
                          deal_id=f"D-{n}"))  # fmt: skip


def earned(world: World) -> dict[str, Decimal]:
    return {rep_id: rep.total("earned") for rep_id, rep in world.reps.items()}


def test_the_uplift_is_earned_once_per_customer(reference_plan: Plan) -> None:
    world, _ = fold(reference_plan, [sale(1, 10), sale(2, 20)])
    assert earned(world) == {"R-17": D("7500.00")}  # 4,500 + 3,000


def test_an_earlier_deal_arriving_late_takes_the_uplift_from_the_later_one(
    reference_plan: Plan,
) -> None:
    world, steps = fold(reference_plan, [sale(2, 20), sale(1, 10)])
    assert earned(world) == {"R-17": D("7500.00")}
    (moved,) = (line for line in steps[1].lines if line.deal_id == "D-2")
    assert moved.amount == D("-1500.00")
    assert "not a new customer: D-2 has an earlier deal with its customer" in (
        moved.formula
    )


@pytest.mark.parametrize("order", list(permutations(range(3))), ids=str)
def test_whatever_the_order_one_deal_of_a_customer_is_new(
    reference_plan: Plan, order: tuple[int, int, int]
) -> None:
    """Two reps, three deals of one customer, all flagged new by the CRM."""
    deals = [sale(1, 10, "R-1"), sale(2, 5, "R-2"), sale(3, 20, "R-1")]
    world, _ = fold(reference_plan, [deals[i] for i in order])
    assert earned(world) == {"R-1": D("6000.00"), "R-2": D("4500.00")}


def test_cancelling_the_first_deal_makes_the_next_flagged_one_new(
    reference_plan: Plan,
) -> None:
    world, steps = fold(reference_plan, [sale(1, 10), sale(2, 20), cancel(1)])
    assert earned(world) == {"R-17": D("4500.00")}  # D-2 alone, new again
    regained = [line for line in steps[2].lines if line.deal_id == "D-2"]
    assert [line.amount for line in regained] == [D("1500.00")]
    assert "new customer: D-2 is now its customer's first deal" in regained[0].formula


def test_a_next_deal_the_crm_did_not_flag_stays_without_the_uplift(
    reference_plan: Plan,
) -> None:
    world, _ = fold(
        reference_plan, [sale(1, 10), sale(2, 20, flagged=False), cancel(1)]
    )
    assert earned(world) == {"R-17": D("3000.00")}


def test_customer_seen_is_never_accepted_from_upstream(reference_plan: Plan) -> None:
    forged = event(
        envelope("CustomerSeen", "cs-1", "2026-03-10T00:00:00+08:00", deal_id="D-1",
                 customer_id="C-88", closed_at="2026-03-10T00:00:00+08:00",
                 new_customer=True, reps=["R-17"])
    )  # fmt: skip
    _, steps = fold(reference_plan, [forged])
    (refused,) = steps[0].rejected
    assert refused.code == "internal_event"


def test_news_of_a_deal_after_its_cancellation_does_not_count_it_again() -> None:
    """On the stream a deal's cancellation can reach a partition before its close
    (from another partition, after an amendment moved its first rep)."""
    at = datetime.fromisoformat("2026-03-10T10:00:00+08:00")
    first = Buyer(at, "D-1", True, True, ("R-1",))
    later = Buyer(at.replace(day=20), "D-2", True, True, ("R-2",))
    customers, _ = index(PMap(), "C-88", later)
    customers, changed = unindex(customers, "C-88", first)
    assert changed == ()
    customers, changed = index(customers, "C-88", first)
    assert changed == ()
    assert [(b.deal_id, b.new) for b in customers["C-88"]] == [
        ("D-1", False),
        ("D-2", True),
    ]
