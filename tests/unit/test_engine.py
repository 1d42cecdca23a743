"""SPEC.md's worked numbers through the whole fold (domain.engine)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from domain.engine import Step, World, evolve, rep_attainment, start
from domain.events import Event, decode_event
from domain.ledger import LedgerLine
from domain.plan import Plan
from tests.factories import deal_event, envelope, payment_event

D = Decimal
CLOSE = "2026-03-14T09:30:00+08:00"  # due 2026-04-13T00:00+08:00 in the factory


def event(raw: dict[str, Any]) -> Event:
    return decode_event(orjson.dumps(raw))


def deal(n: int, amount: str, rep: str = "R-17", **overrides: Any) -> Event:
    fields: dict[str, Any] = {
        "event_id": f"e-{n}",
        "deal_id": f"D-{n}",
        "rep_id": rep,
        "amount": amount,
        "margin": "0.00",
        "new_customer": False,
        "splits": [{"rep_id": rep, "share": "1"}],
    }
    fields.update(overrides)
    return event(deal_event(**fields))


def pay(n: int, deal_no: int, amount: str, at: str, **overrides: Any) -> Event:
    return event(payment_event(f"p-{n}", f"D-{deal_no}", amount, at, **overrides))


def fold(plan: Plan, events: list[Event]) -> tuple[World, list[Step]]:
    world, steps = start([plan]), []
    for item in events:
        world, step = evolve(world, item)
        steps.append(step)
    return world, steps


def lines_of(steps: list[Step]) -> list[LedgerLine]:
    return [line for step in steps for line in step.lines]


def total(world: World, kind: str, rep: str = "R-17") -> Decimal:
    return world.reps[rep].total(kind)  # type: ignore[arg-type]


def test_ytd_1_2_million_in_one_deal_earns_54000(reference_plan: Plan) -> None:
    world, steps = fold(reference_plan, [deal(1, "1200000.00")])
    assert [line.amount for line in lines_of(steps)] == [D(15000), D(25000), D(14000)]
    assert total(world, "earned") == D("54000.00")


def test_three_deals_reaching_1_2_million_book_54000(reference_plan: Plan) -> None:
    deals = [deal(1, "400000.00"), deal(2, "300000.00"), deal(3, "500000.00")]
    world, steps = fold(reference_plan, deals)
    assert [line.amount for line in lines_of(steps)] == [
        D(12000), D(3000), D(10000), D(15000), D(14000),
    ]  # fmt: skip
    assert total(world, "earned") == D("54000.00")


def test_new_customer_deal_in_the_3_percent_band_earns_4500(
    reference_plan: Plan,
) -> None:
    _, steps = fold(reference_plan, [deal(1, "100000.00", new_customer=True)])
    (line,) = lines_of(steps)
    assert line.amount == D("4500.00")
    assert "1.5% new customer" in line.formula


@pytest.mark.parametrize(
    ("paid_at", "multiplier"),
    [
        ("2026-04-12T09:30:00+08:00", D("1.10")),  # 29 days after closing
        # 30 days after closing but 9.5 hours after the due date: overdue, so no
        # premium (SPEC §8 rule 2), one started period late.
        ("2026-04-13T09:30:00+08:00", D("0.90")),
        ("2026-04-13T00:00:00+08:00", D("1.10")),  # on the due date, day 30
        ("2026-05-13T00:00:00+08:00", D("0.90")),  # 30 days late: one period
        ("2026-05-13T00:00:01+08:00", D("0.80")),  # just into the second period
        ("2026-06-20T10:00:00+08:00", D("0.70")),  # 68 days late
        ("2027-06-01T00:00:00+08:00", D("0.00")),  # floor at zero
    ],
)
def test_payment_speed_multiplies_the_released_commission(
    reference_plan: Plan, paid_at: str, multiplier: Decimal
) -> None:
    due = "2026-05-01T00:00:00+08:00" if multiplier == D("1.00") else None
    overrides = {"payment_due_at": due} if due else {}
    world, _ = fold(
        reference_plan,
        [deal(1, "100000.00", **overrides), pay(1, 1, "100000.00", paid_at)],
    )
    assert total(world, "payable") == (D(3000) * multiplier).quantize(D("0.01"))


def test_payment_after_30_days_but_by_the_due_date_releases_at_par(
    reference_plan: Plan,
) -> None:
    world, steps = fold(
        reference_plan,
        [
            deal(1, "100000.00", payment_due_at="2026-06-30T00:00:00+08:00"),
            pay(1, 1, "100000.00", "2026-05-20T00:00:00+08:00"),
        ],
    )
    assert total(world, "payable") == D("3000.00")
    assert "paid by the due date" in lines_of(steps)[-1].formula


def test_an_overdue_payment_within_30_days_of_closing_never_earns_the_premium(
    reference_plan: Plan,
) -> None:
    world, steps = fold(
        reference_plan,
        [
            deal(1, "100000.00", payment_due_at="2026-03-20T00:00:00+08:00"),
            pay(1, 1, "100000.00", "2026-03-25T00:00:00+08:00"),  # 11 days, 5 late
        ],
    )
    assert total(world, "payable") == D("2700.00")
    assert "paid 5 days late" in lines_of(steps)[-1].formula


def test_partial_payments_release_pro_rata_and_overpayment_releases_nothing_more(
    reference_plan: Plan,
) -> None:
    on_time = "2026-04-01T00:00:00+08:00"
    world, steps = fold(
        reference_plan,
        [
            deal(1, "100000.00"),
            pay(1, 1, "25000.00", on_time),
            pay(2, 1, "50000.00", on_time),
            pay(3, 1, "50000.00", on_time),  # only 25,000 of it still counts
            pay(4, 1, "10000.00", on_time),  # beyond the amount: nothing
        ],
    )
    releases = [line.amount for line in lines_of(steps) if line.kind == "payable"]
    assert releases == [D("825.00"), D("1650.00"), D("825.00")]
    assert total(world, "payable") == D("3300.00")
    assert "capped at the deal" in lines_of(steps)[-1].formula


def test_satisfaction_of_96_on_a_200000_deal_adds_4000(reference_plan: Plan) -> None:
    def score(n: int, value: str) -> Event:
        return event(
            envelope("SatisfactionRecorded", f"s-{n}", "2026-04-20T10:00:00+08:00",
                     deal_id="D-1", customer_id="C-88", score=value)
        )  # fmt: skip

    world, steps = fold(
        reference_plan,
        [score(0, "94"), deal(1, "200000.00"), score(1, "96"), score(2, "99")],
    )
    bonuses = [line for line in lines_of(steps) if line.kind == "bonus"]
    assert [line.amount for line in bonuses] == [D("4000.00")]
    assert bonuses[0].source_event_ids == ("s-1",)
    assert total(world, "bonus") == D("4000.00")


def _quarter_deals(amounts: tuple[str, str, str]) -> list[Event]:
    dates = ("2026-02-10", "2026-05-10", "2026-08-10")
    return [
        deal(q, amount, occurred_at=f"{day}T10:00:00+08:00",
             payment_due_at=f"{day}T11:00:00+08:00")
        for q, (amount, day) in enumerate(zip(amounts, dates, strict=True), start=1)
    ]  # fmt: skip


def _q4_deal() -> Event:
    return deal(9, "100000.00", occurred_at="2026-10-05T10:00:00+08:00",
                payment_due_at="2026-11-05T10:00:00+08:00")  # fmt: skip


def test_three_quarters_above_250000_lift_every_q4_rate_one_point(
    reference_plan: Plan,
) -> None:
    # YTD before the Q4 deal: 900,300 -> the deal's 100,000 splits at 1,000,000:
    # 99,700 at 5% + 1 = 6% = 5,982 and 300 at 7% + 1 = 8% = 24.
    events = [*_quarter_deals(("300100.00", "300100.00", "300100.00")), _q4_deal()]
    _, steps = fold(reference_plan, events)
    q4 = [line for line in lines_of(steps) if line.source_event_ids == ("e-9",)]
    assert [line.amount for line in q4] == [D("5982.00"), D("24.00")]
    assert all("1% Q4 sprint" in line.formula for line in q4)


def test_a_quarter_exactly_at_250000_does_not_hold_the_sprint(
    reference_plan: Plan,
) -> None:
    events = [*_quarter_deals(("300000.00", "250000.00", "300000.00")), _q4_deal()]
    _, steps = fold(reference_plan, events)
    q4 = [line for line in lines_of(steps) if line.source_event_ids == ("e-9",)]
    assert [line.amount for line in q4] == [D("5000.00")]


def _spiff(**fields: Any) -> Event:
    return event(
        envelope("SpiffAnnounced", "spiff-1", "2026-03-13T09:00:00+08:00",
                 spiff_id="double-cloud", starts_at="2026-03-13T09:00:00+08:00",
                 ends_at="2026-03-15T09:00:00+08:00", multiplier="2", **fields)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, D("6000.00")),
        ({"product_lines": ["cloud"], "regions": ["east"]}, D("6000.00")),
        ({"regions": ["west"]}, D("3000.00")),
        ({"product_lines": ["hardware"]}, D("3000.00")),
    ],
)
def test_spiff_doubles_commission_on_matching_deals_inside_its_window(
    reference_plan: Plan, filters: dict[str, Any], expected: Decimal
) -> None:
    world, steps = fold(reference_plan, [_spiff(**filters), deal(1, "100000.00")])
    assert total(world, "earned") == expected
    if expected == D("6000.00"):
        (earned,) = (line for line in lines_of(steps) if line.kind == "earned")
        assert earned.formula.endswith("× 3% × 2 (SPIFF double-cloud)")


def test_deal_closed_after_the_spiff_window_is_not_multiplied(
    reference_plan: Plan,
) -> None:
    late = deal(1, "100000.00", occurred_at="2026-03-15T09:00:00+08:00")
    world, _ = fold(reference_plan, [_spiff(), late])
    assert total(world, "earned") == D("3000.00")


def _cancel(deal_no: int, n: int = 1) -> Event:
    return event(
        envelope("DealCancelled", f"c-{n}", "2026-05-01T00:00:00+08:00",
                 deal_id=f"D-{deal_no}", reason="customer withdrew")
    )  # fmt: skip


def test_cancellation_reverses_earned_payable_and_bonus_as_new_lines(
    reference_plan: Plan,
) -> None:
    score = event(
        envelope("SatisfactionRecorded", "s-1", "2026-04-20T10:00:00+08:00",
                 deal_id="D-1", customer_id="C-88", score="97")
    )  # fmt: skip
    events = [
        deal(1, "200000.00"),
        pay(1, 1, "100000.00", "2026-03-20T00:00:00+08:00"),
        score,
        _cancel(1),
    ]
    world, steps = fold(reference_plan, events)
    before = lines_of(steps[:3])
    reversals = steps[3].lines
    assert sorted(line.amount for line in reversals) == sorted(
        -line.amount for line in before
    )
    assert all(line.rule == "clawback" for line in reversals)
    assert all("customer withdrew" in line.formula for line in reversals)
    for kind in ("earned", "payable", "bonus"):
        assert total(world, kind) == 0
    assert world.reps["R-17"].ytd_revenue(2026) == 0


def test_payment_for_a_cancelled_deal_is_rejected_with_the_reason(
    reference_plan: Plan,
) -> None:
    _, steps = fold(
        reference_plan, [deal(1, "1000.00"), _cancel(1), pay(1, 1, "1.00", CLOSE)]
    )
    assert steps[-1].rejected[0].code == "deal_cancelled"
    assert "cancelled deal D-1" in steps[-1].rejected[0].reason


def test_amendment_books_only_the_difference(reference_plan: Plan) -> None:
    amend = event(
        envelope("DealAmended", "a-1", "2026-04-01T00:00:00+08:00", deal_id="D-1",
                 amount="600000.00", margin="0.00", currency="CNY",
                 splits=[{"rep_id": "R-17", "share": "1"}])
    )  # fmt: skip
    world, steps = fold(reference_plan, [deal(1, "400000.00"), amend])
    assert [(line.amount, line.rule) for line in steps[1].lines] == [
        (D("3000.00"), "revenue_band_commission"),  # 100,000 more at 3%
        (D("5000.00"), "revenue_band_commission"),  # 100,000 at 5%
    ]
    assert "was 12,000.00" in steps[1].lines[0].formula
    assert total(world, "earned") == D("20000.00")


def test_a_deal_arriving_late_takes_its_place_by_close_time_and_reslices_later_ones(
    reference_plan: Plan,
) -> None:
    march = deal(2, "400000.00", occurred_at="2026-03-20T09:30:00+08:00")
    february = deal(1, "300000.00", occurred_at="2026-02-20T09:30:00+08:00")
    world, steps = fold(reference_plan, [march, february])
    # February's deal closed first: 300,000 at 3% = 9,000; March's now starts at
    # 300,000: 200,000 at 3% + 200,000 at 5% = 16,000 instead of the 12,000 booked.
    late = [(line.deal_id, line.amount) for line in steps[1].lines]
    assert late == [
        ("D-1", D("9000.00")),
        ("D-2", D("-6000.00")),
        ("D-2", D("10000.00")),
    ]
    assert all("re-sliced" in line.formula for line in steps[1].lines[1:])
    assert total(world, "earned") == D("25000.00")
    in_order, _ = fold(reference_plan, [february, march])
    assert total(in_order, "earned") == total(world, "earned")


def test_a_cancelled_later_deal_stays_reversed_when_an_earlier_one_arrives(
    reference_plan: Plan,
) -> None:
    cancel = event(envelope("DealCancelled", "c-3", CLOSE, deal_id="D-3"))
    events = [
        deal(2, "400000.00", occurred_at="2026-03-20T09:30:00+08:00"),
        deal(3, "100000.00", occurred_at="2026-03-25T09:30:00+08:00"),
        cancel,
        deal(1, "300000.00", occurred_at="2026-02-20T09:30:00+08:00"),
    ]
    world, steps = fold(reference_plan, events)
    assert {line.deal_id for line in steps[3].lines} == {"D-1", "D-2"}
    assert total(world, "earned") == D("25000.00")  # D-1 9,000 + D-2 16,000


def test_payment_before_its_deal_waits_and_applies_when_the_deal_arrives(
    reference_plan: Plan,
) -> None:
    world, steps = fold(
        reference_plan,
        [pay(1, 1, "50000.00", "2026-03-20T00:00:00+08:00"), deal(1, "100000.00")],
    )
    assert steps[0] == Step()
    assert [line.kind for line in steps[1].lines] == ["earned", "payable"]
    assert total(world, "payable") == D("1650.00")
    assert not world.waiting


def test_the_same_event_id_again_changes_nothing(reference_plan: Plan) -> None:
    once, _ = fold(reference_plan, [deal(1, "100000.00")])
    twice, steps = fold(reference_plan, [deal(1, "100000.00"), deal(1, "100000.00")])
    assert steps[1] == Step()
    assert twice == once


def test_the_same_event_id_with_other_content_is_a_conflict(
    reference_plan: Plan,
) -> None:
    world, steps = fold(reference_plan, [deal(1, "100000.00"), deal(1, "100001.00")])
    assert steps[1].rejected[0].code == "conflict"
    assert total(world, "earned") == D("3000.00")


def test_the_same_deal_from_a_second_source_counts_once(reference_plan: Plan) -> None:
    again = deal(1, "100000.00", event_id="erp-copy", source="erp")
    other = deal(1, "90000.00", event_id="crm-other")
    world, steps = fold(reference_plan, [deal(1, "100000.00"), again, other])
    assert steps[1] == Step()
    assert steps[2].rejected[0].code == "conflict"
    assert "DealAmended" in steps[2].rejected[0].reason
    assert total(world, "earned") == D("3000.00")


def test_split_deal_credits_each_rep_their_share(reference_plan: Plan) -> None:
    splits = [{"rep_id": "R-1", "share": "0.6"}, {"rep_id": "R-2", "share": "0.4"}]
    world, _ = fold(reference_plan, [deal(1, "100000.00", rep="R-1", splits=splits)])
    assert total(world, "earned", "R-1") == D("1800.00")
    assert total(world, "earned", "R-2") == D("1200.00")


def test_unpaid_180_days_after_due_forfeits_the_unreleased_remainder(
    reference_plan: Plan,
) -> None:
    def close(n: int, at: str) -> Event:
        return event(envelope("PeriodClosed", f"pc-{n}", at, period="2026"))

    events = [
        deal(1, "100000.00"),
        pay(1, 1, "40000.00", "2026-04-01T00:00:00+08:00"),
        close(1, "2026-10-09T00:00:00+08:00"),  # 179 days after due: not yet
        close(2, "2026-10-10T00:00:00+08:00"),  # 180 days: forfeited
        pay(2, 1, "60000.00", "2026-10-11T00:00:00+08:00"),
    ]
    world, steps = fold(reference_plan, events)
    assert steps[2] == Step()
    (forfeit,) = steps[3].lines
    assert (forfeit.rule, forfeit.amount) == ("commission_forfeited", D("-1800.00"))
    assert "forfeited" in forfeit.formula
    assert steps[4].rejected[0].code == "forfeited"
    assert total(world, "earned") == D("1200.00")
    assert total(world, "payable") == D("1320.00")


def _forfeiting_close() -> Event:
    return event(envelope("PeriodClosed", "pc-1", "2026-10-10T00:00:00+08:00",
                          period="2026"))  # fmt: skip


def test_a_payment_dated_before_the_forfeiting_close_counts_when_it_comes_late(
    reference_plan: Plan,
) -> None:
    """SPEC §9: judged as of the close, as if the payment had come before it."""
    paid_early = pay(1, 1, "40000.00", "2026-04-01T00:00:00+08:00")
    in_order, _ = fold(
        reference_plan, [deal(1, "100000.00"), paid_early, _forfeiting_close()]
    )
    world, steps = fold(
        reference_plan, [deal(1, "100000.00"), _forfeiting_close(), paid_early]
    )
    assert steps[2].rejected == ()
    for kind in ("earned", "payable"):
        assert total(world, kind) == total(in_order, kind)
    assert total(world, "earned") == D("1200.00")
    # Paid in full as of the close: nothing is forfeited.
    rest = pay(2, 1, "60000.00", "2026-10-01T00:00:00+08:00")
    world, steps = fold(
        reference_plan,
        [deal(1, "100000.00"), _forfeiting_close(), paid_early, rest],
    )
    assert total(world, "earned") == D("3000.00")
    assert world.deals["D-1"].forfeited_by is None


def test_a_deal_that_comes_after_the_close_that_forfeits_it_is_forfeited(
    reference_plan: Plan,
) -> None:
    late = [_forfeiting_close(), deal(1, "100000.00")]
    world, steps = fold(reference_plan, late)
    forfeit = next(line for line in steps[1].lines
                   if line.rule == "commission_forfeited")  # fmt: skip
    assert forfeit.amount == D("-3000.00")
    assert "as of pc-1" in forfeit.formula
    # A payment dated after that close stays refused; one dated before it counts.
    _, steps = fold(
        reference_plan,
        [*late, pay(2, 1, "60000.00", "2026-10-11T00:00:00+08:00"),
         pay(1, 1, "40000.00", "2026-04-01T00:00:00+08:00")],
    )  # fmt: skip
    assert steps[2].rejected[0].code == "forfeited"
    assert steps[3].rejected == ()
    # No close late enough: nothing forfeited.
    early = event(envelope("PeriodClosed", "pc-0", "2026-05-01T00:00:00+08:00",
                           period="2026-04"))  # fmt: skip
    world, _ = fold(reference_plan, [early, deal(1, "100000.00")])
    assert world.deals["D-1"].forfeited_by is None


def test_an_amendment_dated_before_a_forfeiting_close_is_judged_as_of_it(
    reference_plan: Plan,
) -> None:
    """Found by the every-kind order property: paid in full, then amended upwards
    before the close (dated), but sent after it: forfeited as of that close, as
    when it came first. One dated after the close waits for the next close."""
    paid = pay(1, 1, "100000.00", "2026-04-01T00:00:00+08:00")

    def amended(at: str) -> Event:
        return event(envelope("DealAmended", "am-1", at, deal_id="D-1",
                              amount="150000.00", margin="0", currency="CNY",
                              splits=[{"rep_id": "R-17", "share": "1"}]))  # fmt: skip

    before = amended("2026-10-01T00:00:00+08:00")
    first, _ = fold(reference_plan, [deal(1, "100000.00"), paid, before,
                                     _forfeiting_close()])  # fmt: skip
    late, _ = fold(reference_plan, [deal(1, "100000.00"), paid, _forfeiting_close(),
                                    before])  # fmt: skip
    assert total(late, "earned") == total(first, "earned") == D("3000.00")
    after = amended("2026-11-01T00:00:00+08:00")
    world, _ = fold(reference_plan, [deal(1, "100000.00"), paid, _forfeiting_close(),
                                     after])  # fmt: skip
    assert world.deals["D-1"].forfeited_by is None
    assert total(world, "earned") == D("4500.00")


def test_a_plan_published_later_prices_deals_from_its_effective_date(
    reference_plan: Plan,
) -> None:
    document = reference_plan.model_dump(mode="json", exclude={"plan_id", "version"})
    document["revenue_bands"][0]["rate"] = "0.04"
    published = event(
        envelope("PlanPublished", "plan-2", "2026-03-31T00:00:00+08:00",
                 plan_id="reference", version=2, plan=document,
                 effective_from="2026-04-01T00:00:00+08:00")
    )  # fmt: skip
    q2 = deal(2, "100000.00", occurred_at="2026-04-02T00:00:00+08:00",
              payment_due_at="2026-05-02T00:00:00+08:00")  # fmt: skip
    _, steps = fold(reference_plan, [deal(1, "100000.00"), published, q2])
    first, second = steps[0].lines[0], steps[2].lines[0]
    assert (first.plan_version, first.amount) == (1, D("3000.00"))
    assert (second.plan_version, second.amount) == (2, D("4000.00"))


def test_deal_in_a_currency_other_than_the_plans_is_rejected(
    reference_plan: Plan,
) -> None:
    _, steps = fold(reference_plan, [deal(1, "100.00", currency="USD")])
    assert steps[0].rejected[0].code == "currency"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (payment_event("p", "D-1", "5.00", CLOSE, currency="USD"), "currency"),
        (envelope("DealAmended", "a", CLOSE, deal_id="D-9", amount="1.00",
                  margin="0", currency="CNY", splits=[{"rep_id": "R", "share": "1"}]),
         "unknown_deal"),
        (envelope("DealCancelled", "c", CLOSE, deal_id="D-9"), "unknown_deal"),
    ],
)  # fmt: skip
def test_events_referring_to_what_cannot_be_are_rejected(
    reference_plan: Plan, raw: dict[str, Any], code: str
) -> None:
    _, steps = fold(reference_plan, [deal(1, "1000.00"), event(raw)])
    assert steps[-1].rejected[0].code == code


def test_line_amounts_are_rounded_half_even_to_cents(reference_plan: Plan) -> None:
    # 1.50 at 3% = 0.045 -> 0.04 (half-even), not 0.05.
    world, _ = fold(reference_plan, [deal(1, "1.50")])
    assert total(world, "earned") == D("0.04")


def _quota(
    n: int, node: str, level: str, parent: str | None, amount: str, **more: Any
) -> Event:
    kind = "QuotaAdjusted" if "reason" in more else "QuotaAssigned"
    return event(
        envelope(kind, f"q-{n}", "2026-01-02T00:00:00+08:00", node_id=node,
                 level=level, parent_id=parent, period="2026-Q1", amount=amount,
                 currency="CNY", **more)
    )  # fmt: skip


def test_a_child_target_arriving_before_its_parent_waits_for_it(
    reference_plan: Plan,
) -> None:
    world, steps = fold(
        reference_plan,
        [
            _quota(1, "R-17", "rep", "T-1", "200000.00"),
            _quota(2, "T-1", "team", None, "1000000.00"),  # a team with no parent
        ],
    )
    assert steps[1].rejected[0].code == "target"
    world, steps = fold(
        reference_plan,
        [
            _quota(1, "R-17", "rep", "T-1", "200000.00"),
            _quota(3, "CO", "company", None, "1000000.00"),
            _quota(4, "PL", "product_line", "CO", "1000000.00"),
            _quota(5, "EAST", "region", "PL", "1000000.00"),
            _quota(6, "T-1", "team", "EAST", "1000000.00"),
        ],
    )
    assert all(not step.rejected for step in steps)
    assert world.targets.get("R-17", "2026-Q1") is not None
    assert not world.orphans


def test_quarter_target_moved_more_than_20_percent_is_rejected(
    reference_plan: Plan,
) -> None:
    base = [_quota(1, "CO", "company", None, "1000000.00")]
    ok = _quota(
        2, "CO", "company", None, "1200000.00", reason="expansion", approved_by="cfo"
    )
    too_far = _quota(
        3, "CO", "company", None, "1500000.00", reason="x", approved_by="cfo"
    )
    world, steps = fold(reference_plan, [*base, ok, too_far])
    assert not steps[1].rejected
    assert steps[2].rejected[0].code == "adjustment_limit"
    assert "exceeds" in steps[2].rejected[0].reason
    assert world.targets.get("CO", "2026-Q1").amount == D("1200000.00")  # type: ignore[union-attr]
    assert [change.approved_by for change in world.targets.history][-1] == "cfo"


def test_rep_attainment_is_credited_revenue_over_target(reference_plan: Plan) -> None:
    tree = [
        _quota(1, "CO", "company", None, "400000.00"),
        _quota(2, "PL", "product_line", "CO", "400000.00"),
        _quota(3, "EAST", "region", "PL", "400000.00"),
        _quota(4, "T-1", "team", "EAST", "400000.00"),
        _quota(5, "R-17", "rep", "T-1", "400000.00"),
    ]
    world, _ = fold(reference_plan, [*tree, deal(1, "300000.00")])
    assert rep_attainment(world, "R-17", "2026-Q1") == D("0.75")
    assert rep_attainment(world, "R-17", "2026-Q2") is None
    assert world.reps["R-17"].revenue_in("2026-03") == D("300000.00")
