from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from domain.events import (
    ActivityLogged,
    DealClosed,
    PeriodClosed,
    QuotaAssigned,
    RepHired,
    decode_event,
)
from streams.bench.fold import arrival_order, bench_fold, queue_of
from streams.bench.generator import Message
from streams.bench.year import BenchYear
from streams.infra.runtime import load_plan
from streams.infra.topics import ACTIVITIES, CONTROL, DEALS, ORG, TARGETS

PLANS = Path(__file__).parents[2] / "examples" / "plans"


def _year(count: int = 3000, reps: int = 40, seed: int = 5) -> list[Message]:
    return list(BenchYear(count, reps, seed).messages())


def test_same_seed_gives_the_same_year_and_another_seed_another() -> None:
    assert _year(seed=5) == _year(seed=5)
    assert _year(seed=5) != _year(seed=6)


@pytest.mark.parametrize(("count", "reps"), [(3000, 40), (1200, 100), (500, 3)])
def test_the_year_holds_exactly_the_events_asked_for_and_each_decodes(
    count: int, reps: int
) -> None:
    messages = _year(count, reps)
    assert len(messages) == count
    events = [decode_event(value) for _, _, value in messages]
    assert len({e.event_id for e in events}) == count
    kinds = Counter(e.event_type for e in events)
    assert kinds["RepHired"] == reps
    assert kinds["PeriodClosed"] == 12 + 4 + 1
    assert kinds["DealClosed"] > 0
    assert kinds["ActivityLogged"] > 0


def test_too_few_events_for_the_reps_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="hires, targets and closes alone take"):
        BenchYear(100, 80)


def test_reps_sit_in_teams_of_about_eight_inside_four_regions() -> None:
    messages = _year(4000, 100)
    decoded = [decode_event(v) for t, _, v in messages if t == ORG]
    hires = [h for h in decoded if isinstance(h, RepHired)]
    assert len(hires) == 100
    teams = Counter(h.team_id for h in hires)
    assert all(6 <= size <= 15 for size in teams.values())
    assert {h.region for h in hires} == {"east", "north", "south", "west"}
    region_of_team = {h.team_id: h.region for h in hires}
    assert len(region_of_team) == len(teams)


def test_hires_and_targets_come_first_and_children_sum_to_their_parent() -> None:
    messages = _year()
    topics = [t for t, _, _ in messages]
    first_dated = next(i for i, t in enumerate(topics) if t not in (ORG, TARGETS))
    assert set(topics[first_dated:]) & {ORG, TARGETS} == set()
    targets = [
        q
        for q in (decode_event(v) for t, _, v in messages if t == TARGETS)
        if isinstance(q, QuotaAssigned)
    ]
    assert {q.level for q in targets} == {
        "company", "product_line", "region", "team", "rep"
    }  # fmt: skip
    amounts = {(q.node_id, q.period): q.amount for q in targets}
    periods = {"2026", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"}
    assert {period for _, period in amounts} == periods
    children: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for q in targets:
        if q.parent_id is not None:
            assert (q.parent_id, q.period) in amounts
            children[(q.parent_id, q.period)] += q.amount
    assert len(children) == sum(q.level != "rep" for q in targets)
    for parent, total in children.items():
        assert total == amounts[parent]


def test_some_deals_are_split_between_two_reps_of_one_team() -> None:
    messages = _year(6000, 80)
    team = {
        e.rep_id: e.team_id
        for e in (decode_event(v) for t, _, v in messages if t == ORG)
        if isinstance(e, RepHired)
    }
    deals = [
        e
        for e in (decode_event(v) for t, _, v in messages if t == DEALS)
        if isinstance(e, DealClosed)
    ]
    split = [d for d in deals if len(d.splits) == 2]
    assert 0.08 < len(split) / len(deals) < 0.25
    assert all(team[d.splits[0].rep_id] == team[d.splits[1].rep_id] for d in split)


def test_each_month_closes_after_that_months_deals() -> None:
    events = [decode_event(v) for _, _, v in _year(6000, 40)]
    closes = [(i, e) for i, e in enumerate(events) if isinstance(e, PeriodClosed)]
    months = [e.period for _, e in closes if "-Q" not in e.period and "-" in e.period]
    assert months == [f"2026-{m:02d}" for m in range(1, 13)]
    for i, close in closes:
        for j, event in enumerate(events):
            if not isinstance(event, DealClosed):
                continue
            if event.occurred_at.strftime("%Y-%m") == close.period:
                assert j < i
            if j > i:
                assert event.occurred_at >= close.occurred_at


def test_activities_are_keyed_by_their_rep_and_closes_by_their_period() -> None:
    for topic, key, value in _year():
        event = decode_event(value)
        if topic == ACTIVITIES:
            assert isinstance(event, ActivityLogged)
            assert event.rep_id == key.decode()
        if topic == CONTROL:
            assert isinstance(event, PeriodClosed)
            assert event.period == key.decode()


def test_kafka_order_is_a_permutation_keeping_each_partitions_own_order() -> None:
    messages = _year(3000, 40)
    queues = [queue_of(m) for m in messages]
    order = arrival_order(queues, fetch=50)
    assert sorted(order) == list(range(len(messages)))
    assert list(order) != list(range(len(messages)))
    last: dict[int, int] = {}
    for index in order:
        assert last.get(queues[index], -1) < index
        last[queues[index]] = index


def test_kafka_order_takes_fetches_in_turn_round_the_partitions() -> None:
    order = arrival_order([0, 0, 0, 1, 1, 2], fetch=2)
    assert list(order) == [0, 1, 3, 4, 5, 2]


def test_a_deals_events_share_a_partition_number_across_topics() -> None:
    by_deal: defaultdict[bytes, set[int]] = defaultdict(set)
    for message in _year():
        if message[0] in (DEALS, "payments", "satisfaction"):
            by_deal[message[1]].add(queue_of(message) % 6)
    assert all(len(parts) == 1 for parts in by_deal.values())


@pytest.mark.parametrize("plan", ["reference.yaml", "full.yaml"])
def test_bench_fold_at_a_tiny_size_prints_every_figure(plan: str) -> None:
    said: list[str] = []
    figures = bench_fold(load_plan(PLANS / plan), 600, reps=16, progress=said.append)
    assert figures["events"] == 600
    assert figures["reps"] == 16
    rates = [k for k in figures if k.endswith("_per_s")]
    assert set(rates) >= {
        "decode_only_events_per_s",
        "decode_validate_events_per_s",
        "fold_events_per_s",
        "fold_kafka_order_events_per_s",
        "decode_validate_fold_events_per_s",
    }
    assert all(figures[k] > 0 for k in rates)
    for tenth in ("first", "middle", "last"):
        assert figures[f"us_per_event_{tenth}_tenth"] > 0
    assert figures["lines_file_order"] > 0
    assert figures["lines_kafka_order"] > 0
    assert 0 <= figures["refused"] < 600 * 0.02
    assert 0 <= figures["refused_kafka_order"] < 600 * 0.05
    assert figures["state_bytes_per_event"] > 0
    assert 0 < figures["rep_worlds"] <= 16
    assert figures["targets"] > 16
    for fact in ("rep_hired", "quota_assigned"):
        assert figures[f"{fact}_us"] > 0
        assert figures[f"stream_{fact}_us"] > 0
    assert figures["max_rss_mb"] > 0
    assert any("100% folded" in line for line in said)
