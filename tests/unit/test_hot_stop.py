"""A stop that comes while the hot path waits for a take leaves that take unhandled
and unacknowledged, so the stop settles and checkpoints the batch before it (the
take before it handled whole); a stop in the middle of a take drops the take."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from streams.hot.consumer import HotPath, Stopped
from streams.hot.takes import Pending


class Message:
    """What ``consume`` gives: here, a message of a topic nobody reads."""

    def __init__(self, offset: int) -> None:
        self._offset = offset

    def error(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return 0, 1_000

    def topic(self) -> str:
        return "deals"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"D-1"

    def value(self) -> bytes:
        return b"{}"


def _hot_path(handled: list[int], stop: threading.Event) -> HotPath:
    """A hot path with only what ``_handle`` uses: its stop, its pending batch and
    stages that note each message's offset (setting the stop after the first)."""
    hot = HotPath.__new__(HotPath)

    def handle(record: Any, _batch: Any) -> None:
        handled.append(record.offset)
        stop.set()

    hot._stop = stop
    hot._pending = Pending(0.25)
    hot._between_batches = True
    hot._flush = lambda: None
    hot.stages = SimpleNamespace(handle=handle)  # type: ignore[assignment]
    return hot


def test_a_take_after_the_stop_is_left_unhandled_and_the_batch_stays_whole() -> None:
    handled: list[int] = []
    stop = threading.Event()
    hot = _hot_path(handled, stop)
    stop.set()
    hot._handle([Message(7), Message(8)])
    assert handled == []
    assert hot._between_batches
    assert hot._pending.taken() is None


def test_a_stop_in_the_middle_of_a_take_drops_the_rest_of_it() -> None:
    handled: list[int] = []
    hot = _hot_path(handled, threading.Event())
    with pytest.raises(Stopped):
        hot._handle([Message(7), Message(8)])
    assert handled == [7]
    assert not hot._between_batches
