"""What a worker holds for each partition of the rep topic it owns (its rebuild is
``streams.state.recovery``'s, with the deal-keyed topics' routing).

A partition's state is the fold of its messages. ``applied`` is the offset of the last
message folded in; a message at or below it was already applied (it came again after
a crash or a rebalance) and is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from domain.awardbook import Cause, Closing, changed_periods
from domain.credits import (
    DealCredit,
    Standing,
    credit_heat,
    deal_credit,
    heat_shares,
    standing,
)
from domain.customers import Customers
from domain.engine import Rejection, World, evolve, is_new, start
from domain.events import (
    CustomerSeen,
    DealAmended,
    DealCancelled,
    DealClosed,
    Event,
    PeriodClosed,
    PlanPublished,
    QuotaAssigned,
    RepHired,
    RepLeft,
    RepMoved,
    SpiffAnnounced,
    decode_event,
)
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.newcustomers import Seen, rejudge, seen_in
from domain.payout import into_open_periods
from domain.periodawards import PeriodShare, period_share
from domain.plan import Plan
from domain.planning import placed_targets
from domain.pmap import PMap
from domain.rep import RepState, Source
from domain.targets import TargetChange, TargetNode
from domain.world import Buyer, Person, Step, event_key, rep_of, under
from projections.heatcells import HeatCells
from streams.state.applied import Applied
from streams.state.customers import SeenWire, decode_seen, judged_again, seen
from streams.state.pieces import RepPieces
from streams.state.routing import (
    BROADCAST,
    SEEN,
    Forward,
    owner_partition,
)
from streams.state.worlds import Worlds

log = logging.getLogger(__name__)


# Whether the world of a rep (or the base, ``BROADCAST``) still needs a message.
Due = Callable[[str], bool]


@dataclass
class RepPartition:
    """One partition of the rep topic: the world of each of its reps, and the base
    world (plans, targets, the organisation) a rep seen for the first time starts
    from. Its worlds hold only their own reps, so a period close books their
    attainment lines here and leaves the awards to ``PeriodAwarder``."""

    base: World
    number: int
    partitions: int
    # Those a restore read are decoded when first needed (``Worlds``).
    worlds: Worlds = field(default_factory=Worlds)
    applied: int = -1
    # Reps whose world changed since the last snapshot round.
    dirty: set[str] = field(default_factory=set)
    # Whether a broadcast changed the base since then (a round writes it, and the
    # offset it reflects, even when no rep's world changed).
    base_dirty: bool = False
    # The heatmap's cell sums of this partition's reps (``streams.heatcells``).
    heat: HeatCells = field(default_factory=HeatCells)
    # Customers whose history in the base changed since then (a round writes each
    # as an entry of its own: the base's entry does not carry them).
    customers_dirty: set[str] = field(default_factory=set)
    # The base as a restore read it, with its entry, for the next round to write
    # again while the company facts are unchanged (``BaseEntry.restored``).
    restored_base: tuple[World, bytes] | None = None
    # What the rounds wrote of each rep's world, so a round writes only the pieces
    # that changed (``streams.state.pieces``).
    pieces: RepPieces = field(default_factory=RepPieces)

    def __post_init__(self) -> None:
        # A world a restore kept encoded, decoded: its maps are what the rounds
        # compare with.
        self.worlds.warmed = self.pieces.decoded

    @classmethod
    def starting(
        cls, plans: tuple[Plan, ...], number: int, partitions: int
    ) -> RepPartition:
        return cls(start(plans, awards_elsewhere=True), number, partitions)

    def world(self, rep_id: str) -> World:
        """The world of ``rep_id`` under the partition's company facts as they stand
        now (the base world for a rep not met yet)."""
        own = self.worlds.get(rep_id)
        return self._newcomer(rep_id) if own is None else under(own, self.base)

    def _newcomer(self, rep_id: str) -> World:
        """The world a rep met for the first time starts from: the company facts and
        what the base booked for them (a close settles the periods of reps with a
        target), without the base's record of every broadcast it applied (``seen``
        and ``facts``): a rep's snapshot would carry that for good. A repeat of a
        broadcast is recognised by the base (``apply``)."""
        base = self.base
        known = base.reps.get(rep_id)
        reps = PMap[str, RepState]() if known is None else PMap({rep_id: known})
        return updated(base, seen=PMap[int, int](), facts=PMap[int, int](), reps=reps)

    def apply(
        self, forward: Forward, due: Due | None = None, offset: int | None = None
    ) -> Applied:
        """Fold one message of the rep topic: a forwarded event, or a batch's
        ``CustomerSeen`` events (``SEEN``). When rebuilding from snapshots, ``due``
        says which worlds still need it. ``offset`` is the message's (by default the
        one after ``applied``)."""
        if forward.rep_id == SEEN:
            return self._seen_all(forward, due)
        return self._one(forward, due, offset)

    def _one(self, forward: Forward, due: Due | None, offset: int | None) -> Applied:
        """Fold one forwarded event into its rep's world (a broadcast into the base,
        and a period close into every world too): the reps' own lines, what the fold
        refused (reported by the primary copy only) and, when a period closes, this
        partition's share of its facts. The company facts (plans, targets, people
        ...) live in the base alone, so a broadcast other than a close costs the same
        whatever the number of reps."""
        event = decode_event(forward.value)  # validated by the router already
        if forward.rep_id != BROADCAST:
            rep_id = forward.rep_id
            if due is not None and not due(rep_id):
                return Applied(event.event_type, [], [])
            if self.base.seen.get(event_key(event.event_id)) is not None:
                # The id of a broadcast the base applied: a rep world met after it
                # holds no digest of it, so the base tells the conflict (as the one
                # world of ``simulate`` does).
                return Applied(
                    event.event_type, [], _reused(event) if forward.primary else []
                )
            before = self.world(rep_id)
            world, step = evolve(before, event)
            self.worlds[rep_id] = world
            self.dirty.add(rep_id)
            touched = () if step.refused else self._touched(before, event)
            lines = [line for line in step.lines if line.rep_id == rep_id]
            refused = list(step.rejected) if forward.primary else []
            credit = None
            if isinstance(event, DealClosed | DealAmended | DealCancelled):
                deal_id = event.deal_id
                credit = deal_credit(world, deal_id, rep_id)
                shares = credit_heat(world, credit)
                at = self.applied + 1 if offset is None else offset
                was = partial(heat_shares, before, deal_id, rep_id)
                self.heat.update(rep_id, deal_id, shares, at, was)
            credits = (credit,) if credit is not None else ()
            customer = None
            if (
                isinstance(event, DealClosed | DealAmended | DealCancelled)
                and forward.primary
                and not step.refused
            ):
                customer = seen(world, event)
            return Applied(
                event.event_type,
                lines,
                refused,
                credits=credits,
                standings=_standings(self.worlds, lines),
                touched=touched,
                customer=customer,
                records=step.records if forward.primary else (),
            )
        was_open = (
            isinstance(event, PeriodClosed)
            and event.period not in self.base.closed_periods
        )
        step, before = Step(), self.base
        # The base is due for every message a rebuild reads (it starts after the
        # base's offset), so it alone tells a repeat from a new fact.
        reaches_reps = isinstance(event, PeriodClosed | PlanPublished | SpiffAnnounced)
        fresh = reaches_reps and is_new(before, event)
        if due is None or due(BROADCAST):
            self.base, step = evolve(self.base, event)
            self.base_dirty = True
        lines = []
        if fresh:
            # A close books each rep's attainment lines in their own world, and a plan
            # version or SPIFF window re-prices the deals it covers that came before
            # it (SPEC §9), under the company facts as they stood before it.
            for rep_id, world in self.worlds.items():
                if due is None or due(rep_id):
                    self.worlds[rep_id], own = evolve(under(world, before), event)
                    lines += (line for line in own.lines if line.rep_id == rep_id)
            self.dirty.update(self.worlds)
        if isinstance(event, CustomerSeen) and not step.refused:
            lines += self._rejudge(self._again(before.customers, event), event)
        refused = list(step.rejected) if forward.primary else []
        placed: tuple[DealCredit, ...] = ()
        if isinstance(event, RepHired | RepMoved) and not step.refused:
            placed = self._recredit(event.rep_id, offset, before)
        share = None
        if was_open and isinstance(event, PeriodClosed) and not step.refused:
            share = period_share(
                self.base,
                event,
                owned=lambda rep: owner_partition(rep, self.partitions) == self.number,
                world_of=self.world,
            )
        touched = () if step.refused else self._touched(before, event)
        changes = _new_changes(before, self.base) if forward.primary else ()
        return Applied(
            event.event_type,
            lines,
            refused,
            share,
            credits=placed,
            people=self._person(event, step),
            targets=self._targets(before, event, step, forward.primary),
            standings=_standings(self.worlds, lines),
            touched=touched,
            changes=changes,
            records=step.records if forward.primary else (),
        )

    def _seen_all(self, forward: Forward, due: Due | None) -> Applied:
        """A batch's ``CustomerSeen`` events, in order, as each would fold as its own
        broadcast: into the base's customer history (never refused, and no award
        facts move), then the deals of this partition's reps it judged again."""
        events = decode_seen(forward.value)
        if due is not None and not due(BROADCAST):
            return Applied("CustomerSeen", [], [])
        lines: list[LedgerLine] = []
        customers = self.base.customers
        for event in events:
            was, customers = customers, seen_in(customers, event)
            again = self._again(was, event, customers)
            if any(rep in self.worlds for buyer in again for rep in buyer.reps):
                # A rep's world is priced under the history as it stands now.
                self.base = updated(self.base, customers=customers)
                lines += self._rejudge(again, event)
        if events:
            self.base = updated(self.base, customers=customers)
            self.base_dirty = True
        return Applied(
            "CustomerSeen", lines, [], standings=_standings(self.worlds, lines)
        )

    def _recredit(
        self, rep_id: str, offset: int | None, before: World
    ) -> tuple[DealCredit, ...]:
        """A rep of this partition hired or moved: their deals' credits and heatmap
        shares again, each deal counting for the team and region of its close
        (``before``: the company facts before the move)."""
        if rep_id not in self.worlds:
            return ()
        if rep_id in self.heat.unlearned:
            # The stakes as they stood before the move, which the sums count.
            self.heat.stake(rep_id, under(self.worlds[rep_id], before))
        world, found = self.world(rep_id), []
        at = self.applied + 1 if offset is None else offset
        for deal_id in rep_of(world, rep_id).positions:
            credit = deal_credit(world, deal_id, rep_id)
            if credit is not None:
                found.append(credit)
                self.heat.update(rep_id, deal_id, credit_heat(world, credit), at)
        return tuple(found)

    def _again(
        self, was: Customers, event: Seen, now: Customers | None = None
    ) -> list[Buyer]:
        """The deals of ``event``'s customer whose judgement changed from ``was`` to
        ``now`` (by default the base's history)."""
        customer = event.customer_id
        self.customers_dirty.add(customer)
        now = self.base.customers if now is None else now
        return judged_again(was.get(customer, ()), now.get(customer, ()))

    def _rejudge(
        self, again: list[Buyer], event: CustomerSeen | SeenWire
    ) -> list[LedgerLine]:
        """Price again, in this partition's reps' worlds, the deals whose new
        customer judgement ``event`` changed (``again``)."""
        lines: list[LedgerLine] = []
        source = Source(event.event_id, event.occurred_at)
        for buyer in again:
            for rep_id in buyer.reps:
                if rep_id not in self.worlds:
                    continue  # not this partition's, or the deal has not come yet
                world, more = rejudge(
                    self.world(rep_id), buyer.deal_id, buyer.new, source, event.deal_id
                )
                self.worlds[rep_id] = world
                self.dirty.add(rep_id)
                lines += (line for line in more if line.rep_id == rep_id)
        # Priced again after a lock: off the locked months' statements, as in evolve.
        return list(into_open_periods(tuple(lines), self.base.locked))

    def _touched(self, before: World, event: Event) -> tuple[tuple[str, Cause], ...]:
        """Each closed period whose award facts ``event`` changed (``before`` is the
        world it was applied to), with how a true-up names it."""
        periods, what = changed_periods(before, event)
        cause = Cause(event.event_id, event.occurred_at, what, f"@{self.number}")
        return tuple((period, cause) for period in periods)

    def share_of(self, period: str) -> PeriodShare:
        """This partition's share of a closed period's award facts as they stand."""
        made = self.base.awards[period]
        return period_share(
            self.base,
            Closing(period, made.event_id, made.occurred_at),
            owned=lambda rep: owner_partition(rep, self.partitions) == self.number,
            world_of=self.world,
        )

    def _person(self, event: Event, step: Step) -> tuple[Person, ...]:
        if step.refused or not isinstance(event, RepHired | RepMoved | RepLeft):
            return ()
        if owner_partition(event.rep_id, self.partitions) != self.number:
            return ()
        person = self.base.people.get(event.rep_id)
        return (person,) if person is not None else ()

    def _targets(
        self, before: World, event: Event, step: Step, primary: bool
    ) -> tuple[TargetNode, ...]:
        if step.refused or not primary or not isinstance(event, QuotaAssigned):
            return ()
        return tuple(placed_targets(before, self.base, event))


def _reused(event: Event) -> list[Rejection]:
    reason = f"event_id {event.event_id} was already used for different content"
    return [Rejection(event.event_id, "conflict", reason)]


def _new_changes(before: World, after: World) -> tuple[TargetChange, ...]:
    """The target changes ``after`` has that ``before`` had not (kept in order)."""
    known, now = before.targets.changes, after.targets.changes
    return tuple(now[n] for n in range(len(known), len(now)))


def _standings(
    worlds: Mapping[str, World], lines: list[LedgerLine]
) -> tuple[Standing, ...]:
    """The standing of each rep with new lines, in their own world."""
    reps = dict.fromkeys(line.rep_id for line in lines)
    found = (standing(worlds[rep], rep) for rep in reps if rep in worlds)
    return tuple(s for s in found if s is not None)
