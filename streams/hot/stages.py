"""The three stages of the high-rate path, one message at a time, no I/O but sends.

``route`` takes a message of ``deals``, ``payments`` or ``satisfaction`` and claims
its event id for its deal, naming every rep the deal credits, on the claims topic
(the faust agents claim the low-rate topics' events the same way). ``decide``
takes a claim and, unless its id was used for something else
(``streams.state.claims``), sends the event to those reps on the rep topic.
``fold`` takes a message of the rep topic and folds it into its rep's world. Each
skips a message its partition's state has already applied (it came again after a
crash or a rebalance), and each gives every message a verdict: applied (routed,
passed, folded, refused by the rules) or dead-lettered with its reason. What a
batch gives the read side is gathered in a ``Batch`` and written by the consumer
loop (``streams.hot.consumer``) before the batch's offsets are committed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import Producer

from domain.awardbook import Cause, joined
from domain.events import InvalidEvent, decode_event
from streams.hot.regression import AppliedDigests, Regression
from streams.hot.verdicts import DeadLetter, encoded, internal
from streams.infra.metrics import Metrics
from streams.infra.topics import DLQ
from streams.log.deadletter import dead_letter_record
from streams.log.history import Record
from streams.state.applied import Folded
from streams.state.claims import Claims, deal_claims, decode_claim, encode_claim
from streams.state.partitions import RepPartition
from streams.state.periods import ShareReport, encode_report
from streams.state.recovery import RouterPartition
from streams.state.routing import (
    SEEN,
    Forward,
    Origin,
    decode_forward,
    encode_forward,
)

log = logging.getLogger(__name__)
# CustomerSeen events in one message of the rep topic (~0.5 KB each there).
SEEN_PER_MESSAGE = 400


@dataclass
class Batch:
    """What the takes of one batch gave: rows for the read side, dead letters, which
    partitions moved, and counts for the metrics."""

    folded: Folded = field(default_factory=Folded)
    arrivals: list[float] = field(default_factory=list)  # of each event folded
    dead: list[DeadLetter] = field(default_factory=list)
    # The rep topic's (partition, offset) of every folded message: the source of
    # the batch's inserts, for their deduplication tokens.
    rep_offsets: list[tuple[int, int]] = field(default_factory=list)
    # The last offset handled of each (topic, partition): what the commit covers.
    last: dict[tuple[str, int], int] = field(default_factory=dict)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    folds: Counter[tuple[str, str]] = field(default_factory=Counter)
    fold_seconds: list[float] = field(default_factory=list)


@dataclass
class Touched:
    """The facts of a batch that changed a closed period's awards in a partition,
    and the last one's message (whose verdict a refusal of the awards would be)."""

    value: bytes
    origin: Origin
    causes: list[Cause] = field(default_factory=list)


# Reads the messages of a partition between its state and a message (a gap).
GapReader = Callable[[Record, int], list[Record]]


