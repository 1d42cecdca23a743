"""A hostile corpus of 10,000 messages mixed into valid traffic on the real topics
(issue 14): every hostile message is dead-lettered with a reason, the worker never
stops, and the valid events book exactly what ``simulate`` books for them alone."""

from __future__ import annotations

import random
from collections import Counter
from itertools import islice
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import Message, sample_events
from streams.infra.settings import Settings
from streams.infra.topics import DEALS, PAYMENTS, SATISFACTION
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event, payment_event
from tests.integration.conftest import unique, wait_for
from tests.integration.test_stream_equals_simulate import booked, simulated

pytestmark = pytest.mark.integration
HOSTILE = 10_000


def _replaced(event: dict[str, Any], field: str, value: Any) -> bytes:
    return orjson.dumps({**event, field: value})


def _hostile(rng: random.Random, n: int) -> tuple[str, bytes]:
    """The ``n``th hostile message (its topic and bytes): never a valid event."""
    deal = deal_event(event_id=f"h-{n}", deal_id=f"HD-{n}")
    pay = payment_event(f"hp-{n}", f"HD-{n}", "100.00", "2026-03-01T10:00:00+08:00")
    text = orjson.dumps(deal)
    kinds = [
        lambda: (DEALS, rng.randbytes(rng.randint(1, 300))),
        lambda: (DEALS, text[: rng.randint(1, len(text) - 1)]),
        lambda: (DEALS, _replaced(deal, "amount", rng.choice(
            ["1e30", "NaN", "", "1_000", " 100 ", "12345678901234567890", True, []]))),
        lambda: (DEALS, _replaced(deal, "occurred_at", rng.choice(
            [1_700_000_000, "yesterday", "", "9999-12-31T00:00:00Z"]))),
        lambda: (DEALS, _replaced(deal, "new_customer", rng.choice(["yes", 1, "0"]))),
        lambda: (DEALS, _replaced(deal, "event_id", rng.choice(["   ", ""]))),
        lambda: (DEALS, _replaced(deal, "event_type", "DealOpened")),
        lambda: (DEALS, _replaced(deal, "schema_version", 99)),
        lambda: (DEALS, orjson.dumps({k: v for k, v in deal.items()
                                      if k != "deal_id"})),
        lambda: (DEALS, b'{"a":' * 40 + b"1" + b"}" * 40),
        lambda: (PAYMENTS, text),  # a deal on the payments topic
        lambda: (SATISFACTION, orjson.dumps(pay)),  # a payment on satisfaction
        lambda: (PAYMENTS, text.decode().encode("utf-16")),
        lambda: (DEALS, rng.choice([b"[]", b"42", b'"deal"', b"null"])),
    ]  # fmt: skip
    topic, value = kinds[n % len(kinds)]()
    return topic, value


def test_ten_thousand_hostile_messages_each_get_a_dead_letter(
    worker: QuotaFlowApp,
    settings: Settings,
    store: Store,
    producer: Producer,
    plan: Plan,
) -> None:
    prefix = unique("hostile") + "-"
    valid = sample_events(2_000, seed=47, prefix=prefix)
    expected = simulated(plan, valid)
    rng = random.Random(53)  # noqa: S311 - a repeatable corpus, not a secret
    keys = f"{prefix}h".encode()
    hostile: list[Message] = []
    for n in range(HOSTILE):
        topic, value = _hostile(rng, n)
        hostile.append((topic, keys + str(n).encode(), value))
    # Hostile messages between the valid ones, which keep their order.
    rest, mixed = iter(hostile), list[Message]()
    for event in valid:
        mixed.append(event)
        mixed.extend(islice(rest, rng.randint(0, 2 * HOSTILE // len(valid))))
    mixed.extend(rest)
    for topic, key, value in mixed:
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    assert producer.flush(60) == 0

    def dead_lettered() -> int:
        rows = store.rows(
            "SELECT count() FROM dead_letters FINAL "
            "WHERE startsWith(event_key, {keys:String})",
            {"keys": keys.decode()},
        )
        return int(rows[0][0])

    wait_for(lambda: booked(store, prefix) == expected, timeout=300, every=1,
             what="the valid events booked as simulate books them alone")  # fmt: skip
    wait_for(lambda: dead_lettered() == HOSTILE, timeout=300, every=1,
             what="a dead letter for every hostile message")  # fmt: skip
    reasons = Counter(
        reason
        for (reason,) in store.rows(
            "SELECT reason FROM dead_letters FINAL "
            "WHERE startsWith(event_key, {keys:String})",
            {"keys": keys.decode()},
        )
    )
    assert {"undecodable", "invalid", "too_deep", "unknown_event_type",
            "wrong_topic"} <= set(reasons), reasons  # fmt: skip
    assert worker.failure is None
    assert not worker.app.crashed
