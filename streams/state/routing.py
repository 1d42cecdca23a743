"""Who hears about a deal: deal events go to every rep the deal ever credited.

Deals, payments and satisfaction scores arrive keyed by ``deal_id`` (one partition per
deal on each of the three topics). A ``DealRouter`` holds, for the deals of one
partition, the reps each deal has credited and the payments and scores that arrived
before their deal; it answers each event with the reps to forward it to. It is plain
in-memory state: the worker rebuilds it from the topics themselves (see ``app``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.events import (
    ActivityLogged,
    AdjustmentBooked,
    CollaborationConfirmed,
    DealAmended,
    DealCancelled,
    DealClosed,
    Event,
    InquiryAnswered,
    InquiryRaised,
    InvalidEvent,
    NominationMade,
    PaymentReceived,
    PeriodClosed,
    PeriodLocked,
    PlanAcknowledged,
    PlanPublished,
    PointsRedeemed,
    ProposalAdopted,
    QuotaAssigned,
    RepHired,
    RepLeft,
    RepMoved,
    SatisfactionRecorded,
    SpiffAnnounced,
    StatementApproved,
    TargetsConfirmed,
)
from streams.infra.topics import (
    ACTIVITIES,
    CONTROL,
    DEALS,
    ORG,
    PAYMENTS,
    PLANS,
    SATISFACTION,
    TARGETS,
)

# The rep id of a record every rep's world folds: plans and SPIFF windows.
BROADCAST = "*"
# The rep id of a record that carries a batch's ``CustomerSeen`` events, a JSON array
# of their JSON texts, each folded as a broadcast (``streams.state.customers``).
SEEN = "*seen"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a message was read: its topic, partition, offset, arrival time and key
    (a dead letter or a replay needs the original key to keep the deal's partition)."""

    topic: str
    partition: int
    offset: int
    timestamp: float
    key: bytes = b""


@dataclass(frozen=True, slots=True)
class Forward:
    """One event on its way to one rep's partition of the rep topic."""

    rep_id: str
    value: bytes
    origin: Origin
    # The first credited rep reports what the fold refuses, so a refusal reaches the
    # dead-letter topic once, not once per credited rep.
    primary: bool


GLOBAL: dict[str, tuple[type, ...]] = {
    PLANS: (PlanPublished, SpiffAnnounced),
    TARGETS: (QuotaAssigned, TargetsConfirmed),  # QuotaAdjusted is a QuotaAssigned
    ORG: (RepHired, RepMoved, RepLeft),
    ACTIVITIES: (NominationMade, ProposalAdopted),
    CONTROL: (PeriodClosed, PeriodLocked),
}
# What the activities topic carries for one rep's world (key ``rep_id``).
REP_ACTIVITIES = (
    ActivityLogged,
    PointsRedeemed,
    StatementApproved,
    AdjustmentBooked,
    InquiryRaised,
    InquiryAnswered,
    PlanAcknowledged,
)


# What each deal-keyed topic carries (EVENTS.md): a payment sent as a deal, or a
# deal on the payments topic, is the sender's mistake, not a fact to book.
DEAL_KEYED_EVENTS: dict[str, tuple[type, ...]] = {
    DEALS: (DealClosed, DealAmended, DealCancelled),
    PAYMENTS: (PaymentReceived,),
    SATISFACTION: (SatisfactionRecorded,),
}


def owner_partition(rep_id: str, partitions: int) -> int:
    """The rep topic's partition that holds ``rep_id``'s world. It is computed here,
    not left to the producer's partitioner, because a period close asks each
    partition for the reps it owns, including reps it has not heard of yet."""
    return zlib.crc32(rep_id.encode()) % partitions


def destination(event: Event, topic: str) -> str:
    """Whose world folds an event of ``plans``, ``targets``, ``org`` or
    ``activities``: one rep's (its id), or every rep's (``BROADCAST``)."""
    if topic == ACTIVITIES and isinstance(event, REP_ACTIVITIES):
        return event.rep_id
    if topic == ACTIVITIES and isinstance(event, CollaborationConfirmed):
        return event.helper_rep_id  # the points are the helper's
    if isinstance(event, GLOBAL.get(topic, ())):
        return BROADCAST
    msg = f"{event.event_type} does not belong on {topic}"
    raise InvalidEvent("wrong_topic", msg)


def encode_forward(forward: Forward) -> bytes:
    record = origin_record(forward.origin, forward.value)
    return orjson.dumps({**record, "primary": forward.primary})


