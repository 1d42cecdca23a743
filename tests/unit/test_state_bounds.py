"""The fold's state grows with the stakes it prices, not with the events it has seen:
an event that opens no stake leaves a fixed-size digest behind and nothing else, and
a repeated event leaves nothing (issue 11: state bounded by what the rules need)."""

from __future__ import annotations

import pickle

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.engine import World, evolve, start
from domain.events import decode_event
from domain.plan import Plan
from tests.factories import deal_event, envelope

# What one more event id costs the state, pickled: its 128-bit key, its 64-bit
# digest and the mapping's share. A decoded event kept instead costs ten times that.
DIGEST_BYTES = 64


def _size(world: World) -> int:
    return len(pickle.dumps(world))


def _deals(plan: Plan, count: int) -> World:
    world = start([plan])
    for n in range(count):
        event = deal_event(
            event_id=f"d-{n}", deal_id=f"D-{n}", amount=f"{1000 + n}.00", margin="0"
        )
        world, step = evolve(world, decode_event(orjson.dumps(event)))
        assert step.rejected == ()
    return world


def _score(n: int, deal: int) -> bytes:
    return orjson.dumps(
        envelope("SatisfactionRecorded", f"s-{n}", "2026-04-20T10:00:00+08:00",
                 deal_id=f"D-{deal}", customer_id="C-88", score="80")
    )  # fmt: skip


@settings(max_examples=12, deadline=None)
@given(
    deals=st.integers(min_value=1, max_value=12),
    later=st.lists(st.integers(min_value=0, max_value=11), min_size=1, max_size=120),
)
def test_events_that_open_no_stake_leave_only_a_digest_each(
    reference_plan: Plan, deals: int, later: list[int]
) -> None:
    world = _deals(reference_plan, deals)
    # A first score opens the rep's score sums of its periods (a year, a quarter and
    # a month: bounded by the calendar, not by the events).
    world, _ = evolve(world, decode_event(_score(-1, 0)))
    before = _size(world)
    for n, deal in enumerate(later):
        world, _ = evolve(world, decode_event(_score(n, deal % deals)))
    assert _size(world) - before <= DIGEST_BYTES * len(later)
    # The same events again leave nothing at all.
    again = _size(world)
    for n, deal in enumerate(later):
        world, step = evolve(world, decode_event(_score(n, deal % deals)))
        assert step == step._replace(lines=(), rejected=())
    assert _size(world) == again
