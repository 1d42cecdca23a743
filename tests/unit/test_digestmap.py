"""The claims' map of digests: the same answers as a ``dict`` through growth, in
far fewer bytes."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Callable, Iterator

from streams.state.digestmap import DigestMap

TOP = (1 << 64) - 1


def test_it_answers_as_a_dict_does_through_every_growth() -> None:
    rng = random.Random(5)  # noqa: S311 - test data
    model: dict[int, int] = {}
    digests = DigestMap()
    keys = [rng.randint(0, TOP) for _ in range(30_000)]
    for n, key in enumerate(keys):
        value = rng.randint(0, TOP) if n % 3 else 0
        digests[key] = model[key] = value
        if n % 7 == 0:  # a key set again takes the new value
            digests[keys[n // 2]] = model[keys[n // 2]] = n
    assert len(digests) == len(model)
    assert dict(digests.items()) == model
    assert all(digests.get(key) == value for key, value in model.items())
    missing = [rng.randint(0, TOP) for _ in range(2_000)]
    assert all(digests.get(key) is None for key in missing if key not in model)
    # ``first`` answers what a key has and leaves it; a new key takes the value.
    assert [digests.first(key, 1) for key in keys[:50]] == [model[k] for k in keys[:50]]
    new = next(key for key in missing if key not in model)
    assert digests.first(new, 5) is None
    assert digests.first(new, 6) == 5
    assert len(digests) == len(model) + 1


def test_keys_that_share_low_bits_and_the_zero_key_are_kept_apart() -> None:
    digests = DigestMap()
    same_low = [(n << 40) | 0xABC for n in range(1, 200)]  # one slot, one shard
    for n, key in enumerate(same_low):
        digests[key] = n
    digests[0] = 7
    assert [digests.get(key) for key in same_low] == list(range(len(same_low)))
    assert digests.get(0) == 7
    assert len(digests) == len(same_low) + 1


def test_equal_maps_compare_equal_whatever_the_order_of_their_pairs() -> None:
    pairs = [(n * 0x9E3779B97F4A7C15 & TOP, n) for n in range(1, 5_000)]
    assert DigestMap(pairs) == DigestMap(reversed(pairs))
    assert DigestMap(pairs) != DigestMap(pairs[1:])
    assert DigestMap(pairs) != dict(pairs)


def test_a_pair_takes_a_fraction_of_what_a_dict_takes() -> None:
    """Measured as the claims hold them: digests made for the map, held by it alone."""
    count = 100_000

    def held(build: Callable[[Iterator[tuple[int, int]]], object]) -> int:
        rng = random.Random(9)  # noqa: S311 - test data
        fresh = ((rng.getrandbits(64), rng.getrandbits(64)) for _ in range(count))
        tracemalloc.start()
        try:
            made = build(fresh)
            size = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert made
        return size

    map_bytes, dict_bytes = held(DigestMap), held(dict)
    assert map_bytes <= 48 * count
    assert 3 * map_bytes < dict_bytes


def test_room_reserved_for_a_restore_takes_it_without_growing_a_shard() -> None:
    rng = random.Random(11)  # noqa: S311 - test data
    pairs = [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(50_000)]
    digests = DigestMap(pairs[:1_000])
    digests.reserve(len(pairs) - 1_000)
    shards = list(digests._shards)
    digests.update(pairs[1_000:])
    assert all(a is b for a, b in zip(shards, digests._shards, strict=True))
    assert dict(digests.items()) == dict(pairs)
