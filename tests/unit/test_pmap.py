"""PMap behaves as an immutable dict, and old versions survive every update.

Keys with chosen hashes (``Key``) force a hash trie's rare shapes with few entries:
full-hash collisions, long shared hash prefixes, many keys under one prefix.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import KeysView, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from domain.pmap import PMap

# More keys than one level of a 32-way trie holds.
MANY = 33


@dataclass(frozen=True)
class Key:
    """A key whose hash is chosen: equal hashes, unequal keys."""

    name: int
    code: int

    def __hash__(self) -> int:
        return self.code


# Full collisions (same code), shared low bits (0, 32, 1 << 10, 1 << 40), both signs.
CODES = (0, 32, 1 << 10, 1 << 40, 7, -1, -(1 << 40), (1 << 62) + 7)
keys = st.one_of(
    st.builds(Key, name=st.integers(0, 40), code=st.sampled_from(CODES)),
    st.text(max_size=2),
)
ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "delete"]), st.integers(0, 10**6), keys, st.integers()
    ),
    max_size=250,
)


def _same_as(pmap: PMap[Any, int], model: dict[Any, int]) -> None:
    assert pmap == model
    assert model == pmap
    assert len(pmap) == len(model)
    assert pmap.to_dict() == model
    assert len(list(pmap)) == len(model)
    assert set(pmap) == set(model)
    assert dict(pmap.items()) == model
    assert sorted(pmap.values()) == sorted(model.values())
    for key, value in model.items():
        assert key in pmap
        assert pmap[key] == value
        assert pmap.get(key) == value


@given(ops)
def test_every_version_matches_a_dict_given_the_same_operations(
    steps: list[tuple[str, int, Any, int]],
) -> None:
    versions: list[tuple[PMap[Any, int], dict[Any, int]]] = [(PMap(), {})]
    for op, pick, key, value in steps:
        # Branch from any earlier version, not just the latest, to test persistence.
        pmap, model = versions[pick % len(versions)]
        if op == "set":
            versions.append((pmap.set(key, value), {**model, key: value}))
        else:
            assert pmap.get(key, -1) == model.get(key, -1)
            assert (key in pmap) == (key in model)
            if key not in model:
                with pytest.raises(KeyError):
                    pmap[key]
            gone = {k: v for k, v in model.items() if k != key}
            versions.append((pmap.delete(key), gone))
    for pmap, model in versions:
        _same_as(pmap, model)


@given(st.lists(st.tuples(keys, st.integers())), st.integers(0, 200))
def test_building_at_once_equals_setting_one_by_one(
    pairs: list[tuple[Any, int]], extra: int
) -> None:
    stepwise: PMap[Any, int] = PMap()
    for key, value in pairs:
        stepwise = stepwise.set(key, value)
    at_once = PMap.of(pairs)
    _same_as(at_once, dict(pairs))
    assert at_once == stepwise
    # Many keys of one hash, then a key of another hash.
    crowded = PMap.of({Key(n, 5): n for n in range(MANY + extra % 3)})
    _same_as(crowded.set(Key(0, 6), 0), {**crowded.to_dict(), Key(0, 6): 0})


def test_colliding_keys_stay_distinct_and_can_be_deleted_one_at_a_time() -> None:
    colliding = [Key(n, 42) for n in range(MANY * 3)]
    pmap: PMap[Key, int] = PMap()
    for n, key in enumerate(colliding):
        pmap = pmap.set(key, n)
    assert [pmap[k] for k in colliding] == list(range(MANY * 3))
    assert Key(-1, 42) not in pmap
    for key in colliding:
        pmap = pmap.delete(key)
        assert key not in pmap
    assert pmap == {}
    assert len(pmap) == 0
    assert list(pmap) == []


def test_many_real_string_keys_match_a_dict_and_shrink_back() -> None:
    model = {f"evt-{n}": f"mark-{n % 7}" for n in range(5000)}
    pmap: PMap[str, str] = PMap()
    for key, value in model.items():
        pmap = pmap.set(key, value)
    assert pmap == model
    assert PMap.of(model) == pmap
    assert pmap == pmap.set("evt-1", pmap["evt-1"])
    assert "evt-1" in pmap
    assert "evt-x" not in pmap
    assert sorted(pmap.values()) == sorted(model.values())
    for key in list(model)[MANY:]:
        pmap = pmap.delete(key)
    assert pmap == dict(list(model.items())[:MANY])
    pmap = pmap.delete(f"evt-{MANY - 1}")
    assert pmap == dict(list(model.items())[: MANY - 1])
    assert len(pmap) == MANY - 1


def test_old_versions_are_unchanged_after_set_and_delete() -> None:
    first = PMap.of({"a": 1, "b": 2})
    second = first.set("c", 3).set("a", 10)
    third = second.delete("b")
    assert first == {"a": 1, "b": 2}
    assert second == {"a": 10, "b": 2, "c": 3}
    assert third == {"a": 10, "c": 3}


def test_setting_the_same_object_or_deleting_a_missing_key_returns_the_map_itself() -> (
    None
):
    mark = Decimal("1.0")
    pmap = PMap.of({"a": mark})
    assert pmap.set("a", mark) is pmap
    assert pmap.delete("zz") is pmap
    assert PMap.of(pmap) is pmap
    assert PMap(pmap) == pmap
    assert copy.copy(pmap) is pmap


def test_an_equal_but_different_value_replaces_the_old_one() -> None:
    pmap = PMap.of({"a": Decimal("1.0")})
    updated = pmap.set("a", Decimal("1.00"))
    assert str(updated["a"]) == "1.00"
    assert str(pmap["a"]) == "1.0"
    assert len(updated) == 1


def test_missing_keys_raise_key_error_or_give_the_default() -> None:
    pmap = PMap.of([("a", 1)])
    with pytest.raises(KeyError):
        pmap["b"]
    assert pmap.get("b") is None
    assert pmap.get("b", 0) == 0
    assert "b" not in pmap


def test_equality_ignores_order_and_compares_with_any_mapping() -> None:
    forward = PMap.of({str(n): n for n in range(100)})
    backward = PMap.of({str(n): n for n in reversed(range(100))})
    assert forward == backward
    assert forward == {str(n): n for n in range(100)}
    assert forward != {**forward.to_dict(), "0": -1}
    assert forward != {**forward.to_dict(), "new": 1}
    assert forward != forward.delete("0").set("other", 0)
    assert forward != [("0", 0)]
    assert PMap.of({"nan": float("nan")}) != {"nan": float("nan")}
    nan = float("nan")
    assert PMap.of({"nan": nan}) == {"nan": nan}


def test_a_pmap_is_a_read_only_mapping_without_a_hash() -> None:
    pmap = PMap.of({"a": 1, "b": 2})
    assert isinstance(pmap, Mapping)
    assert isinstance(pmap.keys(), KeysView)
    assert ("a", 1) in pmap.items()
    assert 2 in pmap.values()
    assert repr(pmap) == "PMap({'a': 1, 'b': 2})" or repr(pmap) == (
        "PMap({'b': 2, 'a': 1})"
    )
    with pytest.raises(TypeError):
        hash(pmap)


def test_iteration_order_repeats_for_the_same_operations() -> None:
    def build() -> PMap[str, int]:
        pmap: PMap[str, int] = PMap()
        for n in range(300):
            pmap = pmap.set(f"k{n}", n)
        return pmap.delete("k7").delete("k100")

    assert list(build()) == list(build())
    assert list(build().items()) == list(build().to_dict().items())


def test_copies_and_pickles_are_rebuilt_from_items() -> None:
    pmap = PMap.of({Key(n, n % 3): [n] for n in range(100)})
    deep = copy.deepcopy(pmap)
    assert deep == pmap
    assert deep[Key(1, 1)] is not pmap[Key(1, 1)]
    # Our own bytes, just produced: the trie is not pickled, only its items.
    assert pickle.loads(pickle.dumps(pmap)) == pmap  # noqa: S301


class Applied(BaseModel):
    """A frozen state model holding a PMap, as the fold's World would."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    seen: PMap[str, str] = PMap()


