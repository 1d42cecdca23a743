"""Coverage measures the pure domain by its unit tests.

The domain's unit tests alone cover every line and branch of ``domain/`` (CI fails
below 100%). The integration and end-to-end tests run the worker against a real
broker and ClickHouse: traced, its fold ran about 1.7 times slower (the checkpoint
tests, 40 s untraced against 70 s under ``coverage run``), and those tests wait for
the worker. So tracing is paused while they run; threads they start are never traced.
"""

from __future__ import annotations

from collections.abc import Generator

import coverage
import pytest

# The folders whose tests drive a worker (or the whole program) end to end.
UNTRACED = frozenset({"integration", "e2e", "soak"})


def drives_the_worker(item: pytest.Item) -> bool:
    return not UNTRACED.isdisjoint(item.path.parts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    measuring = coverage.Coverage.current()
    if measuring is None or not drives_the_worker(item):
        return (yield)
    measuring.stop()
    try:
        return (yield)
    finally:
        measuring.start()
