"""Offset regression: the log moved back under what this worker applied (SPEC:
money is never guessed). Apache Kafka with ``acks=all`` and replication does not
lose acknowledged messages, but a broker that did (noida-db after a SIGKILL), or a
topic deleted and recreated, hands out offsets already applied again with other
messages at them; skipping those as replays would lose them silently.

Two signs are watched: a partition's end offset below the offset applied (measured
with the lag, ``streams.hot.lag``), and a message at an offset applied in this
process with other bytes than the one applied there (the last ``KEPT`` offsets of
each partition keep an 8-byte digest). Either stops that partition: its messages
are neither applied nor acknowledged, the consumer pauses it, the alert metric
``quotaflow_offset_regressions_total`` counts it and ``/health`` names it. What to do
is an operator's decision (README, "Offset regression").
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from hashlib import blake2b
from typing import NamedTuple

from streams.log.history import Record

log = logging.getLogger(__name__)

KEPT = 1_024
"""Applied offsets per partition whose message digest is kept."""


class Regression(NamedTuple):
    """A partition whose log moved back under what was applied from it."""

    topic: str
    partition: int
    applied: int
    found: int
    why: str

    def describe(self) -> str:
        return (
            f"{self.topic}/{self.partition}: {self.why} (applied up to offset "
            f"{self.applied}, found {self.found})"
        )


def digest(record: Record) -> bytes:
    return blake2b(record.key + b"\0" + record.value, digest_size=8).digest()


class AppliedDigests:
    """The digests of the last ``KEPT`` messages applied from each partition."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, int], OrderedDict[int, bytes]] = {}

    def remember(self, record: Record) -> None:
        kept = self._kept.setdefault((record.topic, record.partition), OrderedDict())
        kept[record.offset] = digest(record)
        if len(kept) > KEPT:
            kept.popitem(last=False)

    def differs(self, record: Record) -> bool:
        """Whether an offset applied here came again with other bytes."""
        kept = self._kept.get((record.topic, record.partition))
        known = None if kept is None else kept.get(record.offset)
        return known is not None and known != digest(record)

    def forget(self, topic: str, partition: int) -> None:
        self._kept.pop((topic, partition), None)
