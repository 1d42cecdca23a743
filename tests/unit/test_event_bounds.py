"""The contract's plausibility bounds: what a hostile or broken producer sends is
refused at decode time with a precise reason, never left to fail downstream."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from domain.events import (
    MAX_EVENT_BYTES,
    MAX_NESTING,
    InvalidEvent,
    decode_event,
)
from domain.money import MAX_AMOUNT, plausible
from domain.plan import Plan
from domain.replay import replay, summary
from tests.factories import deal_event


def _refusal(event: Any) -> InvalidEvent:
    data = event if isinstance(event, bytes) else orjson.dumps(event)
    with pytest.raises(InvalidEvent) as caught:
        decode_event(data)
    return caught.value


@pytest.mark.parametrize(
    "amount",
    ["1e30", "1E+17", "12345678901234567890", "1000000000000.01", "1e1000000"],
)
def test_an_amount_the_ledger_cannot_hold_is_invalid(amount: str) -> None:
    refused = _refusal(deal_event(amount=amount, margin="1"))
    assert refused.code == "invalid"
    assert "amount" in refused.detail
    assert f"at most {MAX_AMOUNT:f}" in refused.detail


def test_an_amount_at_the_bound_is_accepted() -> None:
    deal = decode_event(orjson.dumps(deal_event(amount=f"{MAX_AMOUNT:f}")))
    assert deal.amount == MAX_AMOUNT


@pytest.mark.parametrize("amount", ["1e-30", "0.0000000000001"])
def test_an_amount_with_too_many_places_is_invalid(amount: str) -> None:
    refused = _refusal(deal_event(amount=amount, margin="0"))
    assert refused.code == "invalid"
    assert "decimal places" in refused.detail


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_an_amount_that_is_no_number_is_invalid(amount: str) -> None:
    assert _refusal(deal_event(amount=amount)).code == "invalid"


def test_plausible_keeps_an_integral_value_with_an_exponent() -> None:
    assert plausible(Decimal("5E+3")) == Decimal(5000)


def test_a_company_target_of_1e30_is_invalid() -> None:
    target = {
        "event_id": "t-1",
        "event_type": "QuotaAssigned",
        "schema_version": 1,
        "occurred_at": "2026-01-01T00:00:00+08:00",
        "source": "erp",
        "node_id": "ACME",
        "level": "company",
        "period": "2026",
        "amount": "1e30",
        "currency": "CNY",
    }
    refused = _refusal(target)
    assert refused.code == "invalid"
    assert refused.detail.startswith("QuotaAssigned.amount:")


def test_points_beyond_the_bound_are_invalid() -> None:
    redemption = {
        "event_id": "p-1",
        "event_type": "PointsRedeemed",
        "schema_version": 1,
        "occurred_at": "2026-01-01T00:00:00+08:00",
        "source": "hr",
        "redemption_id": "RD-1",
        "rep_id": "R-1",
        "points": "1e30",
        "reward": "mug",
    }
    assert _refusal(redemption).detail.startswith("PointsRedeemed.points:")


@pytest.mark.parametrize(
    ("field", "moment"),
    [
        ("occurred_at", "1999-12-31T23:59:59+00:00"),
        ("occurred_at", "9999-12-31T23:59:59+08:00"),
        ("payment_due_at", "2200-01-01T00:00:00+00:00"),
    ],
)
def test_a_moment_outside_the_stated_range_is_invalid(field: str, moment: str) -> None:
    refused = _refusal(deal_event(**{field: moment}))
    assert refused.code == "invalid"
    assert f"{field} " in refused.detail
    assert "2000-01-01 .. 2200-01-01" in refused.detail


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 1_000, 10_000])
def test_json_nested_too_deep_is_refused(depth: int) -> None:
    nested = b'{"a":' * depth + b"1" + b"}" * depth
    refused = _refusal(nested)
    assert refused.code == "too_deep"
    assert str(MAX_NESTING) in refused.detail


def test_json_nested_up_to_the_bound_is_decoded() -> None:
    inner: Any = {"leaf": 1}
    for _ in range(MAX_NESTING - 2):
        inner = [inner]
    assert decode_event(orjson.dumps(deal_event(extra=inner))).deal_id == "D-1001"


def test_an_event_larger_than_the_bound_is_refused_before_decoding() -> None:
    big = orjson.dumps(deal_event(comment="x" * MAX_EVENT_BYTES))
    refused = _refusal(big)
    assert refused.code == "too_large"
    assert str(len(big)) in refused.detail


def test_a_valid_event_encoded_as_utf16_is_undecodable() -> None:
    text = orjson.dumps(deal_event()).decode()
    for encoding in ("utf-16", "utf-16-le", "utf-32"):
        assert _refusal(text.encode(encoding)).code == "undecodable"


def test_simulate_reports_hostile_lines_and_folds_the_rest(
    reference_plan: Plan,
) -> None:
    lines = [
        orjson.dumps(deal_event(event_id="bad-1", deal_id="D-X", amount="1e30")),
        b'{"a":' * 1_000 + b"1" + b"}" * 1_000,
        orjson.dumps(deal_event()),
    ]
    result = replay([reference_plan], lines)
    assert [r.line for r in result.rejected] == [1, 2]
    assert result.rejected[0].reason.startswith("invalid: DealClosed.amount:")
    assert "R-17" in summary(result)["reps"]  # type: ignore[operator]


def test_simulate_reports_an_unexpected_failure_as_internal(
    reference_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise ZeroDivisionError

    monkeypatch.setattr("domain.replay.evolve", broken)
    result = replay([reference_plan], [orjson.dumps(deal_event())])
    assert result.rejected[0].reason == "internal: ZeroDivisionError"
