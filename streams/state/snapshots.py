"""Snapshots of the rep partitions' worlds, kept in a changelog-backed faust Table.

A rep partition's state is the fold of its log; a snapshot bounds how much of the log
a worker that takes the partition must read again. Every ``snapshot_seconds`` each
partition writes, to the table's changelog partition of the same number, the worlds
of the reps that changed since its last round, then its base world, each with the
offset it reflects. The base comes last, so a round the worker did not finish leaves
the base at the previous round.

A rep's world is written in pieces (``streams.state.pieces``): the pieces of its
growing maps that changed since the partition's last round, then its head, which
names the pieces that make the world up.

Recovery trusts nothing but the log: it starts from the base's offset (or from 0
without one) and folds what follows into each world whose snapshot is older than the
message. A rep written in an earlier round did not change until the base's round
(every change makes it part of the next round), so its snapshot counts as of the
base's offset. A snapshot that was lost costs reading more of the log, never a
wrong total.

The base's customer histories (``domain.customers``) hold every deal of the company,
so the base's entry does not carry them: each customer whose history changed since
the last round has an entry of its own (``CUSTOMER`` + its id), written before the
base, and a restored base takes them back. A base written before this (holding them
all) is read as it is, and its customers are written as entries at the next round.

Each round also writes the partition's heatmap sums (``HEAT``) before the base, so
that a restore can leave the worlds encoded until they are needed
(``streams.state.worlds``) instead of decoding every one to count the heatmap
again. The sums serve only a restore whose every snapshot is as of the base's
round; any other restore decodes every world and counts again.

A snapshot larger than one message (``LIMIT``; the base grows with the company's
targets) is written in parts: ``<name>\n1`` ... ``<name>\n<n-1>``,
then the entry ``<name>`` itself, which holds the first part, how many there are and
a digest of the whole. Parts of an unfinished round do not match the digest of the
entry before them: that snapshot counts as lost.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields
from decimal import Decimal
from functools import cached_property
from hashlib import blake2b

import msgspec
from pydantic import TypeAdapter

from domain.frozen import updated
from domain.pmap import PMap
from domain.world import Buyer, World, own_part
from projections.heatcells import CellKey
from streams.state.codec import (
    LIMIT,
    MARK,
    OFFSET,
    decode_snapshot,
    decoded,
    encode_snapshot,
    encoded,
)
from streams.state.pieces import Ref, RepPieces, RepSnapshot, decode_rep, gathered
from streams.state.routing import BROADCAST
from streams.state.tables import table_key

log = logging.getLogger(__name__)

# The name of a customer's history entry: its id after this (no identifier starts
# with a space, so no rep's name does).
CUSTOMER = " customer/"
BUYERS: TypeAdapter[tuple[Buyer, ...]] = TypeAdapter(tuple[Buyer, ...])
# The name of the partition's heatmap sums (no identifier starts with a space).
HEAT = " heat"
HeatSums = Mapping[CellKey, tuple[Decimal, int]]
# A heatmap cell as its entry keeps it: period, region, product line, revenue, deals.
HEAT_ROWS: TypeAdapter[list[tuple[str, str, str, Decimal, int]]] = TypeAdapter(
    list[tuple[str, str, str, Decimal, int]]
)


def encode_buyers(offset: int, buyers: tuple[Buyer, ...]) -> bytes:
    return encoded(offset, BUYERS, buyers)


# Histories are read back with msgspec into the same tuples (tested): 1.9 us a
# history of six deals against 4.9 with pydantic, and a restore reads every
# customer's history of the company once.
_BUYERS_JSON = msgspec.json.Decoder(tuple[Buyer, ...])


def decode_buyers(value: bytes) -> tuple[int, tuple[Buyer, ...]]:
    return decoded(_BUYERS_JSON, value)


def encode_heat(offset: int, sums: HeatSums) -> bytes:
    rows = [(*key, revenue, deals) for key, (revenue, deals) in sums.items()]
    return encoded(offset, HEAT_ROWS, rows)


def decode_heat(value: bytes) -> tuple[int, dict[CellKey, tuple[Decimal, int]]]:
    offset, rows = decoded(HEAT_ROWS, value)
    return offset, {(p, r, line): (revenue, n) for p, r, line, revenue, n in rows}


class SharedHistories:
    """Customer histories as the last restore decoded them, by a digest of their
    entry's body (the entry without its offset).

    Every rep partition keeps the whole company's customer histories (each one folds
    every deal's ``CustomerSeen``), so a worker's partitions checkpoint the same
    history, each under its own offset, and a worker that took its partitions
    decoded every history once per partition: after 100,000 events of 1,000 reps,
    16,741 histories in each of six partitions, all six bodies alike for each. A
    history is a tuple of ``Buyer`` tuples, which nothing changes, so the partitions
    share one. Only the last restore's are kept: what this holds is bounded by one
    partition's histories, and a body that changed since is decoded again."""

    def __init__(self) -> None:
        # 16 bytes a history, not its body (171 bytes at the median).
        self._last: dict[bytes, tuple[Buyer, ...]] = {}

    def decoded(
        self, entries: Iterable[tuple[str, bytes]]
    ) -> dict[str, tuple[Buyer, ...]]:
        """Each entry's history by its name, decoded unless the last restore had
        the same body."""
        kept: dict[bytes, tuple[Buyer, ...]] = {}
        found = {}
        for name, value in entries:
            body = _digest(value[OFFSET.size :])
            history = self._last.get(body)
            if history is None:
                history = decode_buyers(value)[1]
            kept[body] = found[name] = history
        self._last = kept
        return found


