"""A rebuild runs with the cyclic garbage collector paused, and gives it back (with
what the process holds frozen, when the rebuild succeeded)."""

from __future__ import annotations

import gc

import pytest

from streams.state import recovery


def _nothing_committed(_topic: str, _partition: int) -> int:
    return 0


def test_the_collector_is_off_in_a_rebuild_and_on_after_even_if_it_fails() -> None:
    seen = []

    def unreachable(*_: object) -> int:
        seen.append(gc.isenabled())
        raise RuntimeError("the broker went away")

    assert gc.isenabled()
    gc.unfreeze()
    with pytest.raises(RuntimeError, match="went away"):
        recovery.rebuild_reps({}, unreachable, "reps", 0, (), 6, {})
    assert seen == [False]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_rebuild_that_succeeds_freezes_what_the_process_holds() -> None:
    gc.unfreeze()
    try:
        state = recovery.rebuild_reps({}, _nothing_committed, "reps", 0, (), 6, {})
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()
        # The state built is among the frozen: the collector no longer tracks it
        # in a generation it scans.
        assert not any(o is state for o in gc.get_objects())
    finally:
        gc.unfreeze()


def test_a_collector_paused_by_someone_else_stays_paused() -> None:
    gc.unfreeze()
    gc.disable()
    try:
        state = recovery.rebuild_reps({}, _nothing_committed, "reps", 0, (), 6, {})
        assert state.applied == -1 and not state.worlds
        assert not gc.isenabled()
        # Nor does it freeze anything: that is for whoever turns it on again.
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()
