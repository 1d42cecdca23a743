"""Period awards on the stream: each rep partition's share of a closing period's
facts meets the others on the one-partition topic ``<app>-period-shares``, and when
every partition's share is there the awards are made once (``domain.periodawards``).

Like the other agents' state, the awarder's is the fold of its log and is rebuilt
from it up to the group's committed offset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from domain.awardbook import Cause, Closing, differences, remember
from domain.payout import into_open_periods
from domain.periodawards import Awarded, PeriodShare, award_period
from domain.world import AwardBook, Refused
from streams.log.history import committed_offset, read_partition
from streams.state.routing import Origin, origin_of, origin_record

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShareReport:
    """One rep partition's share, with the event it answers (for a dead letter,
    should the awards be refused): the period's close, or, with a ``cause``, a
    later fact that changed the facts of a period already closed (SPEC §9)."""

    partition: int
    partitions: int
    share: PeriodShare
    event: bytes
    origin: Origin
    cause: Cause | None = None


def encode_report(report: ShareReport) -> bytes:
    cause = report.cause
    return orjson.dumps(
        {
            "partition": report.partition,
            "partitions": report.partitions,
            "share": report.share.model_dump(mode="json"),
            "close": origin_record(report.origin, report.event),
            "cause": None
            if cause is None
            else [cause.event_id, cause.at.isoformat(), cause.what, cause.tag],
        }
    )


def decode_report(data: bytes) -> ShareReport:
    record: dict[str, Any] = orjson.loads(data)
    close = record["close"]
    cause = record.get("cause")
    return ShareReport(
        partition=record["partition"],
        partitions=record["partitions"],
        share=PeriodShare.model_validate(record["share"]),
        event=close["event"].encode(),
        origin=origin_of(close),
        cause=None
        if cause is None
        else Cause(cause[0], datetime.fromisoformat(cause[1]), cause[2], cause[3]),
    )


@dataclass
class PeriodAwarder:
    """The shares of each period still being gathered; for each period awarded,
    every partition's latest share and what the awards booked, so a later fact
    makes them again and only the difference is written (SPEC §9)."""

    waiting: dict[str, dict[int, PeriodShare]] = field(default_factory=dict)
    awarded: set[str] = field(default_factory=set)
    kept: dict[str, dict[int, PeriodShare]] = field(default_factory=dict)
    books: dict[str, AwardBook] = field(default_factory=dict)
    applied: int = -1

    def take(self, report: ShareReport) -> Awarded | Refused | None:
        """The awards once the last partition's share arrives; ``None`` before, and
        for a close's share of a period already awarded (a partition that crashed
        after sending it does not replace the first). A share sent after a later
        fact replaces its partition's; once the period is awarded, it gives the
        difference lines."""
        period, share = report.share.period, report.share
        if period in self.awarded:
            if report.cause is None:
                return None
            shares = self.kept[period]
            shares[report.partition] = share
            try:
                awarded = award_period([shares[n] for n in sorted(shares)])
            except Refused as refused:  # pragma: no cover - awarded once already
                return refused
            book, lines = differences(
                self.books[period], awarded, share.plan, report.cause
            )
            self.books[period] = book
            # As in the fold: made after a lock, off the locked months' statements.
            moved = into_open_periods(tuple(lines), share.locked)
            return Awarded(period=period, lines=moved)
        shares = self.waiting.setdefault(period, {})
        if report.cause is None:
            shares.setdefault(report.partition, share)
        else:
            shares[report.partition] = share
        if len(shares) < report.partitions:
            return None
        del self.waiting[period]
        self.awarded.add(period)
        self.kept[period] = shares
        try:
            awarded = award_period([shares[n] for n in sorted(shares)])
        except Refused as refused:
            return refused
        closing = Closing(period, share.event_id, share.occurred_at)
        self.books[period] = remember(awarded, closing)
        moved = into_open_periods(awarded.lines, share.locked)
        return awarded.model_copy(update={"lines": moved})


def rebuild_awarder(config: dict[str, Any], group: str, topic: str) -> PeriodAwarder:
    """Gather the shares of the log again, writing nothing."""
    state = PeriodAwarder()
    until = committed_offset(config, group, topic, 0)
    for message in read_partition(config, topic, 0, until):
        state.take(decode_report(message.value() or b""))
    state.applied = until - 1
    log.info("rebuilt the period awards of %s from %d shares", topic, until)
    return state
