"""Period awards on the stream: each rep partition's share of a closing period's
facts meets the others on the one-partition topic ``<app>-period-shares``, and when
every partition's share is there the awards are made once (``domain.periodawards``).

Like the other agents' state, the awarder's is the fold of its log and is rebuilt
from it up to the group's committed offset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.periodawards import Awarded, PeriodShare, award_period
from domain.world import Refused
from streams.log.history import committed_offset, read_partition
from streams.state.routing import Origin, origin_of, origin_record

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShareReport:
    """One rep partition's share, with the period close it answers (for a dead
    letter, should the awards be refused)."""

    partition: int
    partitions: int
    share: PeriodShare
    event: bytes
    origin: Origin


def encode_report(report: ShareReport) -> bytes:
    return orjson.dumps(
        {
            "partition": report.partition,
            "partitions": report.partitions,
            "share": report.share.model_dump(mode="json"),
            "close": origin_record(report.origin, report.event),
        }
    )


def decode_report(data: bytes) -> ShareReport:
    record: dict[str, Any] = orjson.loads(data)
    close = record["close"]
    return ShareReport(
        partition=record["partition"],
        partitions=record["partitions"],
        share=PeriodShare.model_validate(record["share"]),
        event=close["event"].encode(),
        origin=origin_of(close),
    )


@dataclass
class PeriodAwarder:
    """The shares of each period still being gathered, and the periods awarded."""

    waiting: dict[str, dict[int, PeriodShare]] = field(default_factory=dict)
    awarded: set[str] = field(default_factory=set)
    applied: int = -1

    def take(self, report: ShareReport) -> Awarded | Refused | None:
        """The awards once the last partition's share arrives; ``None`` before, and
        for a period already awarded. A share that comes again (a partition that
        crashed after sending it) does not replace the first."""
        period = report.share.period
        if period in self.awarded:
            return None
        shares = self.waiting.setdefault(period, {})
        shares.setdefault(report.partition, report.share)
        if len(shares) < report.partitions:
            return None
        del self.waiting[period]
        self.awarded.add(period)
        try:
            return award_period([shares[n] for n in sorted(shares)])
        except Refused as refused:
            return refused


def rebuild_awarder(config: dict[str, Any], group: str, topic: str) -> PeriodAwarder:
    """Gather the shares of the log again, writing nothing."""
    state = PeriodAwarder()
    until = committed_offset(config, group, topic, 0)
    for message in read_partition(config, topic, 0, until):
        state.take(decode_report(message.value() or b""))
    state.applied = until - 1
    log.info("rebuilt the period awards of %s from %d shares", topic, until)
    return state
