"""Properties of the fold that must hold for any stream of events (Hypothesis)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.engine import World, evolve, start
from domain.events import DealClosed, Event, decode_event
from domain.ledger import LedgerLine
from domain.plan import Plan
from domain.rep import periods_of
from streams.infra.runtime import load_plan
from tests.factories import deal_event, envelope, payment_event

REPS = ("R-1", "R-2", "R-3")
KINDS = ("earned", "payable", "bonus", "points")


@pytest.fixture(scope="module", params=["reference", "full"])
def any_plan(
    request: pytest.FixtureRequest, reference_plan: Plan, full_plan: Plan
) -> Plan:
    """The reference plan, and the plan with points, instant rewards and budget."""
    return reference_plan if request.param == "reference" else full_plan


@st.composite
def deals(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    """A deal (as raw dict) plus a few payments and maybe a score for it."""
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    at = f"2026-{month:02d}-{day:02d}T10:00:00+08:00"
    due = f"2026-{month:02d}-{day:02d}T12:00:00+08:00"
    amount = Decimal(draw(st.integers(100, 90_000_000))) / 100
    owner = draw(st.sampled_from(REPS))
    splits = [{"rep_id": owner, "share": "1"}]
    if draw(st.booleans()):
        other = draw(st.sampled_from([r for r in REPS if r != owner]))
        splits = [{"rep_id": owner, "share": "0.7"}, {"rep_id": other, "share": "0.3"}]
    events = [
        deal_event(
            event_id=f"e-{n}", deal_id=f"D-{n}", rep_id=owner, amount=str(amount),
            margin="0.00", new_customer=draw(st.booleans()), occurred_at=at,
            payment_due_at=due, splits=splits,
        )
    ]  # fmt: skip
    for k in range(draw(st.integers(0, 2))):
        part = (amount * Decimal(draw(st.integers(1, 70))) / 100).quantize(
            Decimal("0.01")
        )
        paid_day = draw(st.integers(1, 200))
        when = "2027-01-01T00:00:00+08:00" if paid_day > 150 else at
        if part > 0:
            events.append(payment_event(f"p-{n}-{k}", f"D-{n}", str(part), when))
    if draw(st.booleans()):
        score = str(draw(st.integers(80, 100)))
        events.append(
            envelope("SatisfactionRecorded", f"s-{n}", at, deal_id=f"D-{n}",
                     customer_id="C-1", score=score)
        )  # fmt: skip
    return events


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    count = draw(st.integers(1, 6))
    raw = [event for n in range(count) for event in draw(deals(n))]
    return [decode_event(orjson.dumps(item)) for item in raw]


def fold(
    plan: Plan, events: list[Event], world: World | None = None
) -> tuple[World, list[LedgerLine]]:
    world = world or start([plan])
    lines: list[LedgerLine] = []
    for item in events:
        world, step = evolve(world, item)
        lines.extend(step.lines)
    return world, lines


def totals(world: World) -> dict[str, dict[str, Decimal]]:
    return {
        rep_id: {kind: rep.total(kind) for kind in KINDS}  # type: ignore[misc]
        for rep_id, rep in world.reps.items()
    }


def _revenue_of(world: World, rep_id: str) -> dict[str, Decimal]:
    rep = world.reps.get(rep_id)
    return dict(rep.revenue) if rep is not None else {}


def zeroed(figures: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
    return {rep: kinds for rep, kinds in figures.items() if any(kinds.values())}


@settings(max_examples=60, deadline=None)
@given(events=streams(), cut=st.integers(0, 40))
def test_folding_in_two_chunks_equals_folding_at_once(
    any_plan: Plan, events: list[Event], cut: int
) -> None:
    whole, whole_lines = fold(any_plan, events)
    first, first_lines = fold(any_plan, events[:cut])
    second, second_lines = fold(any_plan, events[cut:], first)
    assert second == whole
    assert first_lines + second_lines == whole_lines


@settings(max_examples=60, deadline=None)
@given(events=streams(), data=st.data())
def test_duplicated_events_change_nothing(
    any_plan: Plan, events: list[Event], data: st.DataObject
) -> None:
    with_repeats = list(events)
    for _ in range(data.draw(st.integers(1, 5))):
        position = data.draw(st.integers(0, len(with_repeats)))
        earlier = with_repeats[: position or 1]
        with_repeats.insert(position, data.draw(st.sampled_from(earlier)))
    clean, clean_lines = fold(any_plan, events)
    noisy, noisy_lines = fold(any_plan, with_repeats)
    assert totals(noisy) == totals(clean)
    assert sorted(line.line_id for line in noisy_lines) == sorted(
        line.line_id for line in clean_lines
    )


@settings(max_examples=60, deadline=None)
@given(before=streams(), extra=deals(99))
def test_cancelling_a_deal_restores_the_pre_deal_totals(
    any_plan: Plan, before: list[Event], extra: list[dict[str, Any]]
) -> None:
    cancel = envelope(
        "DealCancelled", "c-99", "2027-02-01T00:00:00+08:00", deal_id="D-99"
    )
    added = [decode_event(orjson.dumps(item)) for item in [*extra, cancel]]
    base, _ = fold(any_plan, before)
    after, _ = fold(any_plan, added, base)
    assert zeroed(totals(after)) == zeroed(totals(base))
    for rep_id, rep in after.reps.items():
        periods = {*rep.revenue, *_revenue_of(base, rep_id)}
        assert all(
            rep.revenue_in(p) == _revenue_of(base, rep_id).get(p, 0) for p in periods
        )


@settings(max_examples=60, deadline=None)
@given(
    before=streams(),
    extra=deals(99),
    new_amount=st.integers(100, 90_000_000),
)
def test_amending_a_deal_equals_closing_it_fresh_when_nothing_else_followed(
    reference_plan: Plan,
    before: list[Event],
    extra: list[dict[str, Any]],
    new_amount: int,
) -> None:
    closed = extra[0]
    amount = str(Decimal(new_amount) / 100)
    amend = envelope(
        "DealAmended", "a-99", "2026-12-31T00:00:00+08:00", deal_id="D-99",
        amount=amount, margin="0.00", currency="CNY", splits=closed["splits"],
    )  # fmt: skip
    base, _ = fold(reference_plan, before)
    amended, _ = fold(
        reference_plan,
        [decode_event(orjson.dumps(closed)), decode_event(orjson.dumps(amend))],
        base,
    )
    fresh, _ = fold(
        reference_plan, [decode_event(orjson.dumps({**closed, "amount": amount}))], base
    )
    assert totals(amended) == totals(fresh)


@settings(max_examples=60, deadline=None)
@given(events=streams())
def test_totals_are_the_sums_of_the_ledger_lines(
    any_plan: Plan, events: list[Event]
) -> None:
    world, lines = fold(any_plan, events)
    summed: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(KINDS, Decimal(0))
    )
    for line in lines:
        summed[line.rep_id][line.kind] += line.amount
    assert zeroed(totals(world)) == zeroed(dict(summed))
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in lines)


def _delivered(
    draw: st.DrawFn, queues: list[list[dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The queues one after the other, and as a broker may deliver them: each
    queue's own events in order, the queues interleaved freely."""
    in_order = [e for queue in queues for e in queue]
    shuffled, left = [], [list(queue) for queue in queues]
    while left:
        queue = draw(st.sampled_from(left))
        shuffled.append(queue.pop(0))
        left = [q for q in left if q]
    return in_order, shuffled


