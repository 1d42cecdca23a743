"""Coverage measures the pure domain by its unit tests.

The domain's unit tests alone cover every line and branch of ``domain/`` (CI fails
below 100%). The integration and end-to-end tests run the worker against a real
broker and ClickHouse: traced, its fold ran about 1.7 times slower (the checkpoint
tests, 40 s untraced against 70 s under ``coverage run``), and those tests wait for
the worker. So tracing is paused while they run; threads they start are never traced.

The unit tests run first: after the first test that drives the worker, the session's
broker and idle worker live on until the session ends, and the unit tests beside them
ran 15-20% slower (the year-long golden ledgers, one run each: 8.0 / 6.8 / 4.7 / 3.7 s
alone against 10.0 / 7.6 / 5.0 / 4.8 s after one such test).
"""

from __future__ import annotations

from collections.abc import Generator

import coverage
import pytest
from hypothesis import HealthCheck, settings

# No test asserts how fast something runs (the benches print figures instead), and
# Hypothesis's default 200 ms deadline per example and its too-slow health check are
# such assertions: the unit tests run niced beside the tests that drive the worker
# (scripts/test.sh), and there an example of test_pmap.py took 259 ms and failed CI.
settings.register_profile(
    "quotaflow", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("quotaflow")

# The folders whose tests drive a worker (or the whole program) end to end.
UNTRACED = frozenset({"integration", "e2e", "soak"})


def drives_the_worker(item: pytest.Item) -> bool:
    return not UNTRACED.isdisjoint(item.path.parts)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The unit tests first, each group in the order it was collected in."""
    items.sort(key=drives_the_worker)


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
