"""A close looks only at deals that can be overdue (World.dues), and forfeits exactly
what a look at every deal would (SPEC §2: unpaid 180 days after due → forfeited)."""

from __future__ import annotations

import orjson

from domain.engine import World, evolve, start
from domain.events import decode_event
from domain.ledger import LedgerLine
from domain.plan import Plan
from tests.factories import deal_event, envelope, payment_event


def _fold(world: World, *events: dict[str, object]) -> tuple[World, list[LedgerLine]]:
    lines: list[LedgerLine] = []
    for event in events:
        world, step = evolve(world, decode_event(orjson.dumps(event)))
        assert step.rejected == ()
        lines += step.lines
    return world, lines


def _close(period: str, at: str) -> dict[str, object]:
    return envelope("PeriodClosed", f"close-{period}", at, period=period)


def test_a_deal_paid_in_full_then_amended_upwards_can_still_be_forfeited(
    reference_plan: Plan,
) -> None:
    deal = deal_event(new_customer=False, amount="100000", margin="0")
    paid = payment_event("p1", "D-1001", "100000", "2026-04-01T10:00:00+08:00")
    world, _ = _fold(start([reference_plan]), deal, paid)
    # A close long after the due date sees the deal paid in full: it leaves the index.
    world, lines = _fold(world, _close("2026-10", "2026-11-01T00:00:00+08:00"))
    assert lines == []
    assert "D-1001" not in {d for bucket in world.dues.values() for d in bucket}
    amended = envelope(
        "DealAmended", "amd-1", "2026-11-05T10:00:00+08:00", deal_id="D-1001",
        amount="150000", margin="0", currency="CNY",
        splits=[{"rep_id": "R-17", "share": "1"}],
    )  # fmt: skip
    world, _ = _fold(world, amended)
    assert any("D-1001" in bucket for bucket in world.dues.values())
    world, lines = _fold(world, _close("2026-12", "2027-01-01T00:00:00+08:00"))
    forfeited = [line for line in lines if line.rule == "commission_forfeited"]
    # earned 150,000 × 3% = 4,500; a third of the deal is unpaid: 1,500 forfeited.
    assert [line.amount for line in forfeited] == [-1500]
    assert len(world.dues) == 0


def test_a_close_before_anything_is_overdue_keeps_every_deal_indexed(
    reference_plan: Plan,
) -> None:
    world, _ = _fold(start([reference_plan]), deal_event())
    world, lines = _fold(world, _close("2026-03", "2026-04-01T00:00:00+08:00"))
    assert lines == []
    assert {month: set(deals) for month, deals in world.dues.items()} == {
        "2026-04": {"D-1001"}
    }
