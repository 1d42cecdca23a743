"""The hot path's takes on the real broker: a take hands over what has arrived
instead of waiting for a batch to fill (an event crosses three takes: route, claim,
fold), and waits for the first message only when nothing has arrived."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from streams.hot.takes import Rest, take
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


def test_an_idle_take_rests_its_partitions_then_resumes_all_but_the_stopped(
    broker: BrokerProcess,
) -> None:
    """A take that found nothing pauses the partitions for the rest (no fetch goes
    out) and resumes them after: what came meanwhile is taken next. A partition
    stopped by an offset regression stays paused."""
    config = {"bootstrap.servers": broker.bootstrap_servers}
    topic = unique("rests")
    ensure_topics(AdminClient(config), [TopicSpec(topic, 2)])
    consumer = Consumer(
        {**config, "group.id": unique("g"), "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0), TopicPartition(topic, 1, 0)])
        assert all(m.error() is not None for m in consumer.consume(10, 1.0))
        consumer.pause([TopicPartition(topic, 1)])  # as a regression stops it
        # Idle long enough already: this empty take rests.
        rest = Rest(1.0, {(topic, 1)}, threading.Event(), time.monotonic() - 60)
        started = time.monotonic()
        assert take(consumer, SIZE, 0.2, at_once=False, rest=rest) == []
        assert time.monotonic() - started >= 1.0 * 0.9  # it waited, then rested
        producer = Producer(config)
        for partition in (0, 1):
            for n in range(3):
                producer.produce(topic, value=b"p%d-%d" % (partition, n),
                                 partition=partition)  # fmt: skip
        assert producer.flush(30) == 0
        got: list[bytes] = []
        for _ in range(20):
            messages = take(consumer, SIZE, 0.5, at_once=False, rest=rest)
            got += [m.value() for m in messages if m.error() is None]
            if len(got) >= 3:
                break
        got += [m.value() for m in consumer.consume(SIZE, 1.0) if m.error() is None]
        assert got == [b"p0-0", b"p0-1", b"p0-2"]  # partition 1 still stopped
        # A stop cuts a rest short.
        rest.stop.set()
        started = time.monotonic()
        assert take(consumer, SIZE, 0.1, at_once=False,
                    rest=Rest(60.0, set(), rest.stop, 0.0)) == []  # fmt: skip
        assert time.monotonic() - started < 30
    finally:
        consumer.close()
