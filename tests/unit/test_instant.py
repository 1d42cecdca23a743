from datetime import datetime, timedelta, timezone
from decimal import Decimal
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.instant import (
    InstantAward,
    InstantRewardRules,
    InstantState,
    on_deal,
    on_deal_amended,
    on_deal_cancelled,
)

D = Decimal
CST = timezone(timedelta(hours=8))
RULES = InstantRewardRules.model_validate(
    {
        "currency": "CNY",
        "lightning": {"more_than": "100000", "award": "2000"},
        "breakthrough": {"count": 3, "window_days": 7, "award": "5000"},
    }
)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _deal(
    state: InstantState,
    deal_id: str,
    at: str,
    amount: str = "1000",
    *,
    key: bool = False,
    rules: InstantRewardRules = RULES,
    customer: str = "",
) -> tuple[InstantState, tuple[InstantAward, ...]]:
    return on_deal(
        state,
        "R-17",
        deal_id=deal_id,
        event_id=f"ev-{deal_id}",
        closed_at=_at(at),
        credited_amount=D(amount),
        new_customer=key,
        key_account=key,
        rules=rules,
        customer_id=customer or f"C-{deal_id}",
    )


def _cancel(
    state: InstantState, deal_id: str, rules: InstantRewardRules = RULES
) -> tuple[InstantState, tuple[InstantAward, ...]]:
    return on_deal_cancelled(
        state, "R-17", deal_id=deal_id, event_id=f"cancel-{deal_id}", rules=rules
    )


def _fold(*deals: tuple[str, str, str]) -> tuple[InstantState, list[InstantAward]]:
    state, awards = InstantState(), list[InstantAward]()
    for deal_id, at, amount in deals:
        state, fired = _deal(state, deal_id, at, amount)
        awards.extend(fired)
    return state, awards


def _keys(*deals: tuple[str, str]) -> tuple[InstantState, list[InstantAward]]:
    state, awards = InstantState(), list[InstantAward]()
    for deal_id, at in deals:
        state, fired = _deal(state, deal_id, at, key=True)
        awards.extend(fired)
    return state, awards


def test_signing_over_100000_in_one_day_fires_one_lightning_award() -> None:
    # 60,000 + 50,000 = 110,000 > 100,000 at the second deal; the third adds nothing.
    _, awards = _fold(
        ("D1", "2026-03-14T09:00:00+08:00", "60000"),
        ("D2", "2026-03-14T15:00:00+08:00", "50000"),
        ("D3", "2026-03-14T17:00:00+08:00", "30000"),
    )
    (award,) = awards
    assert (award.rep_id, award.rule, award.amount, award.currency) == (
        "R-17",
        "lightning",
        D("2000.00"),
        "CNY",
    )
    assert award.source_event_ids == ("ev-D1", "ev-D2")
    assert award.formula == (
        "signed 110,000.00 on 2026-03-14 (2 deals), more than 100,000.00: "
        "lightning award 2,000.00"
    )


def test_signing_exactly_100000_is_not_more_than_the_threshold() -> None:
    _, awards = _fold(("D1", "2026-03-14T09:00:00+08:00", "100000"))
    assert awards == []


def test_lightning_day_is_the_calendar_day_in_the_deals_own_offset() -> None:
    # 23:30 and 00:30 at +08:00 are two days; 16:30 UTC is still the 14th in UTC.
    _, awards = _fold(
        ("D1", "2026-03-14T23:30:00+08:00", "60000"),
        ("D2", "2026-03-15T00:30:00+08:00", "50000"),
    )
    assert awards == []
    _, awards = _fold(
        ("D1", "2026-03-14T23:30:00+08:00", "60000"),
        ("D2", "2026-03-14T16:30:00+00:00", "50000"),
    )
    assert [a.rule for a in awards] == ["lightning"]


def test_each_day_over_the_threshold_earns_its_own_lightning_award() -> None:
    _, awards = _fold(
        ("D1", "2026-03-14T09:00:00+08:00", "120000"),
        ("D2", "2026-03-14T10:00:00+08:00", "120000"),
        ("D3", "2026-03-15T09:00:00+08:00", "120000"),
    )
    assert [a.source_event_ids for a in awards] == [("ev-D1",), ("ev-D3",)]


def test_same_deal_seen_again_changes_nothing() -> None:
    state, _ = _fold(("D1", "2026-03-14T09:00:00+08:00", "60000"))
    again, awards = _deal(state, "D1", "2026-03-14T09:00:00+08:00", "60000")
    assert (again, awards) == (state, ())


def test_rules_left_out_of_the_plan_never_fire() -> None:
    rules = InstantRewardRules(currency="CNY")
    state = InstantState()
    for n in range(3):
        state, awards = _deal(
            state, f"K{n}", "2026-03-14T09:00:00+08:00", "500000", key=True, rules=rules
        )
        assert awards == ()
    assert state.pending == ()


