"""A message's verdict when it is not applied: set aside on the dead-letter topic,
with its reason, and a row for the read side."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from domain.engine import Rejection
from domain.events import InvalidEvent
from projections.deadletters import dead_letter_row, write_dead_letters
from projections.store import Store
from projections.writer import Span
from streams.state.routing import Origin

log = logging.getLogger(__name__)


@dataclass
class DeadLetter:
    """A message set aside: its row on the read side (the topic has it already)."""

    origin: Origin
    key: bytes | None
    value: bytes
    reason: str
    detail: str

    def row(self) -> tuple[Span, list[Any]]:
        """Its row in the read side's dead-letter table, and where it came from."""
        origin = self.origin
        return dead_letter_row(
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
            reason=self.reason,
            detail=self.detail,
            key=self.key,
            value=self.value,
        )

    def write(self, store: Store) -> None:
        write_dead_letters(store, [self.row()])


def internal(exc: Exception, origin: Origin) -> InvalidEvent:
    """The verdict on a message whose handling failed unexpectedly: set aside with
    the exception's type named (its text may quote data, so it is only logged)."""
    log.error("internal error on %s/%d@%d; dead-lettered", origin.topic,
              origin.partition, origin.offset, exc_info=exc)  # fmt: skip
    kind = type(exc)
    return InvalidEvent("internal", f"{kind.__module__}.{kind.__qualname__}")


def encoded(rejection: Rejection) -> bytes:
    """The JSON of the event a rejection refuses when it is not the message being
    folded (a target that waited for its parent)."""
    event = rejection.event
    assert event is not None  # noqa: S101 - only called for such a rejection
    return type(event).__pydantic_serializer__.to_json(event)