@st.composite
def interleavings(draw: st.DrawFn) -> tuple[list[Event], list[Event]]:
    """A stream, and the same events as a broker may deliver them: each deal's own
    events (deals, payments, scores: one topic each, keyed by deal) keep their
    order, while topics and deals interleave freely."""
    count = draw(st.integers(1, 6))
    queues: list[list[dict[str, Any]]] = []
    for n in range(count):
        events = draw(deals(n))
        for topic in ("DealClosed", "PaymentReceived", "SatisfactionRecorded"):
            queue = [e for e in events if e["event_type"] == topic]
            if queue:
                queues.append(queue)
    in_order, shuffled = _delivered(draw, queues)
    decode = [decode_event(orjson.dumps(item)) for item in in_order]
    return decode, [decode_event(orjson.dumps(item)) for item in shuffled]


@settings(max_examples=80, deadline=None)
@given(orders=interleavings())
def test_the_order_a_broker_delivers_events_in_does_not_change_the_totals(
    any_plan: Plan, orders: tuple[list[Event], list[Event]]
) -> None:
    in_order, delivered = orders
    first, _ = fold(any_plan, in_order)
    second, _ = fold(any_plan, delivered)
    assert zeroed(totals(second)) == zeroed(totals(first))


def _company() -> list[Event]:
    """Every rep hired into one team, and a target for each of them, their team and
    the tree above it for every month, quarter and the year of 2026."""
    hired = "2025-01-01T00:00:00+08:00"
    raw = [
        envelope("RepHired", f"h-{rep}", hired, rep_id=rep, team_id="T1",
                 region="east", role="account_manager", grade="P5", hired_at=hired)
        for rep in REPS
    ]  # fmt: skip
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    quarters = [f"2026-Q{q}" for q in range(1, 5)]
    for period, scale in [("2026", 12), *((q, 3) for q in quarters),
                          *((m, 1) for m in months)]:  # fmt: skip
        chain = [("ACME", "company", None), ("cloud", "product_line", "ACME"),
                 ("east", "region", "cloud"), ("T1", "team", "east")]  # fmt: skip
        for node, level, parent in chain:
            raw.append(envelope("QuotaAssigned", f"q-{node}-{period}", hired,
                                node_id=node, level=level, parent_id=parent,
                                period=period, amount=str(3_000_000 * scale),
                                currency="CNY"))  # fmt: skip
        for rep in REPS:
            raw.append(envelope("QuotaAssigned", f"q-{rep}-{period}", hired,
                                node_id=rep, level="rep", parent_id="T1",
                                period=period, amount=str(1_000_000 * scale),
                                currency="CNY"))  # fmt: skip
    return [decode_event(orjson.dumps(item)) for item in raw]


