"""Whose an event id is: one place in the app decides it, whatever the order.

An event id names one fact. A rep partition's worlds refuse an id they have seen with
other content, but they only see their own reps' events: two deals closed under one
id in two partitions, or a plan published under the id of one rep's activity, would
each be booked where it lands, and which one counts would depend on where the deals
happen to live. So every event on its way to the rep topic passes once through the
claims topic, which has one partition: the order each router and agent sent in is
kept, and its ``Claims`` remember, for every event id, the subject it was first
used for (a deal, a rep, or every rep). The id sent again for another subject is
refused as a conflict, before any world sees it. The same subject with other
content goes on: the worlds judge it as they always have (so a deal refused for a
rule and sent again corrected under its id is booked, as ``simulate`` books it).

A claim costs two fixed-size digests (64 bits each: two ids are likely to share one
only past about 5·10⁹ ids, and then the later is refused, its id named). A
checkpoint rewrites the entry of the claims made since the entry was opened, then
the offset they reflect; an entry is closed at ``PER_ENTRY`` claims, so a round
costs at most that many and a restore reads one entry per ``PER_ENTRY`` ids. A claim
is the same whenever it is made again, so replaying the log after an entry that
holds it changes nothing.
"""

from __future__ import annotations

import os
import sys
import zlib
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

import orjson

from domain.events import (
    DealAmended,
    DealCancelled,
    DealClosed,
    Event,
    PaymentReceived,
    SatisfactionRecorded,
)
from streams.state.digestmap import DigestMap
from streams.state.routing import (
    BROADCAST,
    Forward,
    Origin,
    origin_of,
    origin_record,
    owner_partition,
)

APPLIED = "@applied"
# Claims in one checkpoint entry before a new one is opened (16 bytes each).
PER_ENTRY = 10_000
DealEvent = (
    DealClosed | DealAmended | DealCancelled | PaymentReceived | SatisfactionRecorded
)
# Every rep's world folds it (plans, targets, the organisation, period closes).
EVERYONE = "*"


@dataclass(frozen=True, slots=True)
class Claim:
    """One event on its way to the rep topic: its id, what it concerns (``deal/<id>``,
    ``rep/<id>`` or ``EVERYONE``), the reps whose worlds fold it (``BROADCAST`` for
    all), its bytes and where it was read."""

    event_id: str
    subject: str
    reps: tuple[str, ...]
    value: bytes
    origin: Origin

    def forwards(self, partitions: int) -> list[tuple[int, Forward]]:
        """The claim's forwards and the rep topic partition of each; the first
        reports what the fold refuses, so a refusal is dead-lettered once."""
        value, origin = self.value, self.origin
        if self.reps == (BROADCAST,):
            return [
                (number, Forward(BROADCAST, value, origin, primary=not number))
                for number in range(partitions)
            ]
        return [
            (owner_partition(rep, partitions), Forward(rep, value, origin, n == 0))
            for n, rep in enumerate(self.reps)
        ]


def of_deal(deal_id: str) -> str:
    return f"deal/{deal_id}"


def of_rep(rep_id: str) -> str:
    return f"rep/{rep_id}"


def deal_claims(event: Event, origin: Origin, forwards: list[Forward]) -> list[Claim]:
    """The claims of what routing one deal event (read at ``origin``) gave, in its
    order: the event's own forwards, and those of each payment or score that waited
    for the deal (their ids are read from their bytes)."""
    if not isinstance(event, DealEvent):
        msg = f"{event.event_type} is not about a deal"
        raise TypeError(msg)
    event_id, deal_id = event.event_id, event.deal_id
    grouped: dict[tuple[str, int], list[Forward]] = {}
    for forward in forwards:
        read = forward.origin
        grouped.setdefault((read.topic, read.offset), []).append(forward)
    claims = []
    for group in grouped.values():
        value, where = group[0].value, group[0].origin
        own = event_id if where == origin else str(orjson.loads(value)["event_id"])
        reps = tuple(forward.rep_id for forward in group)
        claims.append(Claim(own, of_deal(deal_id), reps, value, where))
    return claims