@pytest.mark.parametrize(
    ("at", "amount"),
    [("2026-03-14T09:00:00", "1000"), ("2026-03-14T09:00:00+08:00", "0")],
)
def test_deal_without_offset_or_amount_is_refused(at: str, amount: str) -> None:
    with pytest.raises(ValueError, match="aware closed_at and a positive"):
        _deal(InstantState(), "D1", at, amount)


def test_three_key_account_new_customers_in_seven_days_fire_a_breakthrough() -> None:
    # 1 Mar 10:00 is exactly 7 × 24 h before 8 Mar 10:00: inside the window.
    _, awards = _keys(
        ("K1", "2026-03-01T10:00:00+08:00"),
        ("K2", "2026-03-04T10:00:00+08:00"),
        ("K3", "2026-03-08T10:00:00+08:00"),
    )
    (award,) = awards
    assert (award.rule, award.amount) == ("breakthrough", D("5000.00"))
    assert award.source_event_ids == ("ev-K1", "ev-K2", "ev-K3")
    assert award.formula == (
        "3 key-account new customers within 7 days (K1, K2, K3): "
        "breakthrough award 5,000.00"
    )


def test_window_is_the_seven_days_ending_at_the_triggering_deal() -> None:
    # K1 falls a minute outside K3's window; K4 completes K2, K3, K4.
    _, awards = _keys(
        ("K1", "2026-03-01T10:00:00+08:00"),
        ("K2", "2026-03-04T10:00:00+08:00"),
        ("K3", "2026-03-08T10:01:00+08:00"),
        ("K4", "2026-03-09T10:00:00+08:00"),
    )
    assert [a.source_event_ids for a in awards] == [("ev-K2", "ev-K3", "ev-K4")]


def test_each_key_account_deal_counts_towards_one_breakthrough_only() -> None:
    # Four in a week earn one award; six earn two.
    days = [f"2026-03-0{d}T10:00:00+08:00" for d in range(1, 7)]
    _, four = _keys(*[(f"K{n}", days[n]) for n in range(4)])
    _, six = _keys(*[(f"K{n}", days[n]) for n in range(6)])
    assert (len(four), len(six)) == (1, 2)


def test_only_key_account_new_customers_count_towards_a_breakthrough() -> None:
    state = InstantState()
    for deal_id, new, key in (
        ("A", True, False),
        ("B", False, True),
        ("C", True, True),
    ):
        state, awards = on_deal(
            state,
            "R-17",
            deal_id=deal_id,
            event_id=deal_id,
            closed_at=_at("2026-03-01T10:00:00+08:00"),
            credited_amount=D(1),
            new_customer=new,
            key_account=key,
            rules=RULES,
        )
        assert awards == ()
    assert [c.deal_id for c in state.pending] == ["C"]


def test_late_key_account_deal_can_complete_a_breakthrough() -> None:
    _, awards = _keys(
        ("K5", "2026-03-05T10:00:00+08:00"),
        ("K8", "2026-03-08T10:00:00+08:00"),
        ("K3", "2026-03-03T10:00:00+08:00"),
    )
    assert [a.source_event_ids for a in awards] == [("ev-K3", "ev-K5", "ev-K8")]


def test_key_account_deals_more_than_a_year_behind_the_latest_are_forgotten() -> None:
    state, _ = _keys(
        ("K1", "2025-03-01T10:00:00+08:00"),
        ("K2", "2026-03-01T10:00:00+08:00"),
        ("K3", "2026-03-20T10:00:00+08:00"),
    )
    assert [c.deal_id for c in state.pending] == ["K2", "K3"]


def test_a_key_account_deal_that_arrives_late_completes_a_breakthrough() -> None:
    """SPEC §9: the deals a late one groups with are still kept, whatever the
    arrival order (a window was all that was kept before)."""
    _, awards = _keys(
        ("K2", "2026-03-03T10:00:00+08:00"),
        ("K3", "2026-03-05T10:00:00+08:00"),
        ("K9", "2026-03-30T10:00:00+08:00"),
        ("K1", "2026-03-01T10:00:00+08:00"),
    )
    assert [a.rule for a in awards] == ["breakthrough"]