COMPANY = _company()


@st.composite
def closes_anywhere(draw: st.DrawFn) -> tuple[list[Event], list[Event]]:
    """Deals with their payments and scores, and the close of every month, quarter
    and the year they fall in: in order (each close after everything), and as a
    broker may deliver them (each key's own events in order, closes anywhere)."""
    in_order, delivered = draw(interleavings())
    periods = sorted({p for e in in_order if isinstance(e, DealClosed)
                      for p in periods_of(e.occurred_at)})  # fmt: skip
    closes = [
        decode_event(orjson.dumps(envelope(
            "PeriodClosed", f"pc-{period}", "2027-01-01T00:00:00+08:00",
            period=period)))
        for period in periods
    ]  # fmt: skip
    shuffled = list(delivered)
    for close in closes:
        shuffled.insert(draw(st.integers(0, len(shuffled))), close)
    return [*COMPANY, *in_order, *closes], [*COMPANY, *shuffled]


@settings(max_examples=60, deadline=None)
@given(orders=closes_anywhere())
def test_where_the_period_closes_fall_does_not_change_the_totals(
    full_plan: Plan, orders: tuple[list[Event], list[Event]]
) -> None:
    """SPEC §9 under full.yaml: attainment commission, profit share, attainment
    points and the period awards are trued up by whatever arrives after a close;
    a deal or a payment that comes after the close that forfeits (or would have
    forfeited) the deal's commission is judged as of that close."""
    in_order, delivered = orders
    first, _ = fold(full_plan, in_order)
    second, _ = fold(full_plan, delivered)
    assert zeroed(totals(second)) == zeroed(totals(first))


def _raised() -> dict[str, Any]:
    """full.yaml with its first revenue band at 4%: a second plan version."""
    plan = load_plan(Path(__file__).parents[2] / "examples/plans/full.yaml")
    document = plan.model_dump(mode="json", exclude={"plan_id", "version"})
    document["revenue_bands"][0]["rate"] = "0.04"
    return document


RAISED = _raised()


