"""`quotaflow rebuild`: every projection made again from the log, in new tables,
then swapped in (``EXCHANGE TABLES``, atomic per table); the old tables stay in
``<database>__previous`` until dropped.

The log replayed is the one the worker folds: the rep topic (the event topics as
routed to each rep, in the order they were applied), the period-share topic (the
awards) and the dead-letter topic, each from its start to its end. The rep topic is
replayed through the same ``RepPartition`` and ``PeriodAwarder`` the worker uses,
and written through the same writer, so a rebuilt row equals its live row: the same
key, values and version. Before the swap the two are compared row for row.

Run it with the worker stopped: an embedded ClickHouse is owned by one process,
and rows the worker wrote between the replay and the swap would be missed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.plan import Plan
from domain.world import Refused
from projections.deadletters import dead_letter_row, write_dead_letters
from projections.heatcells import HeatSum
from projections.ledger import write_lines
from projections.store import Store
from projections.writer import MAX_ROWS, Span
from streams.infra import topics
from streams.infra.settings import Settings
from streams.log.dlq import dead_letters
from streams.log.history import offset_of, read_partition, served_end
from streams.state.applied import Folded
from streams.state.partitions import RepPartition
from streams.state.periods import PeriodAwarder, decode_report
from streams.state.routing import decode_forward

PROJECTED = (
    "ledger_lines", "rep_totals", "deal_credits", "rep_directory", "targets",
    "target_changes", "heat_cells", "dead_letters", "payout_records",
)  # fmt: skip
# Set by ClickHouse when a row is written: not part of what a row says. A heatmap
# cell's version is the offset a worker last wrote it at, which a restore moves.
_STAMPS = ("written_at", "set_aside_at")
_UNCOMPARED = {"heat_cells": ("version",)}
Advance = Callable[[int], None]


class RebuildError(RuntimeError):
    """The rebuild cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class Compared:
    """One table, live against rebuilt: rows only in one of them."""

    table: str
    live: int
    rebuilt: int
    only_live: int
    only_rebuilt: int

    @property
    def identical(self) -> bool:
        return self.only_live == 0 and self.only_rebuilt == 0


@dataclass(frozen=True)
class Source:
    topic: str
    partition: int
    until: int  # replayed: offsets below this


def sources(settings: Settings) -> list[Source]:
    """What the rebuild replays: the worker's rep and share topics to their ends
    (the dead-letter topic is read whole). The fold is deterministic, so messages
    the worker has not folded yet give the rows it will write when it does."""
    config = settings.confluent_config()
    rep_topic = topics.rep_deals_topic(settings.app_id)
    shares = topics.period_shares_topic(settings.app_id)
    found = [
        Source(rep_topic, p, served_end(config, rep_topic, p))
        for p in range(settings.topic_partitions)
    ]
    found.append(Source(shares, 0, served_end(config, shares, 0)))
    return found


@dataclass
class _Pending(Folded):
    """Rows folded but not yet written, and the span they came from."""

    source: Source = Source("", 0, 0)
    first: int = -1
    last: int = -1

    def took(self, offset: int) -> None:
        self.first = offset if self.first < 0 else self.first
        self.last = offset

    def full(self) -> bool:
        return len(self.lines) + len(self.credits) >= MAX_ROWS

    def flushed(self, store: Store, heat: list[HeatSum] | None = None) -> _Pending:
        """Write what is pending (and the partition's changed heatmap cells); what
        comes next starts afresh."""
        if self.first >= 0:
            source = self.source
            where = (Span(source.topic, source.partition, self.first, self.last),)
            write_lines(store, self.lines, where)
            self.write_views(store, {source.partition: heat or []}, where)
        return _Pending(source=self.source)


