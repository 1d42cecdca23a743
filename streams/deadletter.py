"""Dead-letter records: original bytes untouched; reason and origin in headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

REASON = "quotaflow-reason"
DETAIL = "quotaflow-detail"
SOURCE_TOPIC = "quotaflow-source-topic"
SOURCE_PARTITION = "quotaflow-source-partition"
SOURCE_OFFSET = "quotaflow-source-offset"
_MAX_DETAIL = 4000


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
