"""Every line of the golden scenario (tests/golden/scenario.py) is booked exactly as
it was when the golden ledgers were written: amounts, sequence, formula and inputs.
The fold may change inside; what it books and how it explains it may not."""

from __future__ import annotations

import gzip

import orjson
import pytest

from tests.golden.scenario import (
    HERE,
    ORDERS,
    PLANS,
    SCENARIOS,
    ledger,
    path_of,
    plan_named,
)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_fold_books_the_golden_ledger_line_for_line(
    scenario: str, plan: str, order: str
) -> None:
    path = path_of(HERE, plan, order, scenario)
    golden = gzip.decompress(path.read_bytes()).splitlines()
    booked = ledger(plan_named(plan), order, scenario)
    assert len(booked) == len(golden)
    for row, line in zip(booked, golden, strict=True):
        assert row == orjson.loads(line)