def encode_claim(claim: Claim) -> bytes:
    record = origin_record(claim.origin, claim.value)
    extra = {"id": claim.event_id, "subject": claim.subject, "reps": claim.reps}
    return orjson.dumps({**record, **extra})


def decode_claim(data: bytes) -> Claim:
    record: dict[str, Any] = orjson.loads(data)
    return Claim(
        event_id=record["id"],
        subject=record["subject"],
        reps=tuple(record["reps"]),
        value=record["event"].encode(),
        origin=origin_of(record),
    )


def _digest(text: str) -> int:
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest())


@dataclass
class Claims:
    """The claims topic's partition: the subject of every event id it has passed,
    and the offset of the last message applied."""

    subjects: DigestMap = field(default_factory=DigestMap)
    applied: int = -1
    # The claims of the open checkpoint entry, as (id digest, subject digest) pairs,
    # its name once written, and how many of its numbers were written then.
    fresh: array[int] = field(default_factory=lambda: array("Q"))
    entry: str = ""
    entry_written: int = 0
    # The offset the last checkpoint reflects.
    written: int = -1

    def refusal(self, claim: Claim) -> str | None:
        """Why ``claim`` is refused (its id was used for another subject), or None:
        then it is remembered, and its events go on."""
        key, subject = _digest(claim.event_id), _digest(claim.subject)
        known = self.subjects.first(key, subject)
        if known is None:
            self.fresh.extend((key, subject))
            return None
        if known == subject:
            return None
        what = _described(claim.subject)
        return f"event_id {claim.event_id} was already used for other than {what}"

    @property
    def dirty(self) -> bool:
        return self.applied != self.written

    def entries(self) -> list[tuple[str, bytes]]:
        """The checkpoint's entries: the open entry's claims when it has new ones,
        then the offset. An entry's name is the offset when it was opened and a
        random part: no worker, restarted or not, replaces another's entry."""
        self.written = self.applied
        entries = []
        # At most ``PER_ENTRY`` claims an entry, however many came since the last
        # round: a backlog's claims outrun the rounds (a round waits for the rows
        # pending), and 62,500 of them would pass the broker's 1 MB message limit.
        full = 2 * PER_ENTRY
        while len(self.fresh) > self.entry_written:
            self.entry = self.entry or f"{self.applied:020d}-{os.urandom(4).hex()}"
            entries.append((self.entry, zlib.compress(_packed(self.fresh[:full]))))
            if len(self.fresh) < full:
                self.entry_written = len(self.fresh)
                break
            self.fresh, self.entry, self.entry_written = self.fresh[full:], "", 0
        entries.append((APPLIED, str(self.applied).encode()))
        return entries

    @classmethod
    def restored(cls, entries: Mapping[str, bytes]) -> Claims:
        """The claims of a checkpoint's entries (``entries``' own)."""
        state = cls()
        loaded = [
            _unpacked(zlib.decompress(value))
            for name, value in entries.items()
            if name != APPLIED
        ]
        state.subjects.reserve(sum(len(pairs) for pairs in loaded) // 2)
        for pairs in loaded:
            state.subjects.update(zip(pairs[::2], pairs[1::2], strict=True))
        if APPLIED in entries:
            state.applied = state.written = int(entries[APPLIED])
        return state


def _described(subject: str) -> str:
    if subject == EVERYONE:
        return "an event of the whole company"
    kind, _, name = subject.partition("/")
    return f"{kind} {name}"


def _packed(pairs: array[int]) -> bytes:
    """Little-endian whatever the host, so any worker reads any checkpoint."""
    if sys.byteorder == "big":
        pairs = array("Q", pairs)
        pairs.byteswap()
    return pairs.tobytes()


def _unpacked(data: bytes) -> array[int]:
    pairs = array("Q")
    pairs.frombytes(data)
    if sys.byteorder == "big":
        pairs.byteswap()
    return pairs
