"""A rep's snapshot in pieces, so that a round writes what changed since the last
one rather than the rep's whole history.

A rep's world keeps, besides a few running figures, four maps that grow with its
history: its deals, its stakes in them (``positions``, one map per rep the world
holds), and the digests of the events and facts it applied (``seen``, ``facts``).
A round used to encode the whole world of every rep that changed: after a year of
1,037 stakes that is 1.6 MB of JSON, 11 ms to encode and compress, for a rep whose
one new payment changed a few hundred bytes of it.

Each of those maps (unless it is small: ``SMALL``) is now cut into buckets of about
``PER_PIECE`` entries by a stable hash of the key, and each bucket is an entry of
its own (a piece). A round writes the pieces whose entries changed since the round
before (found by identity: the fold replaces what it changes, so an entry that is
the same object is the same entry), then the rep's head: the world without those
maps, with the list of the pieces that make it up, each with its slot and the
offset it was written at. A rep whose positions are in pieces has its deals'
close-time order and credits put back from them (``domain.rep.in_close_order``), so
the head does not carry them.

Each piece has two slots, and a round writes a changed piece to the slot its last
head does not name. A round that stops after some pieces and before the head leaves
the head before it and the pieces that head names as they were. A restore takes a
rep's head and the pieces it names; a named piece that is missing or carries
another offset makes the snapshot lost (``streams.state.snapshots.Restored``).

Pieces are named ``<rep>\\n<kind>.<bucket>.<slot>/<rep of the positions>``: a line
break is in no identifier, and the name never ends in a line break and digits, as a
large entry's parts do (``streams.state.snapshots.in_parts``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from pydantic import BaseModel

from domain.frozen import updated
from domain.pmap import PMap
from domain.rep import Position, in_close_order
from domain.world import WORLD, DealRecord, World
from streams.state.codec import (
    MARK,
    OFFSET,
    WORLD_JSON,
    body_json,
    decode_snapshot,
    entry,
)

# Entries a piece holds, about (a bucket holds between a quarter and twice this).
PER_PIECE = 64
# A map with fewer entries stays in the head (the positions of a partner in a few
# split deals: a piece each would be many small messages).
SMALL = PER_PIECE // 4
# After an entry's offset: this, the length of the pieces' list, the list, then the
# world without the maps in pieces. A whole world's entry has its JSON there.
HEAD_MARK = b"QFHEAD1:"
_LENGTH = struct.Struct(">I")
_AFTER_MARK = OFFSET.size + len(HEAD_MARK)

# A map kept in pieces: its kind and, for positions, the rep whose they are.
Path = tuple[str, str]
# A piece as a head lists it: kind, rep of the positions (or ""), buckets of the
# map, bucket, slot, offset written at.
Ref = tuple[str, str, int, int, int, int]
_REFS = msgspec.json.Decoder(list[tuple[str, str, int, int, int, int]])


def _models(kind: type, value: Any) -> Any:
    """A plan's section inside a piece (a deal's SPIFF window): a pydantic model,
    which msgspec leaves to its own validation."""
    if issubclass(kind, BaseModel):
        return kind.model_validate(value)
    msg = f"a piece cannot hold a {kind.__name__}"
    raise TypeError(msg)


# Pieces are decoded with msgspec: the JSON ``WORLD_JSON`` wrote, into the same
# records pydantic's ``WORLD`` gives (tested), 2.4 times as fast (a rep's 377
# positions: 2.3 ms against 5.5; its 377 deals 1.4 against 3.4), and a restore
# decodes the pieces of every rep a message touches.
_KINDS: dict[str, msgspec.json.Decoder[Any]] = {
    "deals": msgspec.json.Decoder(dict[str, DealRecord], dec_hook=_models),
    "seen": msgspec.json.Decoder(dict[int, int]),
    "facts": msgspec.json.Decoder(dict[int, int]),
    "positions": msgspec.json.Decoder(dict[str, Position], dec_hook=_models),
}
_EMPTY: PMap[Any, Any] = PMap()


def piece_name(rep_id: str, kind: str, of: str, bucket: int, slot: int) -> str:
    return f"{rep_id}{MARK}{kind}.{bucket}.{slot}/{of}"


def _maps(world: World) -> dict[Path, PMap[Any, Any]]:
    """The maps of ``world`` kept in pieces, by path."""
    maps: dict[Path, PMap[Any, Any]] = {
        ("deals", ""): world.deals,
        ("seen", ""): world.seen,
        ("facts", ""): world.facts,
    }
    for rep_id, rep in world.reps.items():
        maps["positions", rep_id] = rep.positions
    return maps


def _bare(world: World, pieced: Iterable[Path]) -> World:
    """``world`` without the maps kept in pieces (what its head holds)."""
    reps, owned = world.reps, {}
    for kind, of in pieced:
        if kind == "positions":
            # The year's order and credits follow from the positions (``decode_rep``).
            bare = updated(reps[of], positions=_EMPTY, order={}, credits={})
            reps = reps.set(of, bare)
        else:
            owned[kind] = _EMPTY
    return updated(world, reps=reps, **owned)


def _bucket(key: str | int, buckets: int) -> int:
    """A key's bucket: the same in every process (``hash`` of a ``str`` is not)."""
    if isinstance(key, int):  # a digest already
        return key & (buckets - 1)
    return zlib.crc32(key.encode()) & (buckets - 1)