@st.composite
def every_kind(draw: st.DrawFn) -> tuple[list[Event], list[Event]]:
    """Deals that may be amended or cancelled, with their payments and scores; a
    SPIFF window, a rep's move to another team, activities, a collaboration and an
    adopted proposal; and the closes of every period the deals fall in. In order
    (each close after everything), and as a broker may deliver them (each key's own
    events in order, everything else anywhere)."""
    queues: list[list[dict[str, Any]]] = []
    periods: set[str] = set()
    for n in range(draw(st.integers(1, 5))):
        events = draw(deals(n))
        close, *rest = events
        periods.update(periods_of(decode_event(orjson.dumps(close)).occurred_at))
        chain = [close]
        if draw(st.booleans()):
            amount = Decimal(draw(st.integers(100, 90_000_000))) / 100
            chain.append(envelope(
                "DealAmended", f"am-{n}", "2026-12-20T10:00:00+08:00",
                deal_id=f"D-{n}", amount=str(amount), margin="0",
                currency="CNY", splits=close["splits"]))  # fmt: skip
        if draw(st.booleans()):
            chain.append(envelope("DealCancelled", f"x-{n}",
                                  "2026-12-21T10:00:00+08:00", deal_id=f"D-{n}",
                                  reason="lost"))  # fmt: skip
        queues.append(chain)
        for kind in ("PaymentReceived", "SatisfactionRecorded"):
            queue = [e for e in rest if e["event_type"] == kind]
            if queue:
                queues.append(queue)
    month = draw(st.integers(1, 12))
    start = f"2026-{month:02d}-01T00:00:00+08:00"
    others = [
        envelope("SpiffAnnounced", "spiff-1", start, spiff_id="double",
                 starts_at=start, ends_at=f"2026-{month:02d}-20T00:00:00+08:00",
                 multiplier="2"),
        envelope("RepMoved", "m-R-3", start, rep_id="R-3", team_id="T2",
                 region="west", role="account_manager", grade="P5",
                 hired_at="2025-01-01T00:00:00+08:00"),
        envelope("ActivityLogged", "act-1", start, activity_id="A-1", rep_id="R-1",
                 kind="decision_maker_visit"),
        envelope("CollaborationConfirmed", "cc-1", start, collaboration_id="X-1",
                 helper_rep_id="R-2", beneficiary_rep_id="R-1"),
        envelope("ProposalAdopted", "pa-1", start, proposal_id="P-1", rep_id="R-2",
                 period=f"2026-Q{(month - 1) // 3 + 1}", measured_uplift="200000",
                 approved_by="CFO"),
        envelope("NominationMade", "n-1", start, nomination_id="N-1",
                 nominee_id="R-3", nominated_by="R-1", pool="xf",
                 period=f"2026-Q{(month - 1) // 3 + 1}"),
        envelope("PlanPublished", "plan-2", start, plan_id="full", version=2,
                 plan=RAISED, effective_from=start),
        envelope("RepLeft", "l-R-2", f"2026-{month:02d}-25T00:00:00+08:00",
                 rep_id="R-2", team_id="T1", region="east", role="account_manager",
                 grade="P5", hired_at="2025-01-01T00:00:00+08:00"),
    ]  # fmt: skip
    chosen = draw(st.lists(st.sampled_from(others), unique_by=id, max_size=8))
    queues.extend([item] for item in chosen)
    in_order, shuffled = _delivered(draw, queues)
    closes = [
        envelope("PeriodClosed", f"pc-{period}", "2027-01-01T00:00:00+08:00",
                 period=period)
        for period in sorted(periods)
    ]  # fmt: skip
    for close in closes:
        shuffled.insert(draw(st.integers(0, len(shuffled))), close)

    def decoded(items: list[dict[str, Any]]) -> list[Event]:
        return [decode_event(orjson.dumps(item)) for item in items]

    return [*COMPANY, *decoded([*in_order, *closes])], [*COMPANY, *decoded(shuffled)]


@settings(max_examples=60, deadline=None)
@given(orders=every_kind())
def test_any_order_of_every_kind_of_fact_gives_the_same_totals(
    full_plan: Plan, orders: tuple[list[Event], list[Event]]
) -> None:
    """SPEC §9's promise under full.yaml, beyond deals: amendments, cancellations,
    a SPIFF, a plan version, a move, a departure, activities, a collaboration, a
    nomination and a proposal, with the closes anywhere. (Left out by rule:
    redemptions, refused beyond the balance when they come, SPEC §4; targets, whose
    tree a close judges as it stands, SPEC §9 ``parent_unknown``.)"""
    in_order, delivered = orders
    first, _ = fold(full_plan, in_order)
    second, _ = fold(full_plan, delivered)
    assert zeroed(totals(second)) == zeroed(totals(first))
