"""Tests that drive the worker run untraced (``tests/conftest.py``): under
``coverage run`` the tracer is off in this thread and in threads started now."""

from __future__ import annotations

import sys
import threading

import pytest

pytestmark = pytest.mark.integration


def test_a_test_that_drives_the_worker_runs_untraced() -> None:
    assert sys.gettrace() is None
    assert threading.gettrace() is None