def test_cancelled_deal_that_drops_the_day_to_the_threshold_reverses_lightning() -> (
    None
):
    # 60,000 + 50,000 fired; cancelling D2 leaves 60,000: the 2,000 award is reversed.
    # A later 45,000 that day makes 105,000 and fires again: one award net.
    state, _ = _fold(
        ("D1", "2026-03-14T09:00:00+08:00", "60000"),
        ("D2", "2026-03-14T15:00:00+08:00", "50000"),
    )
    state, (reversal,) = _cancel(state, "D2")
    assert (reversal.rule, reversal.amount) == ("lightning", D("-2000.00"))
    assert reversal.source_event_ids == ("cancel-D2", "ev-D1", "ev-D2")
    assert reversal.formula == (
        "reversal of the lightning award 2,000.00: deal D2 cancelled, "
        "2026-03-14 now totals 60,000.00"
    )
    _, (again,) = _deal(state, "D3", "2026-03-14T18:00:00+08:00", "45000")
    assert again.amount == D("2000.00")


def test_cancelled_deal_that_leaves_the_day_above_the_threshold_keeps_lightning() -> (
    None
):
    state, _ = _fold(
        ("D1", "2026-03-14T09:00:00+08:00", "60000"),
        ("D2", "2026-03-14T15:00:00+08:00", "50000"),
        ("D3", "2026-03-14T16:00:00+08:00", "30000"),
    )
    state, awards = _cancel(state, "D3")
    assert awards == ()
    _, awards = _deal(state, "D4", "2026-03-14T18:00:00+08:00", "45000")
    assert awards == ()


def test_cancelled_deal_is_not_counted_if_seen_again() -> None:
    state, _ = _fold(("D1", "2026-03-14T09:00:00+08:00", "60000"))
    state, _ = _cancel(state, "D1")
    again, awards = _cancel(state, "D1")
    assert (again, awards) == (state, ())
    _, awards = _deal(state, "D1", "2026-03-14T09:00:00+08:00", "160000")
    assert awards == ()


def test_cancel_arriving_before_its_deal_makes_the_deal_count_for_nothing() -> None:
    state, awards = _cancel(InstantState(), "D1")
    assert awards == ()
    _, awards = _deal(state, "D1", "2026-03-14T09:00:00+08:00", "160000")
    assert awards == ()


def test_cancelling_a_breakthrough_member_reverses_it_and_rearms_the_rest() -> None:
    # K1-K3 fired; K4 waits. Cancelling K3 reverses the award, and K1, K2, K4 (within
    # 7 days) fire a new one at once: one award net, built from deals that stand.
    state, _ = _keys(
        ("K1", "2026-03-01T10:00:00+08:00"),
        ("K2", "2026-03-02T10:00:00+08:00"),
        ("K3", "2026-03-03T10:00:00+08:00"),
        ("K4", "2026-03-04T10:00:00+08:00"),
    )
    state, (reversal, refired) = _cancel(state, "K3")
    assert (reversal.amount, reversal.source_event_ids) == (
        D("-5000.00"),
        ("cancel-K3", "ev-K1", "ev-K2", "ev-K3"),
    )
    assert (refired.amount, refired.source_event_ids) == (
        D("5000.00"),
        ("ev-K1", "ev-K2", "ev-K4"),
    )
    assert state.pending == ()


def test_cancelling_a_waiting_key_account_deal_removes_it_from_the_count() -> None:
    state, _ = _keys(
        ("K1", "2026-03-01T10:00:00+08:00"), ("K2", "2026-03-02T10:00:00+08:00")
    )
    state, awards = _cancel(state, "K2")
    assert awards == ()
    _, awards = _deal(state, "K3", "2026-03-03T10:00:00+08:00", key=True)
    assert awards == ()


def test_breakthrough_dropped_from_the_plan_is_still_reversed_on_cancel() -> None:
    state, _ = _keys(
        ("K1", "2026-03-01T10:00:00+08:00"),
        ("K2", "2026-03-02T10:00:00+08:00"),
        ("K3", "2026-03-03T10:00:00+08:00"),
    )
    state, awards = _cancel(state, "K1", InstantRewardRules(currency="CNY"))
    assert [a.amount for a in awards] == [D("-5000.00")]
    assert state.pending == ()


DAY_DEALS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=86_399),
        st.decimals(min_value=1, max_value=80_000, places=2),
    ),
    min_size=1,
    max_size=8,
)


@given(DAY_DEALS, st.randoms(use_true_random=False))
def test_lightning_fires_at_most_once_per_rep_per_day_in_any_order(
    deals: list[tuple[int, Decimal]], random: Random
) -> None:
    midnight = datetime(2026, 3, 14, tzinfo=CST)
    order = list(enumerate(deals))
    random.shuffle(order)
    state, awards = InstantState(), list[InstantAward]()
    for index, (second, amount) in order:
        at = (midnight + timedelta(seconds=second)).isoformat()
        state, fired = _deal(state, f"D{index}", at, str(amount))
        awards.extend(fired)
    total = sum((amount for _, amount in deals), D(0))
    assert len(awards) == (1 if total > 100_000 else 0)


