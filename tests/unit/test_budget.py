from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.budget import (
    BudgetAlert,
    BudgetError,
    BudgetRules,
    BudgetState,
    accrue,
    non_reserve_budget,
    remaining_non_reserve,
    utilisation,
)

D = Decimal
# 1,000,000 with the default 15% reserve: 850,000 may be accrued before the reserve.
RULES = BudgetRules(total=D(1_000_000), currency="CNY")


def _run(*amounts: str) -> tuple[BudgetState, list[BudgetAlert]]:
    state, alerts = BudgetState(), list[BudgetAlert]()
    for index, amount in enumerate(amounts):
        state, raised = accrue(
            state, D(amount), RULES, currency="CNY", source_event_ids=(f"e{index}",)
        )
        alerts.extend(raised)
    return state, alerts


def test_reserve_is_fifteen_percent_by_default() -> None:
    assert RULES.reserve_share == D("0.15")
    assert non_reserve_budget(RULES) == D(850_000)


def test_accruals_inside_the_non_reserve_budget_raise_nothing() -> None:
    state, alerts = _run("500000", "350000")
    assert (state.accrued, alerts) == (D(850_000), [])


def test_crossing_the_non_reserve_budget_raises_one_alert() -> None:
    # 800,000 + 60,000 = 860,000 > 850,000: one alert, at the second accrual only.
    state, alerts = _run("800000", "60000", "10000", "5000")
    (alert,) = alerts
    assert (alert.kind, alert.accrued, alert.limit) == (
        "non_reserve_exceeded",
        D(860_000),
        D(850_000),
    )
    assert alert.source_event_ids == ("e1",)
    assert alert.message == (
        "incentive accruals reached 860,000.00 CNY; the non-reserve budget of "
        "850,000.00 CNY (1,000,000.00 CNY less the 15% reserve) is used up: "
        "further accruals draw on the 150,000.00 CNY reserve"
    )
    assert state.accrued == D(875_000)


def test_reaching_the_non_reserve_budget_exactly_is_not_crossing_it() -> None:
    _, alerts = _run("850000")
    assert alerts == []
    _, alerts = _run("850000", "0.01")
    assert [a.kind for a in alerts] == ["non_reserve_exceeded"]


def test_exhausting_the_reserve_raises_its_own_alert() -> None:
    _, alerts = _run("860000", "140000", "0.01")
    assert [(a.kind, a.accrued) for a in alerts] == [
        ("non_reserve_exceeded", D(860_000)),
        ("reserve_exhausted", D("1000000.01")),
    ]
    assert alerts[1].message == (
        "incentive accruals reached 1,000,000.01 CNY; the total incentive budget of "
        "1,000,000.00 CNY is used up: the 150,000.00 CNY reserve is exhausted"
    )


def test_one_accrual_crossing_both_limits_raises_both_alerts() -> None:
    _, alerts = _run("1200000")
    assert [a.kind for a in alerts] == ["non_reserve_exceeded", "reserve_exhausted"]


def test_clawback_below_the_limit_rearms_the_alert() -> None:
    # 860,000 alerts; a 20,000 clawback leaves 840,000; +20,000 crosses again.
    state, alerts = _run("860000", "-20000", "20000")
    assert [a.source_event_ids for a in alerts] == [("e0",), ("e2",)]
    assert state.accrued == D(860_000)


def test_clawback_that_stays_above_the_limit_does_not_rearm() -> None:
    _, alerts = _run("900000", "-10000", "10000")
    assert [a.source_event_ids for a in alerts] == [("e0",)]


def test_accrual_is_rounded_to_the_cent() -> None:
    state, _ = _run("0.005", "0.015")
    assert state.accrued == D("0.02")


def test_remaining_and_utilisation_of_the_non_reserve_budget() -> None:
    state, _ = _run("425000")
    assert remaining_non_reserve(state, RULES) == D(425_000)
    assert utilisation(state, RULES) == D("0.5")
    state, _ = _run("860000")
    assert remaining_non_reserve(state, RULES) == D(-10_000)


def test_accrual_in_another_currency_is_refused() -> None:
    with pytest.raises(BudgetError, match="in USD cannot run against a CNY budget"):
        accrue(BudgetState(), D(1), RULES, currency="USD")


@pytest.mark.parametrize("share", ["1", "-0.1"])
def test_reserve_share_must_leave_a_budget(share: str) -> None:
    with pytest.raises(ValidationError):
        BudgetRules(total=D(1), reserve_share=D(share), currency="CNY")


AMOUNTS = st.lists(
    st.decimals(min_value=-400_000, max_value=400_000, places=2), max_size=30
)


@given(AMOUNTS)
def test_budget_alerts_fire_once_per_upward_crossing(amounts: list[Decimal]) -> None:
    state, alerts = _run(*map(str, amounts))
    running, crossings = D(0), {"non_reserve_exceeded": 0, "reserve_exhausted": 0}
    for amount in amounts:
        before, running = running, running + amount
        crossings["non_reserve_exceeded"] += before <= 850_000 < running
        crossings["reserve_exhausted"] += before <= 1_000_000 < running
    assert state.accrued == running
    for kind, count in crossings.items():
        assert sum(a.kind == kind for a in alerts) == count


@given(st.lists(st.decimals(min_value=0, max_value=400_000, places=2), max_size=30))
def test_without_clawbacks_each_alert_fires_at_most_once(
    amounts: list[Decimal],
) -> None:
    _, alerts = _run(*map(str, amounts))
    kinds = [a.kind for a in alerts]
    assert len(kinds) == len(set(kinds))


def test_tiny_budget_with_a_large_reserve_still_has_a_non_reserve_part() -> None:
    rules = BudgetRules(total=D("0.01"), reserve_share=D("0.99"), currency="CNY")
    assert non_reserve_budget(rules) == D("0.0001")
    assert utilisation(BudgetState(), rules) == 0
