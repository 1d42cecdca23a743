"""When the hot path settles the batch of the takes it handled: when it is
``write_seconds`` old or holds ``MAX_ROWS`` lines (and, in the consumer loop, when
nothing more is waiting)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from domain.ledger import LedgerLine, Reason
from projections.writer import MAX_ROWS
from streams.hot.takes import Pending


def _line() -> LedgerLine:
    return LedgerLine(
        line_id="e/R1/D1/earned/band0",
        rep_id="R1",
        deal_id="D1",
        kind="earned",
        rule="revenue_band_commission",
        plan_id="p",
        plan_version=1,
        amount=Decimal("1.00"),
        currency="EUR",
        occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
        reason=Reason.given("1.00 × 100%"),
        source_event_ids=("e",),
        sequence=1,
    )


def test_nothing_is_due_before_a_take_joins_a_batch() -> None:
    pending = Pending(write_seconds=0.0)
    assert pending.batch is None
    assert not pending.due()
    assert pending.taken() is None


def test_the_takes_join_one_batch_until_it_is_taken() -> None:
    pending = Pending(write_seconds=60.0)
    first = pending.joined()
    assert pending.joined() is first
    assert not pending.due()
    assert pending.taken() is first
    assert pending.batch is None
    assert pending.joined() is not first


def test_a_batch_is_due_once_it_is_write_seconds_old() -> None:
    pending = Pending(write_seconds=0.05)
    pending.joined()
    assert not pending.due()
    time.sleep(0.06)
    assert pending.due()


def test_a_batch_is_due_once_it_holds_max_rows_lines() -> None:
    pending = Pending(write_seconds=60.0)
    lines, line = pending.joined().folded.lines, _line()
    lines.extend([line] * (MAX_ROWS - 1))
    assert not pending.due()
    lines.append(line)
    assert pending.due()
