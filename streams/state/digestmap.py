"""A map from 64-bit digests to 64-bit digests in flat arrays: the claims of every
event id an app has passed live for as long as the app (``streams.state.claims``),
and a ``dict`` of ``int`` to ``int`` takes about 141 bytes a pair here (two int
objects and a slot), against 21 to 43 bytes in these arrays.

Open addressing with linear probing over two ``array("Q")``, in 256 shards chosen by
a key's top byte: a shard doubles when three quarters full, so growing moves one
shard's pairs at a time (about 20,000 of 5,000,000), never the whole map at once on
the hot path. A key is a digest (uniform bits), so its low bits are its slot.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

_SHARD_BITS = 8
_SHIFT = 64 - _SHARD_BITS
_FIRST = 16  # slots of a shard before it first grows
_EMPTY = 0
# The one key an empty slot cannot tell apart is stored as another (a digest is 0 or
# this with probability 2^-64 each; the two then share a value, as two ids that
# share a digest do).
_ZERO_AS = 0x9E3779B97F4A7C15


class _Shard:
    __slots__ = ("keys", "mask", "size", "values")

    def __init__(self, slots: int) -> None:
        self.keys = array("Q", bytes(8 * slots))
        self.values = array("Q", bytes(8 * slots))
        self.mask = slots - 1
        self.size = 0

    def slot(self, key: int) -> int:
        """Where ``key`` is, or the empty slot where it would go."""
        keys, mask = self.keys, self.mask
        at = key & mask
        while True:
            found = keys[at]
            if found in (key, _EMPTY):
                return at
            at = (at + 1) & mask

    def grown(self) -> _Shard:
        bigger = _Shard(2 * (self.mask + 1))
        for key, value in zip(self.keys, self.values, strict=True):
            if key != _EMPTY:
                at = bigger.slot(key)
                bigger.keys[at], bigger.values[at] = key, value
        bigger.size = self.size
        return bigger


class DigestMap:
    """``dict[int, int]`` for 64-bit unsigned keys and values, in flat arrays."""

    __slots__ = ("_shards",)

    def __init__(self, pairs: Iterable[tuple[int, int]] = ()) -> None:
        self._shards = [_Shard(_FIRST) for _ in range(1 << _SHARD_BITS)]
        self.update(pairs)

    def get(self, key: int) -> int | None:
        key, index, at = self._find(key)
        shard = self._shards[index]
        return None if shard.keys[at] == _EMPTY else shard.values[at]

    def __setitem__(self, key: int, value: int) -> None:
        self.update(((key, value),))

    def first(self, key: int, value: int) -> int | None:
        """The value ``key`` already has; when it has none, ``value`` is stored and
        None is returned (one probe, where ``get`` then a store take two)."""
        key, index, at = self._find(key)
        shard = self._shards[index]
        if shard.keys[at] == _EMPTY:
            self._insert(index, at, key, value)
            return None
        return shard.values[at]

    def _find(self, key: int) -> tuple[int, int, int]:
        """``key`` as it is stored, its shard and its slot there (empty when the
        map does not hold it)."""
        key = key or _ZERO_AS
        index = key >> _SHIFT
        return key, index, self._shards[index].slot(key)

    def _insert(self, index: int, at: int, key: int, value: int) -> None:
        """Store ``key``, not yet in shard ``index``, at its empty slot ``at``,
        growing the shard first when it is three quarters full."""
        shard = self._shards[index]
        if 4 * (shard.size + 1) > 3 * (shard.mask + 1):
            shard = self._shards[index] = shard.grown()
            at = shard.slot(key)
        shard.keys[at], shard.values[at] = key, value
        shard.size += 1

    def reserve(self, count: int) -> None:
        """Room for ``count`` more keys without growing one shard at a time (a
        shard's share, a quarter more for the spread between shards)."""
        share = (count >> _SHARD_BITS) * 5 // 4
        for index, had in enumerate(self._shards):
            shard = had
            while 4 * (shard.size + share) > 3 * (shard.mask + 1):
                shard = shard.grown()
            self._shards[index] = shard

    def update(self, pairs: Iterable[tuple[int, int]]) -> None:
        """``self[key] = value`` for each pair, the probing written out: a restore
        loads every claim ever made this way."""
        shards = self._shards
        for pair_key, value in pairs:
            key = pair_key or _ZERO_AS
            index = key >> _SHIFT
            shard = shards[index]
            if 4 * (shard.size + 1) > 3 * (shard.mask + 1):
                shard = shards[index] = shard.grown()
            keys, mask = shard.keys, shard.mask
            at = key & mask
            while (found := keys[at]) != key and found != _EMPTY:
                at = (at + 1) & mask
            if found == _EMPTY:
                keys[at] = key
                shard.size += 1
            shard.values[at] = value

    def __len__(self) -> int:
        return sum(shard.size for shard in self._shards)

    def items(self) -> Iterator[tuple[int, int]]:
        for shard in self._shards:
            for key, value in zip(shard.keys, shard.values, strict=True):
                if key != _EMPTY:
                    yield key, value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DigestMap):
            return NotImplemented
        return len(self) == len(other) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]  # mutable, as dict
