"""Dead-letter records: original bytes untouched; reason and origin in headers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from domain.events import MAX_EVENT_BYTES

REASON = "quotaflow-reason"
DETAIL = "quotaflow-detail"
SOURCE_TOPIC = "quotaflow-source-topic"
SOURCE_PARTITION = "quotaflow-source-partition"
SOURCE_OFFSET = "quotaflow-source-offset"
ORIGINAL_SIZE = "quotaflow-original-size"
ORIGINAL_SHA256 = "quotaflow-original-sha256"
_MAX_DETAIL = 4000
# A dead letter of a message larger than any valid event keeps this much of it: the
# whole message might not fit on the dead-letter topic.
KEPT_PREFIX = 4096


def dead_letter_headers(
    *, code: str, detail: str, topic: str, partition: int, offset: int
) -> list[tuple[str, bytes]]:
    return [
        (REASON, code.encode()),
        (DETAIL, detail[:_MAX_DETAIL].encode()),
        (SOURCE_TOPIC, topic.encode()),
        (SOURCE_PARTITION, str(partition).encode()),
        (SOURCE_OFFSET, str(offset).encode()),
    ]


def shrunk(value: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The bytes a dead letter keeps, and headers saying what was cut: a message
    larger than any valid event keeps a prefix, its size and its SHA-256 digest."""
    if len(value) <= MAX_EVENT_BYTES:
        return value, []
    return value[:KEPT_PREFIX], [
        (ORIGINAL_SIZE, str(len(value)).encode()),
        (ORIGINAL_SHA256, hashlib.sha256(value).hexdigest().encode()),
    ]


def dead_letter_record(
    value: bytes, *, code: str, detail: str, topic: str, partition: int, offset: int
) -> tuple[bytes, list[tuple[str, str | bytes | None]]]:
    """The bytes a dead letter keeps (``shrunk``) and its headers: the reason, the
    origin, and what was cut."""
    kept, cut = shrunk(value)
    headers: list[tuple[str, str | bytes | None]] = [
        *dead_letter_headers(
            code=code, detail=detail, topic=topic, partition=partition, offset=offset
        ),
        *cut,
    ]
    return kept, headers


HeaderValue = str | bytes | None


def read_headers(
    headers: Sequence[tuple[str, HeaderValue]] | Mapping[str, HeaderValue] | None,
) -> dict[str, str]:
    """Headers of a dead-letter record as text, whichever client delivered them."""
    items = headers.items() if isinstance(headers, Mapping) else (headers or [])
    return {key: _text(value) for key, value in items}


def _text(value: HeaderValue) -> str:
    if isinstance(value, str):
        return value
    return (value or b"").decode(errors="replace")
