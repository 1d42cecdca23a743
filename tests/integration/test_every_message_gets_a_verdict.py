"""Issue 14: hostile messages each get a verdict (dead-lettered with a reason) and
the worker goes on with the good deals queued behind them, through the real broker
and chDB."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import orjson
import pytest
from confluent_kafka import Producer

from projections.store import Store
from streams.app import QuotaFlowApp
from streams.deadletter import ORIGINAL_SHA256, ORIGINAL_SIZE, REASON, read_headers
from streams.settings import Settings
from streams.topics import DEALS, DLQ
from tests.factories import deal_event
from tests.integration.conftest import earned, read_topic, unique, wait_for

pytestmark = pytest.mark.integration


@pytest.mark.xfail(
    reason="not yet passing: the ten deals behind the poison are not booked within "
    "40 s on noida-db (no error logged); undiagnosed, suspect the ~900 KB messages",
    strict=True,
)
def test_poison_messages_are_dead_lettered_and_ten_deals_behind_them_are_applied(
    worker: QuotaFlowApp, store: Store, settings: Settings
) -> None:
    rep = unique("R")
    splits = [{"rep_id": rep, "share": "1"}]
    text = orjson.dumps(deal_event(deal_id=unique("D"), splits=splits)).decode()
    poison = {
        "nested": b'{"a":' * 1_000 + b"1" + b"}" * 1_000,
        "1e30": orjson.dumps(deal_event(deal_id=unique("D"), amount="1e30")),
        "1e17": orjson.dumps(deal_event(deal_id=unique("D"), amount="1E+17")),
        "20 digits": orjson.dumps(
            deal_event(deal_id=unique("D"), amount="12345678901234567890")
        ),
        "utf-16": text.encode("utf-16"),
        "1 MB invalid": b"{" + b" " * 900_000,
        "1 MB valid": orjson.dumps(
            deal_event(deal_id=unique("D"), filler="x" * 900_000, splits=splits)
        ),
    }
    producer = Producer({**settings.confluent_config(), "message.max.bytes": 2_000_000})
    keys = {name: unique("poison").encode() for name in poison}
    for name, value in poison.items():
        producer.produce(DEALS, key=keys[name], value=value, partition=0)
    for _ in range(10):
        deal = unique("D")
        good = deal_event(
            event_id=unique("e"), deal_id=deal, rep_id=rep, amount="100000.00",
            margin="0.00", new_customer=False, splits=splits,
        )  # fmt: skip
        producer.produce(
            DEALS, key=deal.encode(), value=orjson.dumps(good), partition=0
        )
    assert producer.flush(30) == 0
    # Ten deals of 100,000 at 3%.
    wait_for(
        lambda: earned(store, rep) == Decimal("30000.00"),
        90,
        "all ten deals booked",
        0.5,
    )

    def letters() -> dict[bytes, object] | None:
        found = {
            m.key(): m for m in read_topic(settings, DLQ) if m.key() in keys.values()
        }
        return found if len(found) == len(keys) else None

    found = wait_for(letters, 60, "a dead letter for every poison message", 1)
    reasons = {
        name: read_headers(found[keys[name]].headers())[REASON]  # type: ignore[attr-defined]
        for name in poison
    }
    assert reasons == {
        "nested": "too_deep",
        "1e30": "invalid",
        "1e17": "invalid",
        "20 digits": "invalid",
        "utf-16": "undecodable",
        "1 MB invalid": "too_large",
        "1 MB valid": "too_large",
    }
    big = found[keys["1 MB valid"]]
    headers = read_headers(big.headers())  # type: ignore[attr-defined]
    original = poison["1 MB valid"]
    assert headers[ORIGINAL_SIZE] == str(len(original))
    assert headers[ORIGINAL_SHA256] == hashlib.sha256(original).hexdigest()
    assert original.startswith(big.value())  # type: ignore[attr-defined]
    assert len(big.value()) < 10_000  # type: ignore[attr-defined]
