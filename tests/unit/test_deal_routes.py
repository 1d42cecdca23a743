"""The deal router's table entries: who a deal credits and what waits for it survive
a restart, and a message read again does not wait twice."""

from __future__ import annotations

import orjson
import pytest

from domain.events import InvalidEvent, decode_event
from streams.state.recovery import RouterPartition
from streams.state.routing import DealRouter, Origin
from tests.factories import deal_event, envelope


def _deal(deal_id: str, *reps: str) -> bytes:
    splits = [{"rep_id": rep, "share": str(1 / len(reps))} for rep in reps]
    return orjson.dumps(
        deal_event(event_id=f"e-{deal_id}", deal_id=deal_id, rep_id=reps[0],
                   amount="1000.00", margin="0.00", new_customer=False,
                   splits=splits)
    )  # fmt: skip


def _payment(deal_id: str, n: int) -> bytes:
    return orjson.dumps(
        envelope("PaymentReceived", f"p-{deal_id}-{n}", "2026-03-01T00:00:00+08:00",
                 payment_id=f"P-{n}", deal_id=deal_id, amount="100.00",
                 currency="CNY")
    )  # fmt: skip


def _route(router: DealRouter, value: bytes, topic: str, offset: int) -> list[str]:
    origin = Origin(topic, 0, offset, 0.0, b"k")
    return [f.rep_id for f in router.route(decode_event(value), value, origin)]


def test_a_restored_router_routes_like_the_one_that_wrote_its_entries() -> None:
    router = DealRouter()
    assert _route(router, _deal("D-1", "R-a", "R-b"), "deals", 0) == ["R-a", "R-b"]
    assert _route(router, _payment("D-2", 1), "payments", 0) == []  # waits
    assert router.changed == {"D-1", "D-2"}

    restored = DealRouter()
    for deal_id in sorted(router.changed):
        restored.load(deal_id, router.entry(deal_id))
    assert restored.owners == router.owners
    assert restored.waiting == router.waiting
    # The waiting payment is released to D-2's rep when the deal comes.
    assert _route(restored, _deal("D-2", "R-c"), "deals", 1) == ["R-c", "R-c"]
    assert restored.waiting == {}


def test_a_payment_read_again_waits_once() -> None:
    router = DealRouter()
    payment = _payment("D-9", 1)
    _route(router, payment, "payments", 4)
    _route(router, payment, "payments", 4)
    assert len(router.waiting["D-9"]) == 1


def test_table_entries_end_with_the_offsets_they_reflect() -> None:
    state = RouterPartition()
    origin = Origin("deals", 3, 7, 0.0, b"")
    value = _deal("D-5", "R-a")
    state.router.route(decode_event(value), value, origin)
    state.applied["deals"] = 7
    entries = state.table_entries(3)
    assert [key for key, _ in entries] == [b"3/D-5", b"3/@applied"]
    assert orjson.loads(entries[-1][1]) == {"deals": 7}
    assert state.router.changed == set()


def test_an_event_on_a_deal_keyed_topic_that_does_not_carry_it_is_refused() -> None:
    router = DealRouter()
    deal = _deal("D-1", "R-1")
    with pytest.raises(InvalidEvent) as refused:
        _route(router, deal, "payments", 0)
    assert refused.value.code == "wrong_topic"
    assert "DealClosed does not belong on payments" in refused.value.detail
    # Nothing was learned from it: on its own topic the deal is routed as new.
    assert _route(router, deal, "deals", 1) == ["R-1"]
    with pytest.raises(InvalidEvent):
        _route(router, _payment("D-1", 1), "deals", 2)
