"""A persistent map, so the fold can remember every event it applied at O(log n) a step.

The fold is pure: each event returns a new state and never mutates the old one. The set
of applied event ids grows with the stream (100,000+ on a busy tenant), and copying it
per event (``{**seen, event_id: mark}``) makes a replay quadratic. ``PMap`` shares all
but one path of its trie between versions, so an update copies a few small nodes.

Layout: a hash trie. A node is a 32-tuple indexed by five bits of the key's hash; a leaf
("bucket") is a small dict copied on write. A bucket holds at most ``_CAP`` keys
unless all of its keys have the same hash, where splitting could never separate them;
the dict then resolves the collision by equality, exactly as ``dict`` does. Every empty
slot holds the one shared ``_EMPTY`` dict, which is never mutated.
"""

from __future__ import annotations

from collections.abc import Hashable, ItemsView, Iterable, Iterator, Mapping, ValuesView
from typing import Any, ClassVar, TypeAlias, TypeVar, get_args, overload

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

_Bucket: TypeAlias = dict[Any, Any]
_Node: TypeAlias = tuple["_Node | _Bucket", ...]
_Trie: TypeAlias = "_Node | _Bucket"

_BITS = 5
_MASK = (1 << _BITS) - 1
# 16, 32 and 64 measured alike for set and get on 100k and 1M keys; 32 keeps a map of
# up to 32 entries a single dict.
_CAP = 32
_EMPTY: _Bucket = {}
_MISSING: Any = object()


def _split(bucket: _Bucket, shift: int) -> _Trie:
    """Turn a bucket that outgrew ``_CAP`` into a node (recursively), unless every key
    has one hash: then no bit can tell them apart and the bucket stays as it is."""
    hashes = [hash(key) for key in bucket]
    if hashes.count(hashes[0]) == len(hashes):
        return bucket
    slots: list[_Bucket] = [{} for _ in range(_MASK + 1)]
    for (key, value), key_hash in zip(bucket.items(), hashes, strict=True):
        slots[(key_hash >> shift) & _MASK][key] = value
    return tuple(
        _EMPTY if not s else s if len(s) <= _CAP else _split(s, shift + _BITS)
        for s in slots
    )


def _compact(node: _Node) -> _Trie:
    """After a delete, fold a node of small buckets back into one bucket, so a map that
    shrinks does not keep the depth (and the lookup cost) of its largest version."""
    buckets: list[_Bucket] = []
    total = 0
    for child in node:
        if not isinstance(child, dict):
            return node
        total += len(child)
        if total > _CAP:
            return node
        buckets.append(child)
    merged: _Bucket = {}
    for bucket in buckets:
        merged.update(bucket)
    return merged or _EMPTY


def _buckets(root: _Trie) -> Iterator[_Bucket]:
    """Leaves in slot order: the same operations give the same order in one process."""
    stack = [root]
    while stack:
        top = stack.pop()
        if isinstance(top, dict):
            yield top
        else:
            stack.extend(reversed(top))


def _descend(root: _Trie, key_hash: int) -> tuple[list[_Node], _Bucket]:
    """The inner nodes on the way to ``key_hash``'s bucket, and the bucket."""
    nodes: list[_Node] = []
    node, bits = root, key_hash
    while isinstance(node, tuple):
        nodes.append(node)
        node = node[bits & _MASK]
        bits >>= _BITS
    return nodes, node


