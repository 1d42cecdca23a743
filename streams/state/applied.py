"""What folding one message of the rep topic gives the read side (``Applied``), and
what a run of them gives it together (``Folded``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from domain.awardbook import Cause
from domain.credits import DealCredit, Standing
from domain.engine import Rejection
from domain.ledger import LedgerLine, PayoutRecord
from domain.periodawards import PeriodShare
from domain.targets import TargetChange, TargetNode
from domain.world import Person
from projections.dimensions import write_dimensions, write_heat
from projections.heatcells import HeatSum
from projections.ledger import write_standings
from projections.payout import write_records
from projections.store import Store
from projections.writer import Span


class Applied(NamedTuple):
    event_type: str
    lines: list[LedgerLine]
    refused: list[Rejection]
    share: PeriodShare | None = None
    # For the read side: a rep's credit on the deal the event concerned, a person
    # whose record changed (from the partition that owns them), the targets an
    # assignment placed (from the primary copy).
    credits: tuple[DealCredit, ...] = ()
    people: tuple[Person, ...] = ()
    targets: tuple[TargetNode, ...] = ()
    # The leaderboard standing of each rep this event booked lines for.
    standings: tuple[Standing, ...] = ()
    # Each closed period whose award facts the event changed, and the cause
    # (SPEC §9): once per batch, this partition's share of it goes to the awards.
    touched: tuple[tuple[str, Cause], ...] = ()
    # The changes of the target tree the event made (from the primary copy): the
    # audit view (who, when, why, before, after).
    changes: tuple[TargetChange, ...] = ()
    # A deal's ``CustomerSeen`` for every partition (``streams.state.customers``).
    customer: bytes | None = None
    # Steps of the payout cycle (from the primary copy): approvals, locks, ...
    records: tuple[PayoutRecord, ...] = ()


@dataclass
class Folded:
    """What folding rep-topic messages gave the read side: ledger lines, each rep's
    latest standing, and credits, people and targets with the offset that produced
    them (their version). The worker and ``quotaflow rebuild`` write it alike."""

    lines: list[LedgerLine] = field(default_factory=list)
    standings: dict[str, Standing] = field(default_factory=dict)
    credits: list[tuple[int, DealCredit]] = field(default_factory=list)
    people: list[tuple[int, Person]] = field(default_factory=list)
    targets: list[tuple[int, TargetNode]] = field(default_factory=list)
    changes: list[tuple[int, TargetChange]] = field(default_factory=list)
    records: list[tuple[int, PayoutRecord]] = field(default_factory=list)

    def add(self, applied: Applied, offset: int) -> None:
        """Take what the message at ``offset`` gave."""
        self.changes.extend((offset, change) for change in applied.changes)
        self.records.extend((offset, record) for record in applied.records)
        self.lines.extend(applied.lines)
        self.standings.update((s.rep_id, s) for s in applied.standings)
        self.credits.extend((offset, credit) for credit in applied.credits)
        self.people.extend((offset, person) for person in applied.people)
        self.targets.extend((offset, node) for node in applied.targets)

    def write_views(
        self,
        store: Store,
        heat: Mapping[int, list[HeatSum]],
        source: tuple[Span, ...],
    ) -> None:
        """Write everything but the lines (the caller writes those first), with the
        changed heatmap cells of each partition in ``heat``."""
        write_standings(store, list(self.standings.values()), source)
        write_heat(store, heat, source)
        write_dimensions(
            store, self.credits, self.people, self.targets, source, self.changes
        )
        write_records(store, self.records, source)
