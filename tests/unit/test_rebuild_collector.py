"""A rebuild runs with the cyclic garbage collector paused, and gives it back."""

from __future__ import annotations

import gc

import pytest

from streams.state import recovery


def test_the_collector_is_off_during_a_rebuild_and_on_after_it_even_when_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = []

    def unreachable(*_: object) -> int:
        seen.append(gc.isenabled())
        raise RuntimeError("the broker went away")

    monkeypatch.setattr(recovery, "committed_offset", unreachable)
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="went away"):
        recovery.rebuild_reps({}, "group", "reps", 0, (), 6, {})
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recovery, "committed_offset", lambda *_: 0)
    gc.disable()
    try:
        state = recovery.rebuild_reps({}, "group", "reps", 0, (), 6, {})
        assert state.applied == -1 and not state.worlds
        assert not gc.isenabled()
    finally:
        gc.enable()
