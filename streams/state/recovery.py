"""How a partition's state is rebuilt when a worker takes the partition: from its
checkpoint entries, then the log after the offsets they reflect, up to the group's
committed offset, sending and writing nothing (``streams.state.checkpoints``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import orjson

from domain.events import InvalidEvent, decode_event
from domain.plan import Plan
from streams.log.history import offset_of, read_partition
from streams.state.claims import Claims, decode_claim
from streams.state.collector import collector_paused
from streams.state.partitions import RepPartition
from streams.state.routing import DealRouter, Origin, decode_forward
from streams.state.snapshots import Restored
from streams.state.tables import table_key

log = logging.getLogger(__name__)


class Counted(Protocol):
    """Where a rebuild counts the messages it read (a Prometheus counter)."""

    def inc(self, amount: float = 1) -> None: ...


# The counter of a topic (``Metrics.rebuild_messages.labels``).
CountedBy = Callable[[str], Counted]
# The group's committed offset of a topic's partition, 0 if none
# (``streams.hot.commits.committed_by``).
Committed = Callable[[str, int], int]


APPLIED = "@applied"


@dataclass
class RouterPartition:
    """One partition number of the three deal-keyed topics."""

    router: DealRouter = field(default_factory=DealRouter)
    applied: dict[str, int] = field(default_factory=dict)

    def table_entries(self, partition: int) -> list[tuple[bytes, bytes]]:
        """The ``deal-routes`` entries out of date: each changed deal's, then the
        offsets they reflect (last, so an unfinished write leaves older offsets)."""
        entries = [
            (table_key(partition, deal_id), self.router.entry(deal_id))
            for deal_id in sorted(self.router.changed)
        ]
        entries.append((table_key(partition, APPLIED), orjson.dumps(self.applied)))
        self.router.changed.clear()
        return entries


def rebuild_router(
    config: dict[str, Any],
    committed: Committed,
    topics: tuple[str, ...],
    partition: int,
    entries: Mapping[str, bytes],
    counted: CountedBy | None = None,
) -> RouterPartition:
    """The partition's routing from its ``deal-routes`` table entries, then the
    topics after the offsets they reflect, up to the group's committed offsets,
    sending nothing: who each deal credits, and what still waits for its deal."""
    state = RouterPartition()
    for name, value in entries.items():
        if name == APPLIED:
            state.applied = orjson.loads(value)
        else:
            state.router.load(name, value)
    for topic in topics:
        start = state.applied.get(topic, -1) + 1
        until = committed(topic, partition)
        for message in read_partition(config, topic, partition, until, start=start):
            key = message.key() or b""
            origin = Origin(topic, partition, offset_of(message), 0.0, key)
            value = message.value() or b""
            with suppress(InvalidEvent):  # dead-lettered when it was first seen
                state.router.route(decode_event(value), value, origin)
            if counted is not None:
                counted(topic).inc()
        state.applied[topic] = max(until, start) - 1
        log.info("rebuilt routing of %s/%d: %d deals from the table, then "
                 "%d messages from %d", topic, partition, len(state.router.owners),
                 max(until - start, 0), start)  # fmt: skip
    # Deals routed here stay changed: the next batch writes their entries.
    return state


def rebuild_claims(
    config: dict[str, Any],
    committed: Committed,
    topic: str,
    entries: Mapping[str, bytes],
    counted: CountedBy | None = None,
) -> Claims:
    """The claims topic's state from its checkpoint entries, then the topic after
    the offset they reflect, up to the group's committed offset, sending nothing."""
    state = Claims.restored(entries)
    start = state.applied + 1
    until = committed(topic, 0)
    for message in read_partition(config, topic, 0, until, start=start):
        # A message that is not a claim was dead-lettered when it was first seen.
        with suppress(Exception):
            state.refusal(decode_claim(message.value() or b""))
    if counted is not None:
        counted(topic).inc(max(until - start, 0))
    state.applied = max(until, start) - 1
    log.info("rebuilt claims of %s: %d ids from the checkpoint and the log, "
             "%d messages from %d", topic, len(state.subjects),
             max(until - start, 0), start)  # fmt: skip
    return state


def rebuild_reps(  # noqa: PLR0913, PLR0917 - where from, what, and a counter
    config: dict[str, Any],
    committed: Committed,
    topic: str,
    partition: int,
    plans: tuple[Plan, ...],
    partitions: int,
    snapshots: Mapping[str, bytes],
    counted: CountedBy | None = None,
) -> RepPartition:
    """The partition's worlds from its snapshots and the log after them, up to the
    group's committed offset, writing nothing."""
    with collector_paused():
        state = RepPartition.starting(plans, partition, partitions)
        restored = Restored(snapshots)
        if restored.base is not None:
            state.base = restored.base
            state.customers_dirty = restored.inline
            if restored.base_entry is not None:
                state.restored_base = (restored.base, restored.base_entry)
        state.pieces.restored(restored.refs)
        if restored.heat is not None:
            # Decoded when a message needs them (``streams.state.worlds``).
            state.heat.restored(restored.heat, restored.entries)
            state.worlds.keep_encoded(restored.entries)
        else:
            state.worlds.update(restored.worlds)
            for rep_id, world in restored.worlds.items():
                state.pieces.decoded(rep_id, world)
        until = committed(topic, partition)
        read = 0
        for message in read_partition(
            config, topic, partition, until, start=restored.start
        ):
            offset = offset_of(message)
            due = partial(restored.is_due, offset=offset)
            try:
                key = (message.key() or b"").decode()
                state.apply(decode_forward(key, message.value() or b""), due, offset)
            except Exception:  # dead-lettered as internal when it was first handled
                log.debug("%s/%d@%d skipped on rebuild", topic, partition, offset)
            read += 1
        if counted is not None:
            counted(topic).inc(read)
        # The worlds folded here stay dirty: their snapshots are older than the next
        # round's base, which would otherwise vouch for them.
        state.applied = max(until, restored.start) - 1
        state.base_dirty = read > 0
        # The cells are rewritten whole: what the last owner wrote may be older.
        if restored.heat is None:
            state.heat.recount(state.worlds, state.applied)
        else:
            state.heat.all_changed(state.applied)
        log.info("rebuilt %d reps of %s/%d: %d snapshots (%d still encoded), then "
                 "%d messages from %d", len(state.worlds), topic, partition,
                 len(restored.entries), state.worlds.encoded, read,
                 restored.start)  # fmt: skip
        return state