HISTORIES = SharedHistories()
"""The worker's: restores run one partition after another, each after the last."""


class BaseEntry:
    """A partition's base as the last round encoded it, and what it was made of.

    The base is written every round, since its offset is where recovery starts, but
    most rounds change only the customers' histories, which have entries of their
    own: then the company facts are the same objects as before (the fold replaces
    what it changes), and the entry is the one made before under the new offset.
    In a 20,000-event ``bench stream``, encoding the bases took 1.62 s of the 5.4 s
    spent encoding worlds (57 bases of about 600 KB)."""

    def __init__(self) -> None:
        self._made_of: tuple[object, ...] = ()
        self._entry = b""

    @classmethod
    def restored(cls, base: World, entry: bytes) -> BaseEntry:
        """The entry a restore read ``base`` from (its customers' histories apart):
        a worker's first round after it takes a partition writes it again rather
        than encode the company facts it just decoded (0.052 s a partition after
        30,000 events of 1,000 reps: 2.9 MB of JSON, most of it the target book)."""
        kept = cls()
        kept._made_of, kept._entry = _made_of(base), entry
        return kept

    def entry(self, offset: int, base: World) -> bytes:
        """The entry of ``base`` without its customers' histories, at ``offset``."""
        made_of = _made_of(base)
        same = len(made_of) == len(self._made_of) and all(
            now is was for now, was in zip(made_of, self._made_of, strict=True)
        )
        if not same:
            bare = updated(base, customers=PMap[str, tuple[Buyer, ...]]())
            self._entry, self._made_of = encode_snapshot(offset, bare), made_of
        return OFFSET.pack(offset) + self._entry[OFFSET.size :]


# What a base's entry is made of: every field of its world but the customers.
_BASE_FIELDS = tuple(f.name for f in fields(World) if f.name != "customers")


def _made_of(base: World) -> tuple[object, ...]:
    return tuple(getattr(base, name) for name in _BASE_FIELDS)


def snapshot_round(  # noqa: PLR0913 - a round's state, and what the last one wrote
    partition: int,
    offset: int,
    base: World,
    changed: Mapping[str, World],
    customers: Iterable[str],
    kept: BaseEntry | None = None,
    heat: HeatSums | None = None,
    *,
    pieces: RepPieces | None = None,
) -> list[tuple[bytes, bytes]]:
    """The table entries of one round: the changed reps' own parts of their worlds
    (the pieces that changed since ``pieces`` last wrote them, then each head:
    ``streams.state.pieces``), the histories of the ``customers`` that changed, the
    partition's heatmap sums (``heat``, when given), then the base (the company
    facts but those histories), each in parts where it is too large for one message.
    ``kept``: the partition's base as the round before encoded it."""
    pieces = RepPieces() if pieces is None else pieces
    named = [
        # The company facts are the base's, written once.
        item
        for rep_id, world in sorted(changed.items())
        for item in pieces.entries(rep_id, own_part(world), offset)
    ]
    named += [
        (CUSTOMER + customer, encode_buyers(offset, base.customers.get(customer, ())))
        for customer in sorted(customers)
    ]
    if heat is not None:
        named.append((HEAT, encode_heat(offset, heat)))
    kept = BaseEntry() if kept is None else kept
    named.append((BROADCAST, kept.entry(offset, base)))
    return [
        (table_key(partition, name), value)
        for whole_name, whole in named
        for name, value in in_parts(whole_name, whole)
    ]


# Where an entry's offset would be: no offset is that large.
_HEAD = b"QFPARTS1"
_COUNT = struct.Struct(">I")
_DIGEST_SIZE = 16
_HEAD_SIZE = len(_HEAD) + _COUNT.size + _DIGEST_SIZE
PART_MARK = MARK


def in_parts(name: str, value: bytes) -> Iterator[tuple[str, bytes]]:
    """``value`` as entries of at most ``LIMIT`` bytes: itself, or its parts after
    the first, then ``name`` holding the first part, their count and a digest."""
    if len(value) <= LIMIT:
        yield name, value
        return
    size = LIMIT - _HEAD_SIZE
    parts = [value[at : at + size] for at in range(0, len(value), size)]
    for number, part in enumerate(parts[1:], start=1):
        yield f"{name}{PART_MARK}{number}", part
    head = _HEAD + _COUNT.pack(len(parts)) + _digest(value)
    yield name, head + parts[0]


def joined(entries: Mapping[str, bytes]) -> tuple[dict[str, bytes], set[str]]:
    """The entries by name with their parts put together, and the names of those
    whose parts are missing or from another round: lost snapshots, left out."""
    found, lost = {}, set()
    for name, value in entries.items():
        if _is_part(name):
            continue
        whole = _whole(name, value, entries) if value.startswith(_HEAD) else value
        if whole is None:
            lost.add(name)
        else:
            found[name] = whole
    return found, lost


