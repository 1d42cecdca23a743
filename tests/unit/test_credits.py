"""A rep's credit on a deal follows amendments and cancellations."""

from __future__ import annotations

from decimal import Decimal

from domain.credits import deal_credit, heat_shares, standing
from domain.events import Event
from domain.plan import Plan
from tests.factories import envelope
from tests.unit.test_engine import deal, event, fold, lines_of

D = Decimal
AT = "2026-03-02T10:00:00+08:00"


def _amended(splits: list[dict[str, str]]) -> Event:
    """D-1 amended to 2,000.00 with ``splits``."""
    return event(
        envelope("DealAmended", "am-1", "2026-03-05T10:00:00+08:00", deal_id="D-1",
                 amount="2000.00", margin="0.00", currency="CNY", splits=splits)
    )  # fmt: skip


def _cancelled() -> Event:
    return event(
        envelope("DealCancelled", "c-1", "2026-03-06T10:00:00+08:00", deal_id="D-1",
                 reason="customer withdrew")
    )  # fmt: skip


def test_a_split_deal_credits_each_rep_their_share_in_their_periods(
    reference_plan: Plan,
) -> None:
    splits = [{"rep_id": "R-a", "share": "0.75"}, {"rep_id": "R-b", "share": "0.25"}]
    signed = deal(1, "1000.00", rep="R-a", splits=splits, margin="400.00",
                  occurred_at=AT)  # fmt: skip
    world, _ = fold(reference_plan, [signed])
    a, b = deal_credit(world, "D-1", "R-a"), deal_credit(world, "D-1", "R-b")
    assert a is not None
    assert b is not None
    assert (a.credited, a.margin, b.credited) == (D("750.00"), D("300.00"), D("250.00"))
    assert (a.year, a.quarter, a.month) == ("2026", "2026-Q1", "2026-03")
    assert not a.cancelled
    assert deal_credit(world, "D-1", "R-nobody") is None
    assert deal_credit(world, "D-404", "R-a") is None


def test_an_amendment_that_removes_a_rep_leaves_them_zero_and_a_cancel_flags_it(
    reference_plan: Plan,
) -> None:
    both = [{"rep_id": "R-a", "share": "0.5"}, {"rep_id": "R-b", "share": "0.5"}]
    only_a = [{"rep_id": "R-a", "share": "1"}]
    amended = _amended(only_a)
    cancelled = _cancelled()
    world, _ = fold(
        reference_plan, [deal(1, "1000.00", rep="R-a", splits=both), amended]
    )
    a, b = deal_credit(world, "D-1", "R-a"), deal_credit(world, "D-1", "R-b")
    assert a is not None
    assert b is not None
    assert (a.credited, b.credited) == (D("2000.00"), D("0.00"))
    world, _ = fold(
        reference_plan,
        [deal(1, "1000.00", rep="R-a", splits=both), amended, cancelled],
    )
    gone = deal_credit(world, "D-1", "R-a")
    assert gone is not None
    assert gone.cancelled


def test_a_reps_standing_is_their_earned_total_and_credited_deals_so_far(
    reference_plan: Plan,
) -> None:
    # Reference plan: 3% of revenue up to 500,000 (these are existing customers).
    world, steps = fold(
        reference_plan,
        [deal(1, "100000.00", rep="R-a"), deal(2, "200000.00", rep="R-a")],
    )
    lines = lines_of(steps)
    found = standing(world, "R-a")
    assert found is not None
    earned = sum((line.amount for line in lines if line.kind == "earned"), D(0))
    assert (found.earned, found.deals) == (earned, 2)
    assert found.earned == D("9000.00")  # 300,000 × 3%
    assert found.sequence == max(line.sequence for line in lines)
    assert standing(world, "R-nobody") is None


def test_a_split_deal_adds_each_reps_revenue_and_counts_once_until_cancelled(
    reference_plan: Plan,
) -> None:
    splits = [{"rep_id": "R-b", "share": "0.4"}, {"rep_id": "R-a", "share": "0.6"}]
    signed = deal(1, "1000.00", rep="R-b", splits=splits, occurred_at=AT)
    world, _ = fold(reference_plan, [signed])
    a, b = heat_shares(world, "D-1", "R-a"), heat_shares(world, "D-1", "R-b")
    assert [s.period for s in a] == ["2026", "2026-Q1", "2026-03"]
    assert {(s.revenue, s.deals) for s in a} == {(D("600.00"), 1)}  # lowest id
    assert {(s.revenue, s.deals) for s in b} == {(D("400.00"), 0)}
    assert heat_shares(world, "D-1", "R-nobody") == ()
    cancelled = _cancelled()
    world, _ = fold(reference_plan, [signed, cancelled])
    assert heat_shares(world, "D-1", "R-a") == ()


def test_when_an_amendment_drops_the_counting_rep_the_next_lowest_counts_the_deal(
    reference_plan: Plan,
) -> None:
    both = [{"rep_id": "R-a", "share": "0.5"}, {"rep_id": "R-b", "share": "0.5"}]
    only_b = [{"rep_id": "R-b", "share": "1"}]
    amended = _amended(only_b)
    world, _ = fold(reference_plan, [deal(1, "1000.00", rep="R-a", splits=both),
                                     amended])  # fmt: skip
    a, b = heat_shares(world, "D-1", "R-a"), heat_shares(world, "D-1", "R-b")
    assert {(s.revenue, s.deals) for s in a} == {(D("0.00"), 0)}
    assert {(s.revenue, s.deals) for s in b} == {(D("2000.00"), 1)}
