"""What the fold knows (``World``), what one step produces (``Step``), and the lookups
every handler shares: the plan in force, a rep's state, booking free-standing lines.

Business refusals are raised as ``Refused`` inside a handler and come back from
``evolve`` as a ``Rejection`` with a reason; the world is then unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from hashlib import blake2b
from sys import intern
from typing import NamedTuple

from pydantic import TypeAdapter

from domain.awards import InnovationProposal, Nomination, PromotionCandidate, Withheld
from domain.budget import BudgetAlert, BudgetState
from domain.events import (
    DealClosed,
    Event,
    PaymentReceived,
    QuotaAssigned,
    Role,
    SatisfactionRecorded,
    Split,
)
from domain.frozen import updated
from domain.ledger import LedgerLine, PayoutRecord
from domain.plan import Plan, SpiffWindow
from domain.pmap import PMap
from domain.rep import RepState
from domain.targets import TargetBook

Waiting = PaymentReceived | SatisfactionRecorded
Lines = tuple[LedgerLine, ...]


class Rejection(NamedTuple):
    event_id: str
    code: str
    reason: str
    # The refused event when it is not the one being applied (a target that waited
    # for its parent, refused when the parent comes or the period closes).
    event: Event | None = None


class Step(NamedTuple):
    """What one event produced: ledger lines, refusals, and what people must know."""

    lines: tuple[LedgerLine, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    alerts: tuple[BudgetAlert, ...] = ()
    candidates: tuple[PromotionCandidate, ...] = ()
    withheld: tuple[Withheld, ...] = ()
    # Steps of the payout cycle (approvals, locks, adjustments, inquiries).
    records: tuple[PayoutRecord, ...] = ()

    @property
    def refused(self) -> bool:
        """Whether the event itself was refused (``rejected`` may also name targets
        that waited for it and are refused now)."""
        return any(r.event is None for r in self.rejected)


class Refused(Exception):
    """Raised inside a handler; turned into a ``Rejection`` by ``evolve``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class DealTerms:
    """What the fold keeps of a ``DealClosed``: the fields later rules read, and a
    digest of its terms (a second close from another source must match them). A
    decoded event is several times larger, and every open deal keeps one."""

    event_id: str
    deal_id: str
    customer_id: str
    new_customer: bool
    key_account: bool
    product_line: str
    region: str
    currency: str
    occurred_at: datetime
    payment_due_at: datetime
    digest: int

    @classmethod
    def of(cls, deal: DealClosed) -> DealTerms:
        return cls(
            event_id=deal.event_id,
            deal_id=deal.deal_id,
            customer_id=deal.customer_id,
            new_customer=deal.new_customer,
            key_account=deal.key_account,
            product_line=intern(deal.product_line),
            region=intern(deal.region),
            currency=intern(deal.currency),
            occurred_at=deal.occurred_at,
            payment_due_at=deal.payment_due_at,
            digest=terms_digest(deal),
        )


_ENVELOPE = {"event_id", "source", "schema_version"}


def terms_digest(deal: DealClosed) -> int:
    """The deal's terms, whoever sent them (event id, source and version aside)."""
    terms = type(deal).__pydantic_serializer__.to_json(deal, exclude=_ENVELOPE)
    return _digest(terms)


class Share(NamedTuple):
    """One rep's share of a deal as the deal keeps it (a ``Split`` without the
    model's bookkeeping: every open deal keeps one per credited rep)."""

    rep_id: str
    share: Decimal


def shares_of(splits: Iterable[Split]) -> tuple[Share, ...]:
    return tuple(Share(intern(s.rep_id), s.share) for s in splits)


class Paid(NamedTuple):
    """A payment as a deal keeps it."""

    payment_id: str
    event_id: str
    amount: Decimal
    occurred_at: datetime


class Scored(NamedTuple):
    """The satisfaction score that earned a deal its bonus."""

    event_id: str
    score: Decimal


class Buyer(NamedTuple):
    """A deal as its customer's history counts it (SPEC §9, new customer)."""

    closed_at: datetime
    deal_id: str
    flagged: bool  # the CRM's new_customer
    new: bool  # as judged: flagged, and the customer's first deal by close time
    reps: tuple[str, ...]
    # Kept once cancelled, so news of the deal that comes after its cancellation
    # (on the stream, from another partition) cannot count it again.
    cancelled: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DealRecord:
    """A deal as it stands: current terms, plan, payments, score, status."""

    closed: DealTerms
    amount: Decimal
    margin: Decimal
    splits: tuple[Share, ...]
    plan_id: str
    plan_version: int
    spiff: SpiffWindow | None
    repeat_customer: bool = False
    payments: tuple[Paid, ...] = ()
    satisfaction: Scored | None = None
    cancelled: bool = False
    forfeited_by: str | None = None
    # The date of the close that forfeited the commission: a payment dated before
    # it still counts, whenever it arrives (SPEC §9).
    forfeited_at: datetime | None = None
    # New customer as judged by the company's history (None: the CRM flag stands).
    new_customer: bool | None = None


def _digest(data: bytes) -> int:
    return int.from_bytes(blake2b(data, digest_size=8).digest())


def event_key(event_id: str) -> int:
    """A fixed-size key for an event id (128 bits: no collision in any real log)."""
    return int.from_bytes(blake2b(event_id.encode(), digest_size=16).digest())


def fact_digest(event: Event) -> int:
    """A fixed-size digest of what an event states, whoever sent it (event id,
    source and schema version aside): the same fact from two sources matches."""
    return _digest(
        type(event).__pydantic_serializer__.to_json(event, exclude=_ENVELOPE)
    )


