"""Issue 14: an event id is one fact's in the whole app. Used again for another deal,
or for a company event after a rep's (or the other way round), the later use is
refused as a conflict, wherever the two land (``streams.state.claims``), through the
real broker and chDB."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from domain.plan import Plan
from projections.store import Store
from streams.bench.generator import Message
from streams.infra.settings import Settings
from streams.infra.topics import DEALS, DLQ, ORG, claims_topic
from streams.log.deadletter import DETAIL, REASON, read_headers
from streams.state.routing import owner_partition
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event, hire_event
from tests.integration.conftest import (
    metrics_text,
    read_topic,
    sample,
    unique,
    wait_for,
)
from tests.integration.test_stream_equals_simulate import booked, simulated

pytestmark = pytest.mark.integration


def _reps_apart(prefix: str, partitions: int) -> tuple[str, str]:
    """Two reps whose worlds live in different partitions of the rep topic."""
    first = prefix + "R0"
    for n in range(1, 100):
        other = f"{prefix}R{n}"
        if owner_partition(other, partitions) != owner_partition(first, partitions):
            return first, other
    raise AssertionError("no two reps in different partitions")


def _deal(event_id: str, rep: str) -> Message:
    deal = unique("D")
    splits = [{"rep_id": rep, "share": "1"}]
    event = deal_event(
        event_id=event_id, deal_id=deal, rep_id=rep, amount="100000.00",
        margin="0.00", new_customer=False, splits=splits,
    )  # fmt: skip
    return (DEALS, deal.encode(), orjson.dumps(event))


def _letter(settings: Settings, key: bytes) -> dict[str, str]:
    """The headers of the dead letter of the message sent with ``key``."""

    def found() -> Any:
        letters = [m for m in read_topic(settings, DLQ) if m.key() == key]
        return letters or None

    letters = wait_for(found, 60, f"the dead letter of {key!r}", 1)
    assert len(letters) == 1
    return read_headers(letters[0].headers())


def _passed(settings: Settings) -> float:
    series = 'quotaflow_events_total{outcome="passed",topic="%s"}'
    return sample(metrics_text(settings), series % claims_topic(settings.app_id))


def test_one_event_id_used_for_two_deals_in_two_partitions_books_one_of_them(
    worker: QuotaFlowApp, store: Store, settings: Settings, plan: Plan
) -> None:
    prefix = unique("twice") + "-"
    first_rep, second_rep = _reps_apart(prefix, settings.topic_partitions)
    reused = unique("e")
    deals = [_deal(reused, first_rep), _deal(reused, second_rep)]
    producer = Producer(settings.confluent_config())
    # On two partitions of the deals topic, so no one router sees both.
    for partition, (topic, key, value) in enumerate(deals):
        producer.produce(topic, key=key, value=value, partition=partition)
    assert producer.flush(30) == 0
    # Which comes first is the broker's business; the other is refused.
    keys = {key for _, key, _ in deals}

    def letters() -> list[Any]:
        return [m for m in read_topic(settings, DLQ) if m.key() in keys]

    wait_for(lambda: letters() or None, 60, "a dead letter of one of the deals", 1)
    (letter,) = letters()
    refused_key = letter.key()
    headers = read_headers(letter.headers())
    assert headers[REASON] == "conflict"
    assert f"event_id {reused} was already used" in headers[DETAIL]
    kept = [deal for deal in deals if deal[1] != refused_key]
    wait_for(
        lambda: booked(store, prefix) == simulated(plan, kept),
        60,
        "the deal that came first, booked alone",
        0.5,
    )
    assert len(booked(store, prefix)) == 1
    assert len(letters()) == 1
    assert worker.failure is None


def test_an_event_id_of_a_rep_and_of_the_whole_company_is_refused_in_either_order(
    worker: QuotaFlowApp, store: Store, settings: Settings, plan: Plan
) -> None:
    prefix = unique("shared") + "-"
    rep, other_rep = _reps_apart(prefix, settings.topic_partitions)
    producer = Producer(settings.confluent_config())
    at = "2026-03-01T09:00:00+08:00"
    # A rep's deal first, then a hire under its id.
    deal = _deal(unique("e"), rep)
    producer.produce(DEALS, key=deal[1], value=deal[2])
    assert producer.flush(30) == 0
    wait_for(
        lambda: booked(store, prefix) == simulated(plan, [deal]), 60, "the deal", 0.5
    )
    hire = hire_event(prefix + "H1", "T-1", "east", at)
    hire["event_id"] = orjson.loads(deal[2])["event_id"]
    hire_key = unique("hire").encode()
    producer.produce(ORG, key=hire_key, value=orjson.dumps(hire))
    assert producer.flush(30) == 0
    headers = _letter(settings, hire_key)
    assert headers[REASON] == "conflict"
    assert (
        "already used for other than an event of the whole company" in headers[DETAIL]
    )
    # A hire first, then a deal under its id.
    hire = hire_event(prefix + "H2", "T-1", "east", at)
    passed = _passed(settings)
    producer.produce(ORG, key=unique("hire").encode(), value=orjson.dumps(hire))
    assert producer.flush(30) == 0
    wait_for(lambda: _passed(settings) > passed, 60, "the hire's claim", 0.5)
    late = _deal(hire["event_id"], other_rep)
    producer.produce(DEALS, key=late[1], value=late[2])
    assert producer.flush(30) == 0
    headers = _letter(settings, late[1])
    assert headers[REASON] == "conflict"
    assert f"already used for other than deal {late[1].decode()}" in headers[DETAIL]
    assert booked(store, prefix) == simulated(plan, [deal])
    assert worker.failure is None


def test_a_damaged_claim_is_dead_lettered_as_internal_and_the_worker_goes_on(
    worker: QuotaFlowApp, store: Store, settings: Settings, plan: Plan
) -> None:
    prefix = unique("damaged") + "-"
    producer = Producer(settings.confluent_config())
    # Only the worker writes the claims topic: a message there it cannot read, or
    # one that reads as a claim but holds nonsense, must not stop it.
    nonsense = {"id": 5, "subject": "deal/x", "reps": [1], "event": "{}",
                "topic": DEALS, "partition": 0, "offset": 0, "timestamp": 0.0,
                "key": ""}  # fmt: skip
    damaged = {
        unique("undecodable").encode(): b"\xff not a claim",
        unique("nonsense").encode(): orjson.dumps(nonsense),
    }
    for key, value in damaged.items():
        producer.produce(claims_topic(settings.app_id), key=key, value=value)
    deal = _deal(unique("e"), prefix + "R")
    producer.produce(DEALS, key=deal[1], value=deal[2])
    assert producer.flush(30) == 0
    wait_for(
        lambda: booked(store, prefix) == simulated(plan, [deal]), 60, "the deal", 0.5
    )
    for key in damaged:
        assert _letter(settings, key)[REASON] == "internal"
    assert worker.failure is None