@given(
    DAY_DEALS,
    st.lists(st.integers(min_value=0, max_value=7), max_size=8),
    st.randoms(use_true_random=False),
)
def test_net_lightning_per_day_follows_the_deals_that_stand(
    deals: list[tuple[int, Decimal]], cancels: list[int], random: Random
) -> None:
    # Deals and cancels in any interleaving (a cancel may even come first): the day
    # nets one award exactly when the deals not cancelled sign more than 100,000.
    state, net = InstantState(), D(0)
    steps = [("deal", n) for n in range(len(deals))] + [("cancel", n) for n in cancels]
    random.shuffle(steps)
    for step, n in steps:
        if step == "deal":
            state, fired = _deal(
                state, f"D{n}", "2026-03-14T12:00:00+08:00", str(deals[n][1])
            )
        else:
            state, fired = _cancel(state, f"D{n}")
        net += sum((a.amount for a in fired), D(0))
    standing = sum(
        (amount for n, (_, amount) in enumerate(deals) if n not in cancels), D(0)
    )
    assert net == (D(2000) if standing > 100_000 else D(0))


KEY_DEALS = st.lists(
    st.integers(min_value=0, max_value=30 * 24), min_size=1, max_size=12, unique=True
)


@given(KEY_DEALS, st.randoms(use_true_random=False))
def test_breakthrough_groups_never_share_a_deal_and_all_cancels_net_to_zero(
    hours: list[int], random: Random
) -> None:
    start = datetime(2026, 3, 1, tzinfo=CST)
    state, awards = InstantState(), list[InstantAward]()
    for n, hour in enumerate(hours):
        at = (start + timedelta(hours=hour)).isoformat()
        state, fired = _deal(state, f"K{n}", at, key=True)
        awards.extend(fired)
    members = [e for f in state.fired for e in (c.deal_id for c in f.group)]
    assert len(members) == len(set(members)) == 3 * len(state.fired)
    # A late deal may regroup (a reversal and a new award): the net is one per group.
    assert sum(a.amount for a in awards) == D(5000) * len(state.fired)
    for f in state.fired:
        assert f.group[-1].closed_at - f.group[0].closed_at <= timedelta(days=7)
    order = [f"K{n}" for n in range(len(hours))]
    random.shuffle(order)
    for deal_id in order:
        state, fired = _cancel(state, deal_id)
        awards.extend(fired)
    assert sum((a.amount for a in awards), D(0)) == 0
    assert (state.pending, state.fired) == ((), ())


def test_amending_a_deal_the_rep_never_signed_changes_nothing() -> None:
    state, awards = on_deal_amended(
        InstantState(), "R-17", deal_id="D-9", event_id="a-1",
        credited_amount=D(500_000), rules=RULES,
    )  # fmt: skip
    assert (state, awards) == (InstantState(), ())


def test_a_breakthrough_of_one_fires_for_each_new_key_account_customer() -> None:
    one = RULES.model_copy(
        update={"breakthrough": RULES.breakthrough.model_copy(update={"count": 1})}  # type: ignore[union-attr]
    )
    state, first = _deal(InstantState(), "A", "2026-03-01T10:00:00+08:00", key=True,
                         rules=one)  # fmt: skip
    state, again = _deal(state, "B", "2026-03-02T10:00:00+08:00", key=True, rules=one,
                         customer="C-A")  # fmt: skip
    assert [a.rule for a in first] == ["breakthrough"]
    assert again == ()  # C-A already counted in an award


@given(
    st.lists(
        st.tuples(st.integers(0, 40 * 24), st.integers(0, 5)),
        min_size=1, max_size=10, unique_by=lambda d: d[0],
    ),
    st.randoms(use_true_random=False),
)  # fmt: skip
def test_breakthroughs_stand_the_same_whatever_order_the_deals_come_in(
    deals: list[tuple[int, int]], random: Random
) -> None:
    """SPEC §9: the groups are made again from every kept deal in closing order, so
    any arrival order nets the same awards and leaves the same groups standing."""
    start = datetime(2026, 3, 1, tzinfo=CST)

    def folded(order: list[int]) -> tuple[Decimal, set[frozenset[str]]]:
        state, net = InstantState(), D(0)
        for n in order:
            hour, customer = deals[n]
            at = (start + timedelta(hours=hour)).isoformat()
            state, fired = _deal(state, f"K{n}", at, key=True, customer=f"C{customer}")
            net += sum((a.amount for a in fired), D(0))
        return net, {frozenset(c.deal_id for c in f.group) for f in state.fired}

    in_time = sorted(range(len(deals)), key=lambda n: deals[n][0])
    shuffled = list(in_time)
    random.shuffle(shuffled)
    assert folded(shuffled) == folded(in_time)
