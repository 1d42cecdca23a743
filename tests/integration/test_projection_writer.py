"""The projection writer on the real ClickHouse engine: inserts of at most 10,000
rows, and a repeated insert of the same source range dropped by its token."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Sequence
from typing import Any

import pytest

from projections.ledger import LEDGER_COLUMNS, ledger_row, write_lines
from projections.store import Store
from projections.writer import MAX_ROWS, Span, dedup_token
from tests.integration.conftest import unique
from tests.integration.rows import line

pytestmark = pytest.mark.integration


@pytest.fixture
def store(contract_store: Store) -> Store:
    """Part of the projection contract: run on chDB and on a named server."""
    return contract_store


class CountingStore(Store):
    """The session's real store, counting the inserts that pass through it."""

    def __init__(self, real: Store) -> None:  # shares the real client and lock
        self.__dict__.update(real.__dict__)
        self.inserts: list[tuple[str, int, str | None]] = []

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        columns: Sequence[str],
        token: str | None = None,
    ) -> None:
        self.inserts.append((table, len(rows), token))
        super().insert(table, rows, columns, token)


def _raw_count(store: Store, rep: str) -> int:
    """Rows as stored, before any FINAL collapse."""
    rows = store.rows(
        "SELECT count() FROM ledger_lines WHERE rep_id = {rep:String}", {"rep": rep}
    )
    return int(rows[0][0])


def test_a_repeated_insert_of_the_same_range_is_dropped_by_its_token(
    store: Store,
) -> None:
    rep = unique("R-DEDUP")
    lines = [line(rep, "earned", "10.00", "2036-01-02T00:00:00+08:00")
             for _ in range(3)]  # fmt: skip
    source = (Span("qf-test-rep-deals", 0, 100, 102),)
    write_lines(store, lines, source)
    write_lines(store, lines, source)
    assert _raw_count(store, rep) == 3  # not 6: the second insert was dropped
    # Other rows from the "same" range have another token: they are written.
    more = [line(rep, "earned", "5.00", "2036-01-02T00:00:00+08:00")]
    write_lines(store, more, source)
    assert _raw_count(store, rep) == 4


def test_a_large_write_goes_in_inserts_of_at_most_ten_thousand_rows(
    store: Store,
) -> None:
    rep = unique("R-BIG")
    counting = CountingStore(store)
    lines = [line(rep, "earned", "1.00", "2036-01-02T00:00:00+08:00")
             for _ in range(2 * MAX_ROWS + 5)]  # fmt: skip
    source = (Span("qf-test-rep-deals", 1, 0, 20_004),)
    assert write_lines(counting, lines, source) == len(lines)
    assert [(t, n) for t, n, _ in counting.inserts] == [
        ("ledger_lines", MAX_ROWS),
        ("ledger_lines", MAX_ROWS),
        ("ledger_lines", 5),
    ]
    tokens = [token for _, _, token in counting.inserts]
    assert len(set(tokens)) == 3
    assert all(t and t.startswith("ledger_lines/qf-test-rep-deals:1:0-20004/")
               for t in tokens)  # fmt: skip
    assert _raw_count(store, rep) == len(lines)


class _Rows(list[list[Any]]):
    """Rows that can be watched (a plain list takes no weak reference)."""


def test_an_insert_lets_go_of_its_rows_when_it_returns(store: Store) -> None:
    """An insert leaves no reference cycle holding its rows: they are freed when
    the caller drops them, without Python's cyclic collector (a worker's writes
    would otherwise keep the collector busy with every batch's rows)."""
    rep = unique("R-FREED")
    lines = [line(rep, "earned", "1.00", "2036-01-02T00:00:00+08:00") for _ in "ab"]
    rows = _Rows(ledger_row(one) for one in lines)
    left = weakref.ref(rows)
    was = gc.isenabled()
    gc.disable()
    try:
        store.insert("ledger_lines", rows, LEDGER_COLUMNS)
        del rows
        assert left() is None
    finally:
        if was:
            gc.enable()
    assert _raw_count(store, rep) == 2


def test_a_token_names_the_table_the_ranges_the_part_and_the_rows() -> None:
    source = (Span("t", 0, 5, 9), Span("t", 2, 1, 1))
    token = dedup_token("targets", source, 3, [["a", 1]])
    assert token.startswith("targets/t:0:5-9,t:2:1-1/3/1-")
    assert token != dedup_token("targets", source, 3, [["a", 2]])