def _is_part(name: str) -> bool:
    """Whether ``name`` is a part of a large entry (a rep's piece is not one)."""
    return PART_MARK in name and name.rpartition(PART_MARK)[2].isdigit()


def _whole(name: str, head: bytes, entries: Mapping[str, bytes]) -> bytes | None:
    (count,) = _COUNT.unpack_from(head, len(_HEAD))
    digest = head[len(_HEAD) + _COUNT.size : _HEAD_SIZE]
    parts = [entries.get(f"{name}{PART_MARK}{n}") for n in range(1, count)]
    whole = head[_HEAD_SIZE:] + b"".join(part or b"" for part in parts)
    if None in parts or _digest(whole) != digest:
        log.warning("snapshot %s left out: its %d parts do not match", name, count)
        return None
    return whole


def _digest(value: bytes) -> bytes:
    return blake2b(value, digest_size=_DIGEST_SIZE).digest()


class Restored:
    """The worlds a partition's snapshots hold, and from which offset each is due."""

    def __init__(self, entries: Mapping[str, bytes]) -> None:
        """From one partition's ``rep-worlds`` entries, by name. When one of them
        is lost, none is used: the base's offset vouches for every world as of it,
        and a lost world's history before that offset is in the log alone (a round
        that stopped in the middle of a world's parts leaves its entry naming the
        round before's, and a head whose pieces are not all there is lost too). The
        partition is then folded from the start of its log."""
        whole, lost = joined(entries)
        heads = _heads(whole, lost)
        if lost:
            log.warning("the checkpoint's %s lost: its partition is folded from "
                        "the start of its log", ", ".join(sorted(lost)))  # fmt: skip
            whole, heads = {}, {}
        histories = HISTORIES.decoded(
            (name.removeprefix(CUSTOMER), whole.pop(name))
            for name in [name for name in whole if name.startswith(CUSTOMER)]
        )
        heat = whole.pop(HEAT, None)
        base_entry = whole.pop(BROADCAST, None)
        base = decode_snapshot(base_entry) if base_entry is not None else None
        self.base = base[1] if base is not None else None
        # Customers a base of an older round held itself: the next round writes
        # them as entries, since its base will not hold them.
        self.inline = set(self.base.customers) if self.base is not None else set()
        # The base's entry as read, for the next round to write again (not one
        # that held its customers' histories).
        held_none = base is not None and not self.inline
        self.base_entry = base_entry if held_none else None
        if self.base is not None and histories:
            held = {**self.base.customers.to_dict(), **histories}
            self.base = updated(self.base, customers=PMap(held))
        self.start = base[0] + 1 if base is not None else 0
        # Each rep's snapshot as read (``worlds`` decodes them all), and the pieces
        # its head names (for the next round's, ``RepPieces.restored``).
        self.entries = {rep: snapshot for rep, (snapshot, _) in heads.items()}
        self.refs = {rep: refs for rep, (_, refs) in heads.items() if refs}
        offsets = {rep: snapshot.offset for rep, snapshot in self.entries.items()}
        # Without a base round every snapshot is from an unfinished round: each
        # world still counts from its own offset.
        self.as_of = {
            rep: max(offset, self.start - 1) for rep, offset in offsets.items()
        }
        self.as_of[BROADCAST] = self.start - 1
        # The heatmap sums, when every snapshot is as of the round that wrote them
        # (a round that stopped before its base leaves newer worlds and sums).
        self.heat: dict[CellKey, tuple[Decimal, int]] | None = None
        if heat is not None and base is not None:
            at, sums = decode_heat(heat)
            if at == base[0] and all(o <= at for o in offsets.values()):
                self.heat = sums

    @cached_property
    def worlds(self) -> dict[str, World]:
        """Every rep's world, decoded."""
        return {rep: decode_rep(rep, entry)[1] for rep, entry in self.entries.items()}

    def is_due(self, rep_id: str, offset: int) -> bool:
        """Whether the world of ``rep_id`` still has to fold the message at
        ``offset`` (a rep without a snapshot starts from the base)."""
        return offset > self.as_of.get(rep_id, -1)


def _heads(
    whole: dict[str, bytes], lost: set[str]
) -> dict[str, tuple[RepSnapshot, list[Ref]]]:
    """Each rep's head with the pieces it names (taken out of ``whole``, with the
    pieces no head names), by rep; a rep whose pieces are not all there is ``lost``."""
    pieces = {name: whole.pop(name) for name in [n for n in whole if MARK in n]}
    heads = {}
    for rep in [n for n in whole if n not in {BROADCAST, HEAT}]:
        if rep.startswith(CUSTOMER):
            continue
        found = gathered(rep, whole.pop(rep), pieces)
        if found is None:
            log.warning("snapshot %s left out: a piece its head names is missing "
                        "or from another round", rep)  # fmt: skip
            lost.add(rep)
        else:
            heads[rep] = found
    return heads