class PMap(Mapping[K, V]):
    """An immutable ``Mapping``: ``set`` and ``delete`` return a new map sharing the
    unchanged parts of this one.

    Order of iteration follows the trie (hash bits), then insertion within a bucket: it
    is repeatable for the same operations in one process, but ``str`` hashes are salted
    per process, so callers that need a stable order across runs sort.

    Not hashable, like ``dict``: a content hash would cost O(n) per call and fail on
    unhashable values, and nothing in the fold needs one.
    """

    __slots__ = ("_root", "_size")
    __hash__: ClassVar[None]  # type: ignore[assignment]  # as typeshed spells dict's

    _root: _Trie
    _size: int

    def __init__(self, source: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        if isinstance(source, PMap):
            self._root, self._size = source._root, source._size
            return
        entries = dict(source)
        self._size = len(entries)
        if not entries:
            self._root = _EMPTY
        elif len(entries) <= _CAP:
            self._root = entries
        else:
            self._root = _split(entries, 0)

    @classmethod
    def of(cls, source: Mapping[K, V] | Iterable[tuple[K, V]]) -> PMap[K, V]:
        """Build from a mapping or ``(key, value)`` pairs (last pair wins) in O(n);
        a ``PMap`` is returned as it is, since it cannot change."""
        return source if type(source) is PMap else cls(source)

    def set(self, key: K, value: V) -> PMap[K, V]:
        """A map with ``key`` bound to ``value``.

        When ``value`` *is* the current value the map itself is returned. An equal but
        different object is stored, because equal is not the same here
        (``Decimal("1.0") == Decimal("1.00")``, ``1 == True``): ``m.set(k, v)[k] is v``
        always holds, as for ``dict``."""
        key_hash = hash(key)
        nodes, node = _descend(self._root, key_hash)
        old = node.get(key, _MISSING)
        if old is value:
            return self
        bucket = node.copy()
        bucket[key] = value
        child: _Trie = bucket
        size, shift = self._size, _BITS * len(nodes)
        if old is _MISSING:
            size += 1
            if len(bucket) > _CAP:
                child = _split(bucket, shift)
        while nodes:
            shift -= _BITS
            slots = list(nodes.pop())
            slots[(key_hash >> shift) & _MASK] = child
            child = tuple(slots)
        made: PMap[K, V] = PMap.__new__(PMap)
        made._root, made._size = child, size
        return made

    def delete(self, key: K) -> PMap[K, V]:
        """A map without ``key``; the map itself when the key is absent."""
        key_hash = hash(key)
        nodes, node = _descend(self._root, key_hash)
        if key not in node:
            return self
        bucket = node.copy()
        del bucket[key]
        child: _Trie = bucket or _EMPTY
        shift = _BITS * len(nodes)
        while nodes:
            shift -= _BITS
            slots = list(nodes.pop())
            slots[(key_hash >> shift) & _MASK] = child
            child = _compact(tuple(slots)) if isinstance(child, dict) else tuple(slots)
        made: PMap[K, V] = PMap.__new__(PMap)
        made._root, made._size = child, self._size - 1
        return made

    def __getitem__(self, key: K) -> V:
        key_hash, node = hash(key), self._root
        while isinstance(node, tuple):
            node = node[key_hash & _MASK]
            key_hash >>= _BITS
        value: V = node[key]
        return value

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | T, /) -> V | T: ...
    def get(self, key: K, default: object = None, /) -> object:
        key_hash, node = hash(key), self._root
        while isinstance(node, tuple):
            node = node[key_hash & _MASK]
            key_hash >>= _BITS
        return node.get(key, default)

    def __contains__(self, key: object) -> bool:
        key_hash, node = hash(key), self._root
        while isinstance(node, tuple):
            node = node[key_hash & _MASK]
            key_hash >>= _BITS
        return key in node

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[K]:
        for bucket in _buckets(self._root):
            yield from bucket

    def values(self) -> ValuesView[V]:
        return _Values(self)

    def items(self) -> ItemsView[K, V]:
        return _Items(self)

    def to_dict(self) -> dict[K, V]:
        """A plain ``dict`` copy, in iteration order."""
        out: dict[K, V] = {}
        for bucket in _buckets(self._root):
            out.update(bucket)
        return out

    def __eq__(self, other: object) -> bool:
        """Equal to any ``Mapping`` with the same items, whatever the order."""
        if not isinstance(other, Mapping):
            return NotImplemented
        if isinstance(other, PMap) and other._root is self._root:
            return True
        if len(other) != self._size:
            return False
        lookup = other.get
        for bucket in _buckets(self._root):
            for key, value in bucket.items():
                theirs = lookup(key, _MISSING)
                if theirs is not value and (theirs is _MISSING or value != theirs):
                    return False
        return True

    def __repr__(self) -> str:
        return f"PMap({self.to_dict()!r})"

    def __copy__(self) -> PMap[K, V]:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle (and deepcopy) the items, not the trie: str hashes differ per process.
        return (PMap, (self.to_dict(),))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validate a dict into a ``PMap`` (a ``PMap`` passes as it is, so building a
        state model does not re-check 100,000 entries); dump as a plain dict."""
        key_type, value_type = get_args(source_type) or (Any, Any)
        # The entry types are only known at runtime, which mypy cannot follow.
        as_dict = handler.generate_schema(dict[key_type, value_type])  # type: ignore[valid-type]
        from_dict = core_schema.no_info_after_validator_function(cls, as_dict)
        return core_schema.json_or_python_schema(
            json_schema=from_dict,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), from_dict], mode="left_to_right"
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                PMap.to_dict, return_schema=as_dict
            ),
        )


class _Values(ValuesView[V]):
    __slots__ = ("_pmap",)

    def __init__(self, pmap: PMap[Any, V]) -> None:
        super().__init__(pmap)
        self._pmap = pmap

    def __iter__(self) -> Iterator[V]:
        for bucket in _buckets(self._pmap._root):
            yield from bucket.values()


class _Items(ItemsView[K, V]):
    __slots__ = ("_pmap",)

    def __init__(self, pmap: PMap[K, V]) -> None:
        super().__init__(pmap)
        self._pmap = pmap

    def __iter__(self) -> Iterator[tuple[K, V]]:
        for bucket in _buckets(self._pmap._root):
            yield from bucket.items()
