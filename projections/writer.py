"""The one way rows reach ClickHouse: inserts of at most ``MAX_ROWS`` rows, each
with an ``insert_deduplication_token`` named after the log range it came from.

A worker writes a batch's rows before it acknowledges the batch. After a crash the
same range is folded again into the same rows; the token lets ClickHouse drop the
repeated insert outright (migration 006 keeps a window of recent tokens on every
table; replicated tables keep one anyway), and ReplacingMergeTree(version) with
FINAL reads collapses whatever a differently cut batch writes twice.

The token is the source range plus a digest of the rows: a token never stands for
rows other than the ones it was made from, so deduplication can only drop a true
repeat.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from projections.store import Store

# Inserts of up to 10,000 rows: ClickHouse likes few, large inserts; this bounds
# the memory of one and the work one failed insert repeats.
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Span:
    """The offsets ``first``–``last`` of one partition of one topic."""

    topic: str
    partition: int
    first: int
    last: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.first}-{self.last}"


def spans(topic: str, offsets: Sequence[tuple[int, int]]) -> tuple[Span, ...]:
    """The spans of a batch's (partition, offset) pairs, one per partition."""
    by_partition: dict[int, list[int]] = {}
    for partition, offset in offsets:
        by_partition.setdefault(partition, []).append(offset)
    return tuple(
        Span(topic, partition, min(found), max(found))
        for partition, found in sorted(by_partition.items())
    )


def dedup_token(
    table: str, source: Sequence[Span], part: int, rows: Sequence[Sequence[Any]]
) -> str:
    """``table/topic:partition:first-last[,…]/part/rows-digest``."""
    digest = zlib.crc32(repr(rows).encode())
    where = ",".join(str(span) for span in source)
    return f"{table}/{where}/{part}/{len(rows)}-{digest:08x}"


def insert(
    store: Store,
    table: str,
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    source: Sequence[Span] = (),
) -> int:
    """Insert ``rows`` in parts of at most ``MAX_ROWS``; with a ``source``, each
    part carries its deduplication token. Returns the rows written."""
    for part, start in enumerate(range(0, len(rows), MAX_ROWS)):
        chunk = rows[start : start + MAX_ROWS]
        token = dedup_token(table, source, part, chunk) if source else None
        store.insert(table, chunk, columns, token=token)
    return len(rows)
