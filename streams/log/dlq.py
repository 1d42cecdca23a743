"""What was set aside on the dead-letter topic, and sending it back once fixed.

A dead letter keeps the original key and bytes, with the reason and where it came from
in its headers (``streams.log.deadletter``). Replaying one produces those bytes again to
the topic they came from; the fold recognises an event it already applied by its
``event_id``, so replaying twice books nothing twice. A replayed event that is still
bad is set aside again, with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Producer

from streams.infra.topics import DLQ
from streams.log import deadletter
from streams.log.history import read_partition, served_end


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    key: bytes | None
    value: bytes
    reason: str
    detail: str
    source_topic: str
    source_partition: int
    source_offset: int
    # Set when only a prefix of an oversized message was kept: not replayable.
    original_size: int | None = None


def dead_letters(config: dict[str, Any]) -> list[DeadLetter]:
    """Every record on the dead-letter topic (one partition), oldest first."""
    found = []
    for message in read_partition(config, DLQ, 0, served_end(config, DLQ, 0)):
        headers = deadletter.read_headers(message.headers())
        found.append(
            DeadLetter(
                offset=message.offset() or 0,
                key=message.key(),
                value=message.value() or b"",
                reason=headers.get(deadletter.REASON, ""),
                detail=headers.get(deadletter.DETAIL, ""),
                source_topic=headers.get(deadletter.SOURCE_TOPIC, ""),
                source_partition=int(headers.get(deadletter.SOURCE_PARTITION, "-1")),
                source_offset=int(headers.get(deadletter.SOURCE_OFFSET, "-1")),
                original_size=int(headers[deadletter.ORIGINAL_SIZE])
                if deadletter.ORIGINAL_SIZE in headers
                else None,
            )
        )
    return found


def select(
    letters: Iterable[DeadLetter],
    *,
    reason: str | None = None,
    offsets: Iterable[int] = (),
) -> list[DeadLetter]:
    """The dead letters with ``reason`` (any if None) and among ``offsets`` (any if
    none are given)."""
    wanted = set(offsets)
    return [
        letter
        for letter in letters
        if (reason is None or letter.reason == reason)
        and (not wanted or letter.offset in wanted)
    ]


def resubmit(config: dict[str, Any], letters: Iterable[DeadLetter]) -> int:
    """Produce each dead letter's original key and bytes to its source topic."""
    producer = Producer(config)
    sent = 0
    for letter in letters:
        if not letter.source_topic or letter.original_size is not None:
            # Not written by QuotaFlow (nowhere to send it back to), or only a
            # prefix was kept.
            continue
        producer.produce(letter.source_topic, key=letter.key, value=letter.value)
        producer.poll(0)
        sent += 1
    remaining = producer.flush(30)
    if remaining:
        msg = f"{remaining} replayed event(s) were not confirmed by the broker"
        raise RuntimeError(msg)
    return sent
