"""Waiting for something a real broker or worker does, without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None],
    timeout: float = 30,
    what: str = "",
    every: float = 0.1,
) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming what it awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(every)
    pytest.fail(f"timed out after {timeout}s waiting for {what or probe}")
