"""The checkpoint rounds' clocks: the partitions' rounds spread across the interval,
and each stays on its own grid however late the batch that runs it."""

from __future__ import annotations

from itertools import pairwise

from streams.hot.rounds import CLAIMS, ROUTES, WORLDS, Clocks, phase


def _first_due(clocks: Clocks, key: tuple[str, int], start: float) -> float:
    """The first moment, in steps of 0.01 s from ``start``, at which ``key`` is due."""
    for step in range(1_000):
        now = start + step / 100
        if clocks.due(key, now):
            return now
    raise AssertionError(f"{key} never fell due")


def test_six_partitions_first_rounds_fall_apart_within_one_interval() -> None:
    clocks = Clocks(5.0)
    keys = [(WORLDS, p) for p in range(6)]
    for key in keys:  # every partition met in the same first moment
        assert not clocks.due(key, 100.0) or phase(key) == 0.0
    firsts = sorted(_first_due(clocks, key, 100.0) for key in keys)
    assert all(100.0 <= at <= 105.0 for at in firsts), firsts
    gaps = [b - a for a, b in pairwise(firsts)]
    assert min(gaps) >= 5.0 / 12, firsts  # apart by a twelfth at least
    # The kinds of one partition do not fall due together either.
    assert len({phase((kind, 0)) for kind in (ROUTES, CLAIMS, WORLDS)}) == 3


def test_a_late_round_keeps_the_key_on_its_grid() -> None:
    clocks = Clocks(5.0)
    key = (WORLDS, 1)
    clocks.due(key, 0.0)
    start = -5.0 * phase(key)  # where the key's grid starts
    assert not clocks.due(key, start + 4.9)
    assert clocks.due(key, start + 7.3)  # a batch ran it 2.3 s late
    assert not clocks.due(key, start + 9.9)  # next due at +10, not at +12.3
    assert clocks.due(key, start + 10.0)
    assert not clocks.due(key, start + 10.0)  # run once per interval
