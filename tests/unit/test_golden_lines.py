"""Every line of the golden scenario (tests/golden/scenario.py) is booked exactly as
it was when the golden ledgers were written: amounts, sequence, formula and inputs.
The fold may change inside; what it books and how it explains it may not."""

from __future__ import annotations

import gzip

import orjson
import pytest

from tests.golden.scenario import HERE, ORDERS, PLANS, ledger, path_of, plan_named


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("plan", PLANS)
def test_the_fold_books_the_golden_ledger_line_for_line(plan: str, order: str) -> None:
    golden = gzip.decompress(path_of(HERE, plan, order).read_bytes()).splitlines()
    booked = ledger(plan_named(plan), order)
    assert len(booked) == len(golden)
    for row, line in zip(booked, golden, strict=True):
        assert row == orjson.loads(line)