def test_a_frozen_model_accepts_a_dict_or_a_pmap_and_dumps_a_dict() -> None:
    assert Applied().seen == {}
    from_dict = Applied(seen={"e1": "m1"})
    assert isinstance(from_dict.seen, PMap)
    marks = PMap.of({"e1": "m1"})
    assert Applied(seen=marks).seen is marks
    later = from_dict.model_copy(update={"seen": from_dict.seen.set("e2", "m2")})
    assert from_dict.seen == {"e1": "m1"}
    assert later.model_dump() == {"seen": {"e1": "m1", "e2": "m2"}}
    assert type(later.model_dump()["seen"]) is dict
    assert Applied.model_validate_json(later.model_dump_json()) == later
    assert Applied.model_json_schema()["properties"]["seen"]["type"] == "object"


def test_a_model_refuses_entries_of_the_wrong_type() -> None:
    with pytest.raises(ValidationError):
        Applied(seen={"e1": 1})
    with pytest.raises(ValidationError):
        Applied.model_validate_json('{"seen": ["e1"]}')


def test_an_unparameterised_pmap_takes_any_entries() -> None:
    adapter: TypeAdapter[PMap[Any, Any]] = TypeAdapter(PMap)
    assert adapter.validate_python({1: [2]}) == {1: [2]}
    assert adapter.dump_python(PMap.of({1: 2})) == {1: 2}


def test_changed_since_names_the_keys_bound_to_other_objects() -> None:
    kept, changed = [1], [2]
    older = PMap.of({"a": kept, "b": changed, "gone": [3]})
    assert list(older.changed_since(older)) == []
    newer = older.set("b", [2]).set("new", [4])  # equal to before, but another list
    assert sorted(newer.changed_since(older)) == ["b", "new"]
    fewer = newer.delete("gone")
    assert sorted(fewer.changed_since(older)) == ["b", "gone", "new"]
    assert sorted(older.changed_since(PMap())) == ["a", "b", "gone"]
    assert sorted(PMap[str, list[int]]().changed_since(older)) == ["a", "b", "gone"]