def _buckets(size: int, was: int | None) -> int:
    """How many buckets a map of ``size`` entries is cut into: a power of two,
    kept while each holds between a quarter of ``PER_PIECE`` and twice it (every
    piece is written again when it changes)."""
    if was is not None and was * PER_PIECE // 4 <= size <= was * PER_PIECE * 2:
        return was
    buckets = 1
    while buckets * PER_PIECE < size:
        buckets *= 2
    return buckets


@dataclass
class _Written:
    """What the rounds last wrote of one rep: each map as it was (none for a rep
    whose pieces a restore read), and where each piece is."""

    maps: dict[Path, PMap[Any, Any]] = field(default_factory=dict)
    buckets: dict[Path, int] = field(default_factory=dict)
    # (path, bucket) -> (slot, offset written at)
    refs: dict[tuple[Path, int], tuple[int, int]] = field(default_factory=dict)


class RepPieces:
    """What one partition's rounds wrote of each rep, so the next writes only the
    pieces that changed. Owned by the partition's state: a partition rebuilt
    starts from the pieces its restore read (``restored``)."""

    def __init__(self) -> None:
        self._written: dict[str, _Written] = {}

    def restored(self, refs: Mapping[str, list[Ref]]) -> None:
        """The pieces the restored heads name: a rep's next round writes every
        piece again, each to the slot its head does not name."""
        for rep_id, listed in refs.items():
            written = self._written[rep_id] = _Written()
            for kind, of, buckets, bucket, slot, at in listed:
                written.buckets[kind, of] = buckets
                written.refs[(kind, of), bucket] = (slot, at)

    def decoded(self, rep_id: str, world: World) -> None:
        """``world`` (a rep's own part) as decoded from the pieces its restored
        head names: the rep's next round finds what changed against its maps, as
        against a round's, and writes only those pieces (else every piece of a rep
        a restore's tail touched is written again: a fifth of the hot thread's time
        in a restart after 300,000 events of 1,000 reps)."""
        written = self._written.get(rep_id)
        if written is None or written.maps:
            return
        maps = _maps(world)
        written.maps = {path: maps[path] for path in written.buckets if path in maps}

    def entries(
        self, rep_id: str, world: World, offset: int
    ) -> list[tuple[str, bytes]]:
        """The entries of ``world`` (a rep's own part) at ``offset``: its changed
        pieces, then its head."""
        was = self._written.get(rep_id, _Written())
        now = _Written(maps=_maps(world))
        named: list[tuple[str, bytes]] = []
        for path, current in now.maps.items():
            if len(current) < SMALL:
                continue
            buckets = now.buckets[path] = _buckets(len(current), was.buckets.get(path))
            before = was.maps.get(path)
            changed = None  # every bucket
            if before is not None and buckets == was.buckets.get(path):
                keys = current.changed_since(before)
                changed = {_bucket(key, buckets) for key in keys}
            for bucket, items in _grouped(current, buckets, changed).items():
                where = (path, bucket)
                slot = 1 - was.refs[where][0] if where in was.refs else 0
                name = piece_name(rep_id, *path, bucket, slot)
                named.append((name, entry(offset, WORLD_JSON.encode(items))))
                now.refs[where] = (slot, offset)
            for bucket in range(buckets):
                where = (path, bucket)
                if changed is not None and bucket not in changed and where in was.refs:
                    now.refs[where] = was.refs[where]
        named.append((rep_id, _head(offset, now, _bare(world, now.buckets))))
        self._written[rep_id] = now
        return named


