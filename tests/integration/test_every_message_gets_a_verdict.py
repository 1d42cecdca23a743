"""Issue 14: hostile messages each get a verdict (dead-lettered with a reason) and
the worker goes on with the good deals mixed with them, through the real broker and
chDB; the good deals book exactly what ``quotaflow simulate`` books for them alone."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from confluent_kafka import Producer

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import Message
from streams.infra.settings import Settings
from streams.infra.topics import DEALS, DLQ, rep_deals_topic
from streams.log.deadletter import ORIGINAL_SHA256, ORIGINAL_SIZE, REASON, read_headers
from streams.state.routing import owner_partition
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event
from tests.integration.conftest import read_topic, unique, wait_for
from tests.integration.test_stream_equals_simulate import booked, simulated

pytestmark = pytest.mark.integration


def _poison(rep: str) -> dict[str, bytes]:
    splits = [{"rep_id": rep, "share": "1"}]
    text = orjson.dumps(deal_event(deal_id=unique("D"), splits=splits)).decode()
    return {
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


def _good_deals(rep: str, count: int) -> list[Message]:
    splits = [{"rep_id": rep, "share": "1"}]
    deals: list[Message] = []
    for _ in range(count):
        deal = unique("D")
        good = deal_event(
            event_id=unique("e"), deal_id=deal, rep_id=rep, amount="100000.00",
            margin="0.00", new_customer=False, splits=splits,
        )  # fmt: skip
        deals.append((DEALS, deal.encode(), orjson.dumps(good)))
    return deals


def test_poison_messages_are_dead_lettered_and_ten_deals_behind_them_are_applied(
    worker: QuotaFlowApp, store: Store, settings: Settings, plan: Plan
) -> None:
    prefix = unique("poisoned") + "-"
    rep = prefix + "R"
    poison = _poison(rep)
    deals = _good_deals(rep, 10)
    # What the good deals book alone: 500,000 at 3% and 500,000 at 5%.
    expected = simulated(plan, deals)
    assert expected[rep]["earned_commission"] == "40000.00"
    keys = {name: unique("poison").encode() for name in poison}
    # Good and hostile messages interleaved on one partition, the rest of the deals
    # behind the last poison message.
    mixed: list[tuple[bytes, bytes]] = []
    for n, (name, value) in enumerate(poison.items()):
        mixed += [(deals[n][1], deals[n][2]), (keys[name], value)]
    mixed += [(key, value) for _, key, value in deals[len(poison) :]]
    producer = Producer({**settings.confluent_config(), "message.max.bytes": 2_000_000})
    for key, value in mixed:
        producer.produce(DEALS, key=key, value=value, partition=0)
    assert producer.flush(30) == 0
    wait_for(
        lambda: booked(store, prefix) == expected,
        60,
        "the ten good deals booked as simulate books them alone",
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
    for name in ("1 MB invalid", "1 MB valid"):
        letter = found[keys[name]]
        headers = read_headers(letter.headers())  # type: ignore[attr-defined]
        original = poison[name]
        assert headers[ORIGINAL_SIZE] == str(len(original))
        assert headers[ORIGINAL_SHA256] == hashlib.sha256(original).hexdigest()
        assert original.startswith(letter.value())  # type: ignore[attr-defined]
        assert len(letter.value()) < 10_000  # type: ignore[attr-defined]
    # The worker is still there and still folding.
    assert worker.failure is None
    assert not worker.app.crashed


def test_a_message_on_the_rep_topic_that_is_no_forward_is_dead_lettered_as_internal(
    worker: QuotaFlowApp, store: Store, settings: Settings, plan: Plan
) -> None:
    prefix = unique("damaged") + "-"
    rep = prefix + "R"
    damaged = unique("damaged").encode()
    producer = Producer(settings.confluent_config())
    # Only the worker writes the rep topic; a message it cannot read there (written
    # by something else, or damaged) must not stop it, now or after a restart.
    producer.produce(
        rep_deals_topic(settings.app_id),
        key=damaged,
        value=b"\xff not a forward",
        partition=owner_partition(rep, settings.topic_partitions),
    )
    deals = _good_deals(rep, 1)
    for topic, key, value in deals:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0
    wait_for(lambda: booked(store, prefix) == simulated(plan, deals), 60, "the deal")
    letters = wait_for(
        lambda: [m for m in read_topic(settings, DLQ) if m.key() == damaged],
        60,
        "the damaged message's dead letter",
        1,
    )
    assert read_headers(letters[0].headers())[REASON] == "internal"  # type: ignore[attr-defined]
    assert worker.failure is None
