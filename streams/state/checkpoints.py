"""Checkpoints: each partition's state entries, with the offsets they reflect.

A checkpoint is written as one write of the entries that changed: each entry is a
message on the compacted topic ``<app>-checkpoints``, on the partition of the same
number, keyed ``<kind>/<partition>/<name>``; a later entry of a key replaces an
earlier one. Any worker that takes a partition can read them there.

A worker also keeps the entries in a local RocksDB (rocksdict), with the checkpoint
topic's offset they reflect. A worker that takes a partition again, restarted or
after a rebalance, reads only the topic after that offset: its recovery depends on
how much was checkpointed since, not on how long the log is. Entries enter the
local store only once the broker has confirmed them (``confirm``), so the local
store is never ahead of the topic: a rep's entry and the base entry that vouches for
it are either both there or the older pair is.

Without a local store (``memory://``) the topic partition is read from its start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer
from rocksdict import Options, Rdict, WriteBatch

from streams.infra.topics import PROBE_GROUP, watermarks_on
from streams.log.history import read_partition, served_end

log = logging.getLogger(__name__)

# The local store's key of the checkpoint topic offset a partition's entries reflect.
_READ = b"@read/"


# What the local store holds in memory before it writes a table file: a worker
# killed without a flush replays that much of its write-ahead log when it opens the
# store again (RocksDB's default, 64 MB, took 0.63 s of a restart after 300,000
# events; a round writes a few MB).
_WRITE_BUFFER = 16 << 20


def _store_options() -> Options:
    options = Options(raw_mode=True)
    options.set_write_buffer_size(_WRITE_BUFFER)
    return options


def checkpoint_key(kind: str, partition: int, name: str) -> bytes:
    return f"{kind}/{partition}/{name}".encode()


class Checkpoints:
    """The checkpoint topic of one app, and this worker's local copy of it."""

    def __init__(
        self,
        config: dict[str, Any],
        topic: str,
        producer: Producer,
        local: Path | None,
    ) -> None:
        self._config = config
        self.topic = topic
        self.producer = producer
        self._db: Rdict | None = None
        if local is not None:
            local.mkdir(parents=True, exist_ok=True)
            self._db = Rdict(str(local), options=_store_options())
        # Entries sent and not yet confirmed, and the highest offset each got.
        self._sent: list[tuple[int, bytes, bytes]] = []
        self._delivered: dict[int, int] = {}
        self._failed: KafkaError | None = None
        # Asks the topic's offsets, for as long as the worker runs: a new consumer
        # for each asking took 40 ms here, and a restart's loads asked 26 times.
        self._probe: Consumer | None = None

    def write(self, partition: int, entries: Iterable[tuple[bytes, bytes]]) -> int:
        """Send ``entries`` (keys from ``checkpoint_key``) to the topic, in order;
        on the broker at the producer's next flush. Returns the bytes sent."""
        size = 0
        for key, value in entries:
            self.producer.produce(
                self.topic,
                key=key,
                value=value,
                partition=partition,
                on_delivery=self._on_delivery,
            )
            self._sent.append((partition, key, value))
            size += len(value)
        self.producer.poll(0)
        return size

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failed = self._failed or error
            return
        partition, offset = message.partition(), message.offset()
        if partition is not None and offset is not None:
            self._delivered[partition] = max(self._delivered.get(partition, -1), offset)

    def confirm(self) -> None:
        """After a flush of the producer: the sent entries are on the broker, so the
        local store takes them, with the offset they reach, in one write."""
        sent, self._sent = self._sent, []
        delivered, self._delivered = self._delivered, {}
        if self._failed is not None:
            failed, self._failed = self._failed, None
            msg = f"checkpoint not confirmed by the broker: {failed}"
            raise RuntimeError(msg)
        if self._db is None or not sent:
            return
        batch = WriteBatch(raw_mode=True)
        for _, key, value in sent:
            batch.put(key, value)
        for partition, offset in delivered.items():
            batch.put(_READ + str(partition).encode(), str(offset + 1).encode())
        self._db.write(batch)

    def load(self, partition: int, kind: str, timeout: float = 60) -> dict[str, bytes]:
        """The entries of ``kind`` of ``partition``, by name: the local store's, then
        the topic's after the offset it reflects (everything without a local store)."""
        low, high = self._watermarks(partition, timeout)
        start = self._read_from(partition, high, timeout)
        found: dict[bytes, bytes] = {}
        end = start
        marks = (low, high)
        messages = _messages(self._config, self.topic, partition, start, marks, timeout)
        for message in messages:
            found[message.key() or b""] = message.value() or b""
            end = (message.offset() or 0) + 1
        log.info("checkpoint of %s/%d: %d entries read from offset %d",
                 self.topic, partition, len(found), start)  # fmt: skip
        prefix = f"{kind}/{partition}/".encode()
        if self._db is not None:
            batch = WriteBatch(raw_mode=True)
            for key, value in found.items():
                batch.put(key, value)
            batch.put(_READ + str(partition).encode(), str(end).encode())
            self._db.write(batch)
            found = dict(self._local(prefix))
        return {
            key[len(prefix) :].decode(): value
            for key, value in found.items()
            if key.startswith(prefix)
        }

    def _watermarks(self, partition: int, timeout: float) -> tuple[int, int]:
        """The first offset the topic's ``partition`` still holds, and the offset
        its next message will get."""
        if self._probe is None:
            self._probe = Consumer({**self._config, "group.id": PROBE_GROUP})
        return watermarks_on(self._probe, self.topic, partition, timeout)

    def _read_from(self, partition: int, high: int, timeout: float) -> int:
        """The topic offset the local store reflects for ``partition`` (whose end
        the topic reports at ``high``). A store ahead of the topic's end belongs to
        a topic that no longer exists (the broker's data was replaced): its entries
        of the partition are dropped."""
        if self._db is None:
            return 0
        value = self._db.get(_READ + str(partition).encode())
        start = int(value) if value is not None else 0
        config, topic = self._config, self.topic
        # The reported end first: Tansu's may be below what was read (served_end).
        if (
            start
            and start > high
            and start > served_end(config, topic, partition, timeout)
        ):
            log.warning("local checkpoint of %s/%d is ahead of the topic; dropped",
                        self.topic, partition)  # fmt: skip
            for kind in ("routes", "claims", "worlds"):
                for key, _ in list(self._local(f"{kind}/{partition}/".encode())):
                    self._db.delete(key)
            return 0
        return start

    def _local(self, prefix: bytes) -> Iterable[tuple[bytes, bytes]]:
        assert self._db is not None  # noqa: S101 - only called with a store
        for key, value in self._db.items(from_key=prefix):
            if not isinstance(key, bytes) or not key.startswith(prefix):
                return
            yield key, bytes(value)

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        if self._db is not None:
            self._db.close()
            self._db = None


def _messages(
    config: dict[str, Any],
    topic: str,
    partition: int,
    start: int,
    marks: tuple[int, int],
    timeout: float,
) -> Iterable[Message]:
    """The messages of ``topic``/``partition`` from ``start`` (or the first it still
    holds, ``marks``' low) to its end as of now (``marks``' high)."""
    low, end = marks
    if start >= end:
        # Nothing new: Tansu's end may be below the true one (``served_end``), but
        # a batch written after ``start`` puts it past ``start``.
        return
    yield from read_partition(
        config, topic, partition, None, timeout, start=max(start, low)
    )