def _grouped(
    current: PMap[Any, Any], buckets: int, changed: set[int] | None
) -> dict[int, dict[Any, Any]]:
    """The entries of the ``changed`` buckets (every one for None), by bucket."""
    if changed is not None and not changed:
        return {}
    groups: dict[int, dict[Any, Any]] = {}
    for key, value in current.items():
        bucket = _bucket(key, buckets)
        if changed is None or bucket in changed:
            groups.setdefault(bucket, {})[key] = value
    return groups


def _head(offset: int, written: _Written, bare: World) -> bytes:
    refs = [
        (kind, of, written.buckets[kind, of], bucket, slot, at)
        for ((kind, of), bucket), (slot, at) in sorted(written.refs.items())
    ]
    listed = msgspec.json.encode(refs)
    whole = entry(offset, WORLD_JSON.encode(bare))
    return b"".join(
        (
            whole[: OFFSET.size],
            HEAD_MARK,
            _LENGTH.pack(len(listed)),
            listed,
            whole[OFFSET.size :],
        )
    )


def head_refs(value: bytes) -> list[Ref] | None:
    """The pieces a head names; None for an entry that holds a whole world (as
    every rep's did before pieces)."""
    if value[OFFSET.size : _AFTER_MARK] != HEAD_MARK:
        return None
    (length,) = _LENGTH.unpack_from(value, _AFTER_MARK)
    start = _AFTER_MARK + _LENGTH.size
    return _REFS.decode(value[start : start + length])


@dataclass(frozen=True)
class RepSnapshot:
    """A rep's head as read, with the pieces it names, by name."""

    head: bytes
    pieces: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        return int(OFFSET.unpack_from(self.head)[0])


def gathered(
    rep_id: str, head: bytes, entries: Mapping[str, bytes]
) -> tuple[RepSnapshot, list[Ref]] | None:
    """``head`` with the pieces it names, taken from ``entries``, and its list of
    them; None when one is missing or carries another offset (a lost snapshot)."""
    refs = head_refs(head)
    if refs is None:
        return RepSnapshot(head), []
    pieces = {}
    for kind, of, _, bucket, slot, at in refs:
        name = piece_name(rep_id, kind, of, bucket, slot)
        value = entries.get(name)
        if kind not in _KINDS or value is None or OFFSET.unpack_from(value)[0] != at:
            return None
        pieces[name] = value
    return RepSnapshot(head, pieces), refs


def decode_rep(rep_id: str, snapshot: RepSnapshot) -> tuple[int, World]:
    """The offset and the world of a rep's snapshot (a whole world's entry too)."""
    head = snapshot.head
    refs = head_refs(head)
    if refs is None:
        return decode_snapshot(head)
    (length,) = _LENGTH.unpack_from(head, _AFTER_MARK)
    world = WORLD.validate_json(body_json(head[_AFTER_MARK + _LENGTH.size + length :]))
    # Each map's pieces are JSON objects with keys of their own: their members, put
    # in one object, are validated in one call (one call a piece: 16% slower for
    # worlds of 300 stakes).
    members: dict[Path, list[bytes]] = {}
    for kind, of, _, bucket, slot, _ in refs:
        value = snapshot.pieces[piece_name(rep_id, kind, of, bucket, slot)]
        members.setdefault((kind, of), []).append(body_json(value[OFFSET.size :])[1:-1])
    reps = world.reps
    owned: dict[str, PMap[Any, Any]] = {}
    for (kind, of), parts in members.items():
        items = _KINDS[kind].decode(b"{" + b",".join(parts) + b"}")
        if kind == "positions":
            order, credits = in_close_order(items)
            rep = updated(reps[of], positions=PMap(items), order=order, credits=credits)
            reps = reps.set(of, rep)
        else:
            owned[kind] = PMap(items)
    return snapshot.offset, updated(world, reps=reps, **owned)
