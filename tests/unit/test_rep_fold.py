from decimal import Decimal

import orjson

from domain.events import DealClosed, decode_event
from domain.plan import Plan
from domain.rep import RepState, evolve
from tests.factories import deal_event


def _deal(n: int, amount: str, **overrides: object) -> DealClosed:
    fields = {
        "event_id": f"e-{n}",
        "deal_id": f"D-{n}",
        "amount": amount,
        "margin": "0.00",
    }
    fields.update(overrides)
    return decode_event(orjson.dumps(deal_event(**fields)))


def _fold(
    plan: Plan, deals: list[DealClosed], rep: str = "R-17"
) -> tuple[RepState, list]:
    state, lines = RepState(rep_id=rep), []
    for deal in deals:
        state, out = evolve(state, deal, plan)
        lines.extend(out)
    return state, lines


def test_three_deals_reaching_1_2_million_book_54000(reference_plan: Plan) -> None:
    deals = [_deal(1, "400000.00"), _deal(2, "300000.00"), _deal(3, "500000.00")]
    state, lines = _fold(reference_plan, deals)
    assert sum(line.amount for line in lines) == Decimal("54000.00")
    assert [line.amount for line in lines] == [
        Decimal("12000.00"),
        Decimal("3000.00"),
        Decimal("10000.00"),
        Decimal("15000.00"),
        Decimal("14000.00"),
    ]
    assert state.ytd_revenue(2026) == Decimal("1200000.00")


def test_every_line_explains_itself(reference_plan: Plan) -> None:
    _, lines = _fold(reference_plan, [_deal(1, "600000.00")])
    second = lines[1]
    assert second.rule == "revenue_band_commission"
    assert (second.plan_id, second.plan_version) == ("reference", 1)
    assert (
        second.formula == "100,000.00 of revenue in band 500,000.00–1,000,000.00 × 5%"
    )
    assert dict(second.inputs)["ytd_revenue_before"] == "0"
    assert second.source_event_ids == ("e-1",)
    assert [line.sequence for line in lines] == [1, 2]


def test_same_event_id_seen_again_changes_nothing(reference_plan: Plan) -> None:
    deal = _deal(1, "100000.00")
    state, _ = _fold(reference_plan, [deal])
    again, lines = evolve(state, deal, reference_plan)
    assert again is state
    assert lines == ()


def test_split_deal_credits_each_rep_their_share(reference_plan: Plan) -> None:
    splits = [{"rep_id": "R-1", "share": "0.6"}, {"rep_id": "R-2", "share": "0.4"}]
    deal = _deal(1, "100000.00", splits=splits)
    _, first = _fold(reference_plan, [deal], rep="R-1")
    _, second = _fold(reference_plan, [deal], rep="R-2")
    assert [line.amount for line in first] == [Decimal("1800.00")]
    assert [line.amount for line in second] == [Decimal("1200.00")]
    assert first[0].line_id != second[0].line_id


def test_plan_year_restarts_the_bands(reference_plan: Plan) -> None:
    deals = [
        _deal(1, "500000.00", occurred_at="2026-12-31T23:00:00+08:00",
              payment_due_at="2027-01-30T00:00:00+08:00"),
        _deal(2, "100000.00", occurred_at="2027-01-02T10:00:00+08:00",
              payment_due_at="2027-02-01T00:00:00+08:00"),
    ]  # fmt: skip
    state, lines = _fold(reference_plan, deals)
    assert lines[-1].amount == Decimal("3000.00")  # back in the 3% band
    assert state.ytd_revenue(2026) == Decimal("500000.00")
    assert state.ytd_revenue(2027) == Decimal("100000.00")


def test_plan_year_follows_the_deals_own_offset(reference_plan: Plan) -> None:
    # 2027-01-01 01:00 in +08:00 is still 2026 in UTC; the deal's own offset decides.
    deal = _deal(1, "1000.00", occurred_at="2027-01-01T01:00:00+08:00",
                 payment_due_at="2027-01-30T00:00:00+08:00")  # fmt: skip
    state, _ = _fold(reference_plan, [deal])
    assert state.ytd_revenue(2027) == Decimal("1000.00")


def test_line_amounts_are_rounded_half_even_to_cents(reference_plan: Plan) -> None:
    # 0.5 cent exactly: 1.50 × 3% = 0.045 → 0.04 (half-even), not 0.05.
    _, lines = _fold(reference_plan, [_deal(1, "1.50")])
    assert lines[0].amount == Decimal("0.04")
