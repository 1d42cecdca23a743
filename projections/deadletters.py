"""The dead-letter projection: what was set aside, why, and from where."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from projections.store import Store
from projections.writer import Span, insert

PREVIEW_BYTES = 4096
_COLUMNS = (
    "source_topic",
    "source_partition",
    "source_offset",
    "reason",
    "detail",
    "event_key",
    "event_preview",
)


class DeadLetterRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    source_topic: str
    source_partition: int
    source_offset: int
    reason: str
    detail: str
    event_key: str
    event_preview: str
    set_aside_at: datetime


def dead_letter_row(
    *,
    topic: str,
    partition: int,
    offset: int,
    reason: str,
    detail: str,
    key: bytes | None,
    value: bytes,
) -> tuple[Span, list[Any]]:
    """A dead letter's row and the message it sets aside (for the insert's token)."""
    row: list[Any] = [
        topic,
        partition,
        offset,
        reason,
        detail,
        (key or b"").decode(errors="replace"),
        value[:PREVIEW_BYTES].decode(errors="replace"),
    ]
    return Span(topic, partition, offset, offset), row


def write_dead_letters(store: Store, letters: Sequence[tuple[Span, list[Any]]]) -> None:
    """Dead letters in one insert (a burst of bad messages costs one, not one each)."""
    if not letters:
        return
    rows = [row for _, row in letters]
    insert(store, "dead_letters", rows, _COLUMNS, tuple(span for span, _ in letters))


def dead_letters(
    store: Store, reason: str | None = None, limit: int = 100
) -> list[DeadLetterRow]:
    """The newest dead letters first, of one ``reason`` or of all."""
    rows = store.rows(
        "SELECT source_topic, source_partition, source_offset, reason, detail, "
        "event_key, event_preview, set_aside_at FROM dead_letters FINAL "
        "WHERE {reason:String} = '' OR reason = {reason:String} "
        "ORDER BY set_aside_at DESC, source_topic, source_partition, source_offset "
        "LIMIT {limit:UInt32}",
        {"reason": reason or "", "limit": limit},
    )
    fields = DeadLetterRow.model_fields
    return [DeadLetterRow(**dict(zip(fields, row, strict=True))) for row in rows]
