"""The fold's refusals and rarer paths, each with the reason a user would read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.engine import Step, evolve, is_new, start
from domain.events import InvalidEvent, upcast
from domain.plan import Plan
from tests.factories import deal_event, envelope
from tests.unit.test_engine import deal, event, fold, lines_of, pay, total

D = Decimal
AT = "2026-03-20T00:00:00+08:00"


def test_deal_with_no_plan_in_force_is_rejected() -> None:
    world = start([])
    _, step = evolve(world, deal(1, "100.00"))
    assert step.rejected[0].code == "no_plan"


def test_plan_whose_end_is_before_its_start_is_invalid(reference_plan: Plan) -> None:
    document = reference_plan.model_dump(mode="json")
    document["effective_from"] = "2026-06-01T00:00:00+08:00"
    document["effective_to"] = "2026-01-01T00:00:00+08:00"
    with pytest.raises(ValueError, match="effective_to must be after"):
        Plan.model_validate(document)


def test_amendment_can_move_credit_to_another_rep(reference_plan: Plan) -> None:
    amend = event(
        envelope("DealAmended", "a-1", AT, deal_id="D-1", amount="100000.00",
                 margin="0.00", currency="CNY",
                 splits=[{"rep_id": "R-99", "share": "1"}])
    )  # fmt: skip
    world, steps = fold(reference_plan, [deal(1, "100000.00"), amend])
    assert total(world, "earned") == 0
    assert total(world, "earned", "R-99") == D("3000.00")
    assert any("removed from the deal" in line.formula for line in steps[1].lines)


def test_amendment_changing_the_currency_is_rejected(reference_plan: Plan) -> None:
    amend = event(
        envelope("DealAmended", "a-1", AT, deal_id="D-1", amount="1.00", margin="0",
                 currency="USD", splits=[{"rep_id": "R-17", "share": "1"}])
    )  # fmt: skip
    _, steps = fold(reference_plan, [deal(1, "100.00"), amend])
    assert steps[1].rejected[0].code == "currency"


def test_cancelling_twice_books_nothing_the_second_time(reference_plan: Plan) -> None:
    def cancel(n: int) -> Any:
        return event(envelope("DealCancelled", f"c-{n}", AT, deal_id="D-1"))

    _, steps = fold(reference_plan, [deal(1, "100.00"), cancel(1), cancel(2)])
    assert steps[2] == Step()
    assert "no reason" in steps[1].lines[0].formula


def test_the_same_payment_id_is_counted_once_and_a_changed_one_is_a_conflict(
    reference_plan: Plan,
) -> None:
    first = pay(1, 1, "50.00", AT, payment_id="P-X")
    again = pay(2, 1, "50.00", AT, payment_id="P-X")
    changed = pay(3, 1, "60.00", AT, payment_id="P-X")
    world, steps = fold(reference_plan, [deal(1, "100.00"), first, again, changed])
    assert steps[2] == Step()
    assert steps[3].rejected[0].code == "conflict"
    assert total(world, "payable") == D("1.65")


def test_score_for_a_deal_with_no_satisfaction_rule_books_nothing(
    reference_plan: Plan,
) -> None:
    plain = reference_plan.model_copy(update={"satisfaction_bonus": None})
    score = event(
        envelope("SatisfactionRecorded", "s-1", AT, deal_id="D-1", customer_id="C",
                 score=100)
    )  # fmt: skip
    _, steps = fold(plain, [deal(1, "100.00"), score])
    assert steps[1] == Step()


def test_without_a_payment_speed_rule_payments_release_at_par(
    reference_plan: Plan,
) -> None:
    plain = reference_plan.model_copy(update={"payment_speed": None})
    close = event(
        envelope("PeriodClosed", "pc", "2027-12-31T00:00:00+08:00", period="2027")
    )
    world, steps = fold(
        plain, [deal(1, "100000.00"), pay(1, 1, "100000.00", AT), close]
    )
    assert total(world, "payable") == D("3000.00")
    assert "no payment-speed rule" in lines_of(steps)[-1].formula
    assert steps[2] == Step()


def _plan_event(n: int, version: int, plan: Plan, **changes: Any) -> Any:
    document = plan.model_dump(mode="json", exclude={"plan_id", "version"})
    document.update(changes)
    return event(
        envelope("PlanPublished", f"pp-{n}", AT, plan_id=plan.plan_id, version=version,
                 plan=document, effective_from="2026-01-01T00:00:00+08:00")
    )  # fmt: skip


def test_publishing_plans_invalid_repeated_and_conflicting(
    reference_plan: Plan,
) -> None:
    world, steps = fold(
        reference_plan,
        [
            _plan_event(1, 2, reference_plan, revenue_bands=[]),
            _plan_event(2, 2, reference_plan),
            _plan_event(3, 2, reference_plan),
            _plan_event(4, 2, reference_plan, new_customer_uplift="0.02"),
        ],
    )
    assert steps[0].rejected[0].code == "invalid_plan"
    assert steps[1] == steps[2] == Step()
    assert steps[3].rejected[0].code == "conflict"
    assert [p.version for p in world.plans] == [1, 2]


def test_spiff_window_must_end_after_it_starts() -> None:
    raw = envelope("SpiffAnnounced", "s", AT, spiff_id="x", starts_at=AT, ends_at=AT,
                   multiplier="2")  # fmt: skip
    with pytest.raises(InvalidEvent, match="ends_at must be after starts_at"):
        event(raw)


def test_scores_sent_as_json_floats_are_refused() -> None:
    raw = envelope("SatisfactionRecorded", "s", AT, deal_id="D", customer_id="C",
                   score=96.5)  # fmt: skip
    with pytest.raises(InvalidEvent, match="not a JSON float"):
        event(raw)


def test_an_older_schema_version_is_upcast_step_by_step() -> None:
    def v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "amount": raw.pop("value"), "schema_version": 2}

    old = {**deal_event(), "schema_version": 1}
    old["value"] = old.pop("amount")
    upcast_raw = upcast(old, {"DealClosed": 2}, {("DealClosed", 1): v1_to_v2})
    assert upcast_raw["amount"] == "125000.00"
    with pytest.raises(
        InvalidEvent, match="no upcaster for DealClosed schema_version 1"
    ):
        upcast({**deal_event()}, {"DealClosed": 2}, {})


def test_is_new_tells_a_new_fact_from_a_repeat_and_another_sources_copy(
    reference_plan: Plan,
) -> None:
    window = {"spiff_id": "x2", "starts_at": AT, "ends_at": "2026-03-21T00:00:00+08:00",
              "multiplier": "2"}  # fmt: skip
    first = event(envelope("SpiffAnnounced", "mkt-1", AT, **window))
    copy = event({**envelope("SpiffAnnounced", "crm-1", AT, **window), "source": "crm"})
    world = start([reference_plan])
    assert is_new(world, first)
    world, _ = evolve(world, first)
    assert not is_new(world, first)  # its id
    assert not is_new(world, copy)  # the fact it states
    assert is_new(world, deal(1, "100.00"))  # a deal its handler judges
