"""The domain's coverage comes from the unit tests: under ``coverage run`` they are
traced (``tests/conftest.py`` pauses the tracer for the others only)."""

from __future__ import annotations

import sys

import coverage
import pytest


def test_a_unit_test_is_traced_whenever_coverage_runs() -> None:
    if coverage.Coverage.current() is None:
        pytest.skip("not under coverage run")
    assert sys.gettrace() is not None