def event_digest(event: Event) -> int:
    """A fixed-size digest of an event's content: a repeat of the same id is the
    same fact only if this matches."""
    return _digest(type(event).__pydantic_serializer__.to_json(event))


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """A rep as HR knows them (RepHired / RepMoved / RepLeft)."""

    rep_id: str
    team_id: str
    region: str
    role: Role
    grade: str
    hired_at: datetime
    left_at: datetime | None = None
    # Where the rep sat from when, in time order, the hire first: (since, team_id,
    # region). A deal counts for its rep's team and region as of its close (SPEC
    # §9), whatever order the moves arrive in. Empty for a person recorded before
    # placements were kept: then the team and region are as they stand.
    placements: tuple[tuple[datetime, str, str], ...] = ()

    def placed_at(self, at: datetime) -> tuple[str, str]:
        """The rep's team and region as of ``at`` (before the hire: the first)."""
        if not self.placements:
            return self.team_id, self.region
        _, team_id, region = self.placements[0]
        for since, team, where in self.placements:
            if since > at:
                break
            team_id, region = team, where
        return team_id, region


@dataclass(frozen=True, slots=True, kw_only=True)
class AwardBook:
    """A closed period's awards as booked: the close that made them, and each
    rep's amount by award key."""

    event_id: str
    occurred_at: datetime
    booked: tuple[tuple[str, str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    """Everything the fold knows. Mappings are replaced, never mutated."""

    plans: tuple[Plan, ...] = ()
    spiffs: tuple[SpiffWindow, ...] = ()
    # Every event applied: its id's key (``event_key``) to its content's digest
    # (``event_digest``), so a repeat is compared with what was applied without
    # keeping the event.
    seen: PMap[int, int] = field(default_factory=PMap)
    # Every fact applied, by its natural key's digest (``domain.naturalkeys``), to
    # its content's digest (``fact_digest``): one fact sent twice counts once.
    facts: PMap[int, int] = field(default_factory=PMap)
    deals: PMap[str, DealRecord] = field(default_factory=PMap)
    waiting: PMap[str, tuple[Waiting, ...]] = field(default_factory=PMap)
    # Deals that may still be forfeited, by the UTC month of their due date: a close
    # looks only at the months that can be overdue, not at every deal ever closed.
    dues: PMap[str, PMap[str, bool]] = field(default_factory=PMap)
    reps: PMap[str, RepState] = field(default_factory=PMap)
    targets: TargetBook = field(default_factory=TargetBook)
    # Children whose parent target has not arrived yet, by (parent_id, period).
    orphans: PMap[str, tuple[QuotaAssigned, ...]] = field(default_factory=PMap)
    people: PMap[str, Person] = field(default_factory=PMap)
    nominations: tuple[Nomination, ...] = ()
    proposals: tuple[InnovationProposal, ...] = ()
    closed_periods: tuple[str, ...] = ()
    # Pay periods (months) finance has locked: no line is booked into them after.
    locked: tuple[str, ...] = ()
    # Every close applied, (its date, its event id) in date order: a deal that
    # arrives after a close that would have forfeited its commission is forfeited
    # as of that close (SPEC §9).
    closes: tuple[tuple[datetime, str], ...] = ()
    # Every customer's deals in close-time order: who is new to the company
    # (``domain.customers``).
    customers: PMap[str, tuple[Buyer, ...]] = field(default_factory=PMap)
    # What each closed period awarded, by rep and key (``domain.awardbook``): a
    # world that knows every rep makes the awards again when their facts change.
    awards: PMap[str, AwardBook] = field(default_factory=PMap)
    budgets: Mapping[str, BudgetState] = field(default_factory=dict)
    # Set in a world that holds only some reps (a stream partition): a period close
    # books their attainment lines, and the awards are made from every part's share
    # (``domain.periodawards``).
    awards_elsewhere: bool = False


OWN_FIELDS = ("seen", "facts", "deals", "waiting", "dues", "reps", "budgets")
"""What a world of some reps owns; every other field is a fact about the company
(plans, SPIFFs, targets, people, nominations, proposals, closed periods) that the
worlds of one stream partition share."""


def under(world: World, facts: World) -> World:
    """``world``'s own part (``OWN_FIELDS``) with the company facts of ``facts``: O(1),
    so a partition keeps those facts once, not once per rep."""
    return updated(facts, **{name: getattr(world, name) for name in OWN_FIELDS})


def own_part(world: World) -> World:
    """``world`` without the company facts (what a rep's snapshot keeps)."""
    return under(world, _BARE)


def start(plans: Iterable[Plan], *, awards_elsewhere: bool = False) -> World:
    return World(plans=tuple(plans), awards_elsewhere=awards_elsewhere)


def plan_at(world: World, at: datetime) -> Plan:
    """The plan in force at ``at``: the most recently effective version wins; an
    undated plan is the oldest."""
    candidates = [p for p in world.plans if p.in_force(at)]
    if not candidates:
        raise Refused("no_plan", f"no plan is in force at {at.isoformat()}")
    return max(
        candidates,
        key=lambda p: (p.effective_from is not None, p.effective_from or at, p.version),
    )


def plan_of(world: World, plan_id: str, version: int) -> Plan:
    for plan in world.plans:
        if plan.version == version and plan.plan_id == plan_id:
            return plan
    raise KeyError((plan_id, version))  # pragma: no cover - a deal names a known plan


def rep_of(world: World, rep_id: str) -> RepState:
    return world.reps.get(rep_id) or RepState(rep_id=rep_id)


_BARE = World()
WORLD: TypeAdapter[World] = TypeAdapter(World)
"""How a world is stored: ``WORLD.dump_json(world)`` and ``WORLD.validate_json``."""
