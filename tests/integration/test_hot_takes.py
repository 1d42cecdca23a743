"""The hot path's takes on the real broker: a take hands over what has arrived
instead of waiting for a batch to fill (an event crosses three takes: route, claim,
fold), and waits for the first message only when nothing has arrived."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from streams.hot.takes import take
from streams.infra.embedded import BrokerProcess
from streams.infra.topics import TopicSpec, ensure_topics
from tests.integration.conftest import unique

pytestmark = pytest.mark.integration
# The wait a take may spend when nothing has arrived, and a batch far larger than
# what is sent: a take that waited for its batch to fill would wait all of it.
WAIT, SIZE = 5.0, 2000


@pytest.fixture
def topic_and_consumer(broker: BrokerProcess) -> Iterator[tuple[str, Consumer]]:
    config = {"bootstrap.servers": broker.bootstrap_servers}
    topic = unique("takes")
    ensure_topics(AdminClient(config), [TopicSpec(topic, 1)])
    consumer = Consumer(
        {**config, "group.id": unique("g"), "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    try:
        yield topic, consumer
    finally:
        consumer.close()


def _send(broker: BrokerProcess, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers})
    for n in range(count):
        producer.produce(topic, value=b"m%d" % n, partition=0)
    assert producer.flush(30) == 0


def _taken(
    consumer: Consumer, count: int, *, at_once: bool
) -> tuple[list[bytes], float]:
    """Take until ``count`` messages came (at most 20 takes), and how long the
    longest take lasted."""
    got: list[bytes] = []
    longest = 0.0
    for _ in range(20):
        started = time.monotonic()
        messages = take(consumer, SIZE, WAIT, at_once=at_once)
        longest = max(longest, time.monotonic() - started)
        got += [m.value() for m in messages if m.error() is None]
        if len(got) >= count:
            break
    return got, longest


def test_a_take_hands_over_what_arrived_without_waiting_for_a_full_batch(
    broker: BrokerProcess, topic_and_consumer: tuple[str, Consumer]
) -> None:
    topic, consumer = topic_and_consumer
    _send(broker, topic, 3)
    got, longest = _taken(consumer, 3, at_once=False)
    assert got == [b"m0", b"m1", b"m2"]
    assert longest < WAIT / 2, f"a take waited {longest:.2f} s for its batch to fill"


def test_a_take_with_a_batch_to_settle_returns_at_once_when_nothing_waits(
    topic_and_consumer: tuple[str, Consumer],
) -> None:
    _, consumer = topic_and_consumer
    # Whatever the client reports while it meets the new topic, before the takes.
    assert all(m.error() is not None for m in consumer.consume(10, 1.0))
    started = time.monotonic()
    assert take(consumer, SIZE, WAIT, at_once=True) == []
    assert time.monotonic() - started < WAIT / 2
    started = time.monotonic()
    assert take(consumer, SIZE, 0.3, at_once=False) == []
    assert time.monotonic() - started >= 0.3 * 0.9  # nothing came: it waited
