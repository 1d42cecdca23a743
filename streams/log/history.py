"""Reading a partition's history: how a worker rebuilds its state from the log.

The topics are the event store (kept forever), so a worker's in-memory state for a
partition is the fold of that partition up to the group's committed offset: the
messages before it were fully processed, their output written, by whichever worker
had the partition before. Messages from the committed offset on are delivered again by
the group and processed as usual.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from streams.infra.topics import PROBE_GROUP, watermarks_on

# noida-db ignores fetch size limits (``fetch.max.bytes``,
# ``max.partition.fetch.bytes``): a fetch brings every asked partition's log up to
# its end, in one response. librdkafka drops a response over this size and asks
# again, for ever: a consumer of a large backlog then reads nothing (seen: 100 MB of
# the rep topic after 100,000 events stalled the hot path). Apache Kafka keeps a
# response within ``fetch.max.bytes`` (50 MB), far below it.
LARGE_FETCH = {"receive.message.max.bytes": 1_000_000_000}
# Messages asked of the broker at a time when reading history.
_BATCH = 10_000


def committed_offset(
    config: dict[str, Any], group: str, topic: str, partition: int, timeout: float = 30
) -> int:
    """The group's committed offset of ``topic``/``partition`` (0 if none)."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        return committed_on(consumer, topic, partition, timeout)
    finally:
        consumer.close()


def committed_on(consumer: Consumer, topic: str, partition: int, timeout: float) -> int:
    """``committed_offset`` asked through a consumer of the group that is at hand."""
    (found,) = consumer.committed([TopicPartition(topic, partition)], timeout)
    return max(found.offset, 0)


def watermarks(
    config: dict[str, Any], topic: str, partition: int, timeout: float = 30
) -> tuple[int, int]:
    """The first offset ``topic``/``partition`` still holds, and the offset its next
    message will get."""
    consumer = Consumer({**config, "group.id": PROBE_GROUP})
    try:
        return watermarks_on(consumer, topic, partition, timeout)
    finally:
        consumer.close()


def end_offset(
    config: dict[str, Any], topic: str, partition: int, timeout: float = 30
) -> int:
    """The offset the next message of ``topic``/``partition`` will get."""
    return watermarks(config, topic, partition, timeout)[1]


def served_end(
    config: dict[str, Any], topic: str, partition: int, timeout: float = 30
) -> int:
    """The offset the next message of ``topic``/``partition`` will get, as a fetch
    finds it: Apache Kafka reports that end, but Tansu reports the first offset of
    the partition's last batch plus one, so the messages from there are read until
    the consumer hears it reached the end."""
    end = end_offset(config, topic, partition, timeout)
    for message in read_partition(config, topic, partition, None, timeout, start=end):
        end = offset_of(message) + 1
    return end


def read_partition(
    config: dict[str, Any],
    topic: str,
    partition: int,
    until: int | None,
    timeout: float = 60,
    start: int = 0,
) -> Iterator[Message]:
    """Every message of ``topic``/``partition`` from ``start`` to below ``until``;
    with ``until`` None, to the end the consumer reaches (``served_end``)."""
    if until is not None and until <= start:
        return
    consumer = Consumer(
        {
            **config,
            **LARGE_FETCH,
            "group.id": "quotaflow-history",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            # At the end, the broker answers at once that nothing more is there.
            "fetch.wait.max.ms": 10,
        }
    )
    try:
        consumer.assign([TopicPartition(topic, partition, start)])
        deadline = time.monotonic() + timeout
        following = start  # the offset of the next message, if none is missing
        # Where the end is said to be, when none is given (Tansu's may be short).
        end = until
        if end is None:
            end = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout
            )[1]
        while True:
            # consume() waits for a full batch or its timeout: ask often, briefly,
            # and for no more than can be left before the end, and the end-of-
            # partition event after it when the end is the partition's (else the
            # last batch waited the whole 0.2 s: a rebuild paid that for every
            # partition it read).
            left = end - following + (1 if until is None else 0)
            batch = consumer.consume(min(_BATCH, left) if left > 0 else _BATCH, 0.2)
            if not batch:
                if time.monotonic() > deadline:
                    msg = f"no history from {topic}/{partition} within {timeout}s"
                    raise TimeoutError(msg)
                continue
            deadline = time.monotonic() + timeout
            for message in batch:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        return
                    raise RuntimeError(str(error))
                offset = offset_of(message)
                if until is not None and offset >= until:
                    return
                following = offset + 1
                yield message
                if until is not None and offset == until - 1:
                    return  # the last one: no need to wait for the end
    finally:
        consumer.close()


@dataclass(frozen=True, slots=True)
class Record:
    """A message as the agents handle it, whether faust delivered it or it was read
    again from the log (a gap the group's committed offset did not cover)."""

    topic: str
    partition: int
    offset: int
    timestamp: float  # seconds
    key: bytes
    value: bytes

    @classmethod
    def of(cls, message: Any) -> Record:
        """From a faust message."""
        return cls(
            message.topic,
            message.partition,
            message.offset,
            message.timestamp,
            message.key or b"",
            message.value or b"",
        )


def read_gap(
    config: dict[str, Any], topic: str, partition: int, start: int, until: int
) -> list[Record]:
    """The messages from ``start`` to below ``until``, as records."""
    return [
        Record(
            topic,
            partition,
            offset_of(message),
            message.timestamp()[1] / 1000,
            message.key() or b"",
            message.value() or b"",
        )
        for message in read_partition(config, topic, partition, until, start=start)
    ]


def offset_of(message: Message) -> int:
    """A consumed message's offset (only produced-but-unsent messages have none)."""
    offset = message.offset()
    if offset is None:  # pragma: no cover - consumed messages always have one
        msg = "a consumed message without an offset"
        raise RuntimeError(msg)
    return offset