def replay(
    settings: Settings, plan: Plan, into: Store, plan_of: list[Source], advance: Advance
) -> None:
    """Fold the sources into ``into``'s tables, as the worker folds them."""
    config = settings.confluent_config()
    for source in plan_of:
        pending = _Pending(source=source)
        if source.topic == topics.period_shares_topic(settings.app_id):
            awarder = PeriodAwarder()
            for message in read_partition(config, source.topic, 0, source.until):
                outcome = awarder.take(decode_report(message.value() or b""))
                pending.took(offset_of(message))
                if outcome is not None and not isinstance(outcome, Refused):
                    pending.lines.extend(outcome.lines)
                advance(1)
            pending.flushed(into)
            continue
        state = RepPartition.starting(
            (plan,), source.partition, settings.topic_partitions
        )
        for message in read_partition(
            config, source.topic, source.partition, source.until
        ):
            offset = offset_of(message)
            key = (message.key() or b"").decode()
            forward = decode_forward(key, message.value() or b"")
            applied = state.apply(forward, offset=offset)
            pending.took(offset)
            pending.add(applied, offset)
            if pending.full():
                pending = pending.flushed(into, state.heat.take())
            advance(1)
        pending.flushed(into, state.heat.take())
    letters: list[tuple[Span, list[Any]]] = []
    for letter in dead_letters(config):
        letters.append(
            dead_letter_row(
                topic=letter.source_topic,
                partition=letter.source_partition,
                offset=letter.source_offset,
                reason=letter.reason,
                detail=letter.detail,
                key=letter.key,
                value=letter.value,
            )
        )
        if len(letters) == MAX_ROWS:
            write_dead_letters(into, letters)
            letters = []
        advance(1)
    write_dead_letters(into, letters)


def prepare(store: Store) -> Store:
    """A fresh ``<database>__rebuild`` with empty tables shaped like the live ones;
    refused while the last rebuild's old tables have not been dropped."""
    previous = f"{store.database}__previous"
    if _exists(store, previous):
        msg = (
            f"the old tables of the last rebuild are still in {previous}; "
            "drop them first: quotaflow rebuild --drop-previous"
        )
        raise RebuildError(msg)
    shadow = f"{store.database}__rebuild"
    store.command(f"DROP DATABASE IF EXISTS `{shadow}`")
    rebuilt = store.in_database(shadow)
    for table in PROJECTED:
        store.command(
            f"CREATE TABLE `{shadow}`.`{table}` AS `{store.database}`.`{table}`"
        )
    return rebuilt


def compare(live: Store, rebuilt: Store) -> list[Compared]:
    """Each table's rows (as FINAL reads them, without write stamps; heatmap cells
    without their versions), live and rebuilt, and how many are only in one."""
    found = []
    for table in PROJECTED:
        columns = ", ".join(f"`{c}`" for c in _columns(live, table))
        a, b = f"`{live.database}`.`{table}`", f"`{rebuilt.database}`.`{table}`"
        rows = live.rows(
            f"""
            SELECT
              (SELECT count() FROM {a} FINAL),
              (SELECT count() FROM {b} FINAL),
              (SELECT count() FROM (SELECT {columns} FROM {a} FINAL
                                    EXCEPT DISTINCT SELECT {columns} FROM {b} FINAL)),
              (SELECT count() FROM (SELECT {columns} FROM {b} FINAL
                                    EXCEPT DISTINCT SELECT {columns} FROM {a} FINAL))
            """  # noqa: S608 - names from PROJECTED and system.columns only
        )
        live_rows, rebuilt_rows, only_live, only_rebuilt = rows[0]
        found.append(Compared(table, live_rows, rebuilt_rows, only_live, only_rebuilt))
    return found


def swap(live: Store, rebuilt: Store) -> str:
    """Exchange each live table with its rebuilt one; the old tables end in
    ``<database>__previous``, whose name is returned."""
    for table in PROJECTED:
        live.command(
            f"EXCHANGE TABLES `{live.database}`.`{table}` "
            f"AND `{rebuilt.database}`.`{table}`"
        )
    previous = f"{live.database}__previous"
    live.command(f"RENAME DATABASE `{rebuilt.database}` TO `{previous}`")
    return previous


def drop_previous(store: Store) -> bool:
    """Drop the last rebuild's old tables; False if there were none."""
    previous = f"{store.database}__previous"
    if not _exists(store, previous):
        return False
    store.command(f"DROP DATABASE `{previous}`")
    return True


def _exists(store: Store, database: str) -> bool:
    rows = store.rows(
        "SELECT count() FROM system.databases WHERE name = {name:String}",
        {"name": database},
    )
    return bool(rows[0][0])


def _columns(store: Store, table: str) -> list[str]:
    rows: list[Any] = store.rows(
        "SELECT name FROM system.columns WHERE database = {db:String} "
        "AND table = {table:String} ORDER BY position",
        {"db": store.database, "table": table},
    )
    skipped = (*_STAMPS, *_UNCOMPARED.get(table, ()))
    return [name for (name,) in rows if name not in skipped]