class Stages:
    """The route, decide and fold stages over this worker's partition states."""

    def __init__(  # noqa: PLR0913, PLR0917 - the stages' collaborators, wired once
        self,
        producer: Producer,
        metrics: Metrics,
        rep_topic: str,
        claims_topic: str,
        shares_topic: str,
        partitions: int,
        rebuild_router: Callable[[int], RouterPartition],
        rebuild_claims: Callable[[], Claims],
        rebuild_reps: Callable[[int], RepPartition],
        read_gap: GapReader,
    ) -> None:
        self._producer = producer
        self._metrics = metrics
        self._rep_topic = rep_topic
        self._claims_topic = claims_topic
        self._rebuild_claims = rebuild_claims
        self._shares_topic = shares_topic
        self._partitions = partitions
        self._rebuild_router = rebuild_router
        self._rebuild_reps = rebuild_reps
        self._read_gap = read_gap
        self.routers: dict[int, RouterPartition] = {}
        self.reps: dict[int, RepPartition] = {}
        # The claims topic's one partition, when this worker owns it.
        self.claims: Claims | None = None
        # Router partitions with changes not yet checkpointed.
        self.dirty_routers: set[int] = set()
        # The last message handled of each partition, and when it reached the broker.
        self.processed: dict[tuple[str, int], tuple[int, float]] = {}
        # The closed periods the batch changed the award facts of, per partition.
        self.touched: dict[tuple[int, str], Touched] = {}
        # The batch's ``CustomerSeen`` events, sent together when it ends.
        self.customers: list[tuple[bytes, Origin]] = []
        # Partitions whose log moved back under what was applied (kept until the
        # worker restarts: it refuses to guess), and those not yet reported.
        self.digests = AppliedDigests()
        self.stopped: dict[tuple[str, int], Regression] = {}
        self.regressions: list[Regression] = []

    def handle(self, record: Record, batch: Batch) -> None:
        where = (record.topic, record.partition)
        if where in self.stopped:
            return  # neither applied nor acknowledged (``streams.hot.regression``)
        if self.digests.differs(record):
            applied = self.applied_of(*where)
            upto = record.offset if applied is None else applied
            why = "a message at an offset already applied has other bytes"
            self.regress(Regression(*where, upto, record.offset, why))
            return
        if record.topic == self._rep_topic:
            self.fold(record, batch)
        elif record.topic == self._claims_topic:
            self.decide(record, batch)
        else:
            self.route(record, batch)
        self.digests.remember(record)
        batch.last[where] = record.offset

    def applied_of(self, topic: str, partition: int) -> int | None:
        """The last offset of the partition this worker's state has applied (None
        for a partition whose state it has not built)."""
        if topic == self._rep_topic:
            reps = self.reps.get(partition)
            return None if reps is None else reps.applied
        if topic == self._claims_topic:
            return None if self.claims is None else self.claims.applied
        router = self.routers.get(partition)
        return None if router is None else router.applied.get(topic)

    def regress(self, found: Regression) -> None:
        """Stop a partition whose log moved back under what was applied from it."""
        where = (found.topic, found.partition)
        if where in self.stopped:
            return
        self.stopped[where] = found
        self.regressions.append(found)
        log.critical("offset regression on %s: the partition is stopped and nothing "
                     "more of it is applied; see the README's runbook",
                     found.describe())  # fmt: skip

    def _due(
        self,
        record: Record,
        batch: Batch,
        applied: Callable[[], int],
        handle: Callable[[Record, Batch], None],
    ) -> bool:
        """Whether ``record`` is still to be handled by its partition's state, whose
        last applied offset ``applied`` gives: the messages of a gap between the two
        are handled first (by ``handle``, outputs included), and a message applied
        already is counted as replayed."""
        if record.offset > applied() + 1:
            for missed in self._read_gap(record, applied() + 1):
                handle(missed, batch)
        if record.offset <= applied():
            batch.outcomes[(record.topic, "replayed")] += 1
            return False
        return True

    def route(self, record: Record, batch: Batch) -> None:
        """Claim a deal-keyed event's id for its deal, naming every rep the deal
        credits (and the same for what waited for the deal)."""
        topic, partition, offset = record.topic, record.partition, record.offset
        state = self.routers.get(partition)
        if state is None:
            state = self.routers[partition] = self._rebuild_router(partition)
        routed = state.applied
        if not self._due(record, batch, lambda: routed.get(topic, -1), self.route):
            return
        value = record.value
        origin = Origin(topic, partition, offset, record.timestamp, record.key)
        try:
            event = decode_event(value)
            forwards = state.router.route(event, value, origin)
            claims = [
                (claim.event_id.encode(), encode_claim(claim))
                for claim in deal_claims(event, origin, forwards)
            ]
        except InvalidEvent as exc:
            self.dead_letter(batch, record.key, value, origin, exc)
        except Exception as exc:  # this message's verdict: internal
            self.dead_letter(batch, record.key, value, origin, internal(exc, origin))
        else:
            for key, claim in claims:
                self._send(self._claims_topic, key, claim, 0)
            batch.outcomes[(topic, "routed")] += 1
        state.applied[topic] = offset
        self.dirty_routers.add(partition)
        self.processed[(topic, partition)] = (offset, record.timestamp)

    def decide(self, record: Record, batch: Batch) -> None:
        """Send a claimed event on to its reps, unless its id was used for
        something else (then it is dead-lettered as a conflict)."""
        offset, where = record.offset, (record.topic, record.partition)
        state = self.claims
        if state is None:
            state = self.claims = self._rebuild_claims()
        claims = state
        if not self._due(record, batch, lambda: claims.applied, self.decide):
            return
        try:
            claim = decode_claim(record.value)
            sends = [
                (forward.rep_id.encode(), encode_forward(forward), number)
                for number, forward in claim.forwards(self._partitions)
            ]
            # Judged last: a claim that fails on the way claims nothing.
            refusal = state.refusal(claim)
        except Exception as exc:  # not a claim this worker wrote: internal
            at = Origin(record.topic, record.partition, offset, record.timestamp)
            self.dead_letter(batch, record.key, record.value, at, internal(exc, at))
        else:
            if refusal is None:
                for key, value, number in sends:
                    self._send(self._rep_topic, key, value, number)
                batch.outcomes[(record.topic, "passed")] += 1
            else:
                origin, conflict = claim.origin, InvalidEvent("conflict", refusal)
                self.dead_letter(batch, origin.key, claim.value, origin, conflict)
        state.applied = offset
        self.processed[where] = (offset, record.timestamp)

    def fold(self, record: Record, batch: Batch) -> None:
        """Fold a rep-topic message into its rep's world (a broadcast into all)."""
        partition, offset = record.partition, record.offset
        state = self.reps.get(partition)
        if state is None:
            state = self.reps[partition] = self._rebuild_reps(partition)
        reps = state
        if not self._due(record, batch, lambda: reps.applied, self.fold):
            return
        try:
            forward = decode_forward(record.key.decode(), record.value)
        except Exception as exc:  # not a forward this worker wrote: internal
            where = Origin(record.topic, partition, offset, record.timestamp)
            state.applied = offset
            self.processed[(record.topic, partition)] = (offset, record.timestamp)
            verdict = internal(exc, where)
            self.dead_letter(batch, record.key, record.value, where, verdict)
            return
        origin = forward.origin
        started = time.perf_counter()
        try:
            applied = state.apply(forward, offset=offset)
        except Exception as exc:  # this message's verdict: internal
            state.applied = offset
            self.processed[(record.topic, partition)] = (offset, record.timestamp)
            self.dead_letter(
                batch, origin.key, forward.value, origin, internal(exc, origin)
            )
            return
        batch.fold_seconds.append(time.perf_counter() - started)
        state.applied = offset
        self.processed[(record.topic, partition)] = (offset, record.timestamp)
        batch.folded.add(applied, offset)
        batch.rep_offsets.append((partition, offset))
        if forward.rep_id != SEEN:  # not an event: a batch's customer histories
            batch.arrivals.append(origin.timestamp)
        if applied.share is not None:
            report = ShareReport(
                partition, self._partitions, applied.share, forward.value, origin
            )
            key = applied.share.period.encode()
            self._send(self._shares_topic, key, encode_report(report), 0)
        if applied.customer is not None:
            self.customers.append((applied.customer, origin))
        for period, cause in applied.touched:
            pending = self.touched.setdefault(
                (partition, period), Touched(forward.value, origin)
            )
            pending.causes.append(cause)
            pending.value, pending.origin = forward.value, origin
        for rejection in applied.refused:
            invalid = InvalidEvent(rejection.code, rejection.reason)
            # A target that waited for its parent is set aside as its own event.
            value = forward.value if rejection.event is None else encoded(rejection)
            self.dead_letter(batch, origin.key, value, origin, invalid)
        itself = any(rejection.event is None for rejection in applied.refused)
        outcome = "refused" if itself else "applied"
        batch.outcomes[(origin.topic, outcome)] += 1
        batch.folds[(applied.event_type, outcome)] += 1

    def send_customers(self) -> None:
        """Send the batch's ``CustomerSeen`` events to every partition, a few hundred
        to a message (one message per deal and partition cost more to send, read
        and fold than the judgement itself). Called at the end of every batch,
        before its sends are flushed and its offsets committed."""
        pending, self.customers = self.customers, []
        for low in range(0, len(pending), SEEN_PER_MESSAGE):
            chunk = pending[low : low + SEEN_PER_MESSAGE]
            value = orjson.dumps([seen.decode() for seen, _ in chunk])
            for number in range(self._partitions):
                every = Forward(SEEN, value, chunk[-1][1], primary=not number)
                self._send(
                    self._rep_topic, SEEN.encode(), encode_forward(every), number
                )

    def share_again(self) -> None:
        """Send, for each closed period whose award facts the batch changed in a
        partition, that partition's share once, naming the facts (SPEC §9): the
        awards are made again per batch, not per late fact. Called at the end of
        every batch, before its sends are flushed and its offsets committed."""
        for (partition, period), pending in sorted(self.touched.items()):
            share = self.reps[partition].share_of(period)
            report = ShareReport(
                partition, self._partitions, share, pending.value, pending.origin,
                joined(pending.causes),
            )  # fmt: skip
            self._send(self._shares_topic, period.encode(), encode_report(report), 0)
        self.touched.clear()

    def dead_letter(
        self,
        batch: Batch,
        key: bytes | None,
        value: bytes,
        origin: Origin,
        exc: InvalidEvent,
    ) -> None:
        """Set an event aside on the dead-letter topic (its bytes, cut when larger
        than any valid event, the reason and the origin); its row is written with
        the batch."""
        kept, headers = dead_letter_record(
            value,
            code=exc.code,
            detail=exc.detail,
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
        )
        self._send(DLQ, key, kept, 0, headers)
        batch.dead.append(DeadLetter(origin, key, kept, exc.code, exc.detail))
        batch.outcomes[(origin.topic, "dead_lettered")] += 1

    def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        partition: int,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> None:
        """Queue a message, waiting for room when the producer's queue is full. Its
        delivery report waits for the flush that ends the take: a ``poll`` per
        message gives up the GIL, and taking it back from a busy thread is slow."""
        extra: dict[str, Any] = {"headers": headers} if headers else {}
        while True:
            try:
                self._producer.produce(
                    topic, key=key, value=value, partition=partition, **extra
                )
            except BufferError:
                self._producer.poll(0.5)
                continue
            return

    def drop(self, topic: str, partition: int) -> None:
        """Forget a partition this worker no longer owns (its next owner rebuilds
        it from the checkpoint and the log)."""
        if topic == self._rep_topic:
            self.reps.pop(partition, None)
            for key in [key for key in self.touched if key[0] == partition]:
                del self.touched[key]
        elif topic == self._claims_topic:
            self.claims = None
        else:
            self.routers.pop(partition, None)
            self.dirty_routers.discard(partition)
        self.processed.pop((topic, partition), None)
        self.digests.forget(topic, partition)
