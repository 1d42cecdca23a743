"""``quotaflow bench snapshot``: what one rep's checkpoint costs after a year.

A generated year (``streams.bench.year``) is routed as the worker routes it (deal
events to the reps the deal credits, company facts to every rep, activities to
their rep) and folded into one rep partition, with the stream's own code
(``RepPartition``; the customers' histories the worker sends every partition are
left out). The rep with the most stakes is taken, and its snapshot
measured: all of it (what a taking worker reads), as one whole-world entry (how
every round wrote it before pieces), and the round that follows one more event of
that rep (what a round writes now). Figures are printed, never asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from domain.events import InvalidEvent, decode_event
from domain.plan import Plan
from domain.world import World, own_part
from streams.bench.year import BenchYear
from streams.infra.topics import DEAL_KEYED
from streams.state.codec import encode_snapshot
from streams.state.partitions import RepPartition
from streams.state.pieces import RepPieces, decode_rep, gathered
from streams.state.routing import DealRouter, Forward, Origin, destination

Progress = Callable[[str], None]
# Rounds timed of each kind; the best is printed (the least disturbed by the rest
# of the machine).
TIMES = 5


def _best_ms(
    run: Callable[[], object], setup: Callable[[], None] = lambda: None
) -> float:
    took = []
    for _ in range(TIMES):
        setup()
        began = time.perf_counter()
        run()
        took.append(time.perf_counter() - began)
    return min(took) * 1000


def _forwards(topic: str, value: bytes, router: DealRouter, at: int) -> list[Forward]:
    """Where the worker sends one event (none for one it would dead-letter)."""
    try:
        event = decode_event(value)
        origin = Origin(topic, 0, at, 0.0, b"")
        if topic in DEAL_KEYED:
            return router.route(event, value, origin)
        return [Forward(destination(event, topic), value, origin, primary=True)]
    except InvalidEvent:
        return []


def bench_snapshot(
    plan: Plan, count: int, reps: int, seed: int = 11, progress: Progress | None = None
) -> dict[str, float]:
    """The busiest rep's snapshot after ``count`` events of ``reps`` reps, and what
    the round after one more of its events writes."""
    messages = list(BenchYear(count, reps, seed).messages())
    partition = RepPartition.starting((plan,), 0, 1)
    router = DealRouter()
    tick = max(len(messages) // 10, 1)
    # The last tenth is kept back: the first of its events for the busiest rep is
    # the change the next round writes.
    cut = len(messages) - max(len(messages) // 10, 1)
    for at, (topic, _, value) in enumerate(messages[:cut]):
        for forward in _forwards(topic, value, router, at):
            partition.apply(forward)
        if progress is not None and (at + 1) % tick == 0:
            progress(f"folded {at + 1:,} of {len(messages):,} events into a partition")
    rep_id = max(partition.worlds, key=lambda r: _stakes(partition.worlds[r], r))
    before = own_part(partition.worlds[rep_id])
    after = _after_one_more(partition, router, rep_id, messages, cut)
    pieces = RepPieces()
    entries = dict(pieces.entries(rep_id, before, 1))
    snapshot = gathered(rep_id, entries[rep_id], entries)
    assert snapshot is not None  # noqa: S101 - written just now, whole

    rounds = [RepPieces()]

    def first_round() -> None:
        rounds[0] = RepPieces()
        rounds[0].entries(rep_id, before, 1)

    written = pieces.entries(rep_id, after, 2)
    return {
        "events": cut,
        "reps": reps,
        "rep_stakes": len(before.reps[rep_id].positions),
        "snapshot_kb": sum(len(value) for value in entries.values()) / 1024,
        "snapshot_entries": len(entries),
        "whole_entry_kb": len(encode_snapshot(1, before)) / 1024,
        "round_after_one_event_kb": sum(len(value) for _, value in written) / 1024,
        "round_after_one_event_entries": len(written),
        "round_after_one_event_ms": _best_ms(
            lambda: rounds[0].entries(rep_id, after, 2), setup=first_round
        ),
        "whole_entry_ms": _best_ms(lambda: encode_snapshot(2, after)),
        "decode_ms": _best_ms(lambda: decode_rep(rep_id, snapshot[0])),
    }


def _stakes(world: World, rep_id: str) -> int:
    rep = world.reps.get(rep_id)
    return 0 if rep is None else len(rep.positions)


def _after_one_more(
    partition: RepPartition,
    router: DealRouter,
    rep_id: str,
    messages: list[tuple[str, bytes, bytes]],
    cut: int,
) -> World:
    """The rep's world once the first kept-back event that changes it is folded."""
    world = partition.worlds[rep_id]
    for at, (topic, _, value) in enumerate(messages[cut:], start=cut):
        for forward in _forwards(topic, value, router, at):
            partition.apply(forward)
        if partition.worlds[rep_id] is not world:
            return own_part(partition.worlds[rep_id])
    msg = f"no event of the year's last tenth changed {rep_id}'s world"
    raise RuntimeError(msg)