def decode_forward(rep_id: str, data: bytes) -> Forward:
    record: dict[str, Any] = orjson.loads(data)
    return Forward(
        rep_id=rep_id,
        value=record["event"].encode(),
        origin=origin_of(record),
        primary=record["primary"],
    )


@dataclass
class DealRouter:
    """The deals of one partition: their reps, and what waits for them. ``changed``
    names the deals whose entry in the ``deal-routes`` table is out of date."""

    owners: dict[str, tuple[str, ...]] = field(default_factory=dict)
    waiting: dict[str, list[tuple[bytes, Origin]]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def route(self, event: Event, value: bytes, origin: Origin) -> list[Forward]:
        """The forwards for one event; ``InvalidEvent`` if it cannot be routed."""
        if not isinstance(event, DEAL_KEYED_EVENTS.get(origin.topic, ())):
            msg = f"{event.event_type} does not belong on {origin.topic}"
            raise InvalidEvent("wrong_topic", msg)
        if isinstance(event, DealClosed):
            self._credit(event.deal_id, [s.rep_id for s in event.splits])
            sent = self._send(event.deal_id, value, origin)
            return [*sent, *self._release(event.deal_id)]
        if isinstance(event, DealAmended | DealCancelled):
            if event.deal_id not in self.owners:
                what = event.event_type
                msg = f"{what} refers to deal {event.deal_id}, which was never closed"
                raise InvalidEvent("unknown_deal", msg)
            if isinstance(event, DealAmended):
                self._credit(event.deal_id, [s.rep_id for s in event.splits])
            return self._send(event.deal_id, value, origin)
        if isinstance(event, PaymentReceived | SatisfactionRecorded):
            if event.deal_id not in self.owners:
                self._wait(event.deal_id, value, origin)
                return []
            return self._send(event.deal_id, value, origin)
        msg = f"{event.event_type} does not belong on {origin.topic}"
        raise InvalidEvent("wrong_topic", msg)

    def entry(self, deal_id: str) -> bytes:
        """The deal's table entry: the reps it credited and what waits for it."""
        return orjson.dumps(
            {
                "reps": self.owners.get(deal_id, ()),
                "waiting": [
                    origin_record(origin, value)
                    for value, origin in self.waiting.get(deal_id, ())
                ],
            }
        )

    def load(self, deal_id: str, entry: bytes) -> None:
        record: dict[str, Any] = orjson.loads(entry)
        if record["reps"]:
            self.owners[deal_id] = tuple(record["reps"])
        if record["waiting"]:
            self.waiting[deal_id] = [
                (item["event"].encode(), origin_of(item)) for item in record["waiting"]
            ]

    def _wait(self, deal_id: str, value: bytes, origin: Origin) -> None:
        waiting = self.waiting.setdefault(deal_id, [])
        where = (origin.topic, origin.offset)
        # Read again after a restart, a message must not wait twice.
        if all((o.topic, o.offset) != where for _, o in waiting):
            waiting.append((value, origin))
            self.changed.add(deal_id)

    def _credit(self, deal_id: str, reps: list[str]) -> None:
        # Every rep the deal ever credited keeps hearing of it: a rep removed by an
        # amendment must still see the cancellation that reverses nothing of theirs.
        known = self.owners.get(deal_id, ())
        self.owners[deal_id] = (*known, *(r for r in reps if r not in known))
        self.changed.add(deal_id)

    def _send(self, deal_id: str, value: bytes, origin: Origin) -> list[Forward]:
        reps = self.owners[deal_id]
        return [
            Forward(rep_id=rep, value=value, origin=origin, primary=n == 0)
            for n, rep in enumerate(reps)
        ]

    def _release(self, deal_id: str) -> list[Forward]:
        released = self.waiting.pop(deal_id, [])
        return [
            forward
            for value, origin in released
            for forward in self._send(deal_id, value, origin)
        ]


def origin_record(origin: Origin, value: bytes) -> dict[str, Any]:
    """An event's bytes and where it was read, as JSON-ready values."""
    return {
        "event": value.decode(),
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "timestamp": origin.timestamp,
        "key": origin.key.decode(errors="replace"),
    }


def origin_of(record: dict[str, Any]) -> Origin:
    return Origin(
        topic=record["topic"],
        partition=record["partition"],
        offset=record["offset"],
        timestamp=record["timestamp"],
        key=record["key"].encode(),
    )
