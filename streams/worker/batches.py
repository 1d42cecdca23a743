"""The batches of the low-rate agents: where they came from, the verdict on a message
that failed unexpectedly, and acknowledging nothing of a batch that failed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import faust
from faust.types import EventT

from projections.writer import Span, spans

log = logging.getLogger(__name__)


@contextmanager
def unacknowledged_on_failure(batch: list[EventT[bytes]]) -> Iterator[None]:
    """A batch that failed stays unacknowledged. faust's ``take_events`` acks every
    event of the batch in a ``finally``, also when the agent raised; it skips a
    message already marked acked, so marking them keeps their offsets out of every
    commit, and the batch is read again after the restart."""
    try:
        yield
    except BaseException:
        for event in batch:
            event.message.acked = True
        raise


def acknowledge_nothing_more(app: faust.App) -> None:
    """After a failure no message is acknowledged any more, so the group's
    offsets stay below the failed batch. The failed batch's stream lives on
    until the worker stops: when faust finalizes the abandoned ``take_events``
    generator it turns the stream's acks back on, and the stream's background
    drainer then acks every later message it is handed, unprocessed. faust
    commits the first run of acked offsets even when it starts one past the
    committed offset (and checks nothing before its first commit), so the
    offsets would jump past the failed batch and the restarted worker would
    rebuild over it without writing its lines. faust acks only messages of
    the topics in its conductor's acking set: emptied, no later ack counts."""
    app.topics.acking_topics.clear()


def batch_spans(topic: str, batch: list[EventT[bytes]]) -> tuple[Span, ...]:
    """Where a batch came from, for its inserts' deduplication tokens."""
    return spans(topic, [(e.message.partition, e.message.offset) for e in batch])
