"""What one deal credits one rep, as the read side shows it: the revenue behind
attainment, leaderboards and the region × product-line heatmap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.money import ZERO, to_cents
from domain.rep import RepState
from domain.world import Person, World


@dataclass(frozen=True, slots=True, kw_only=True)
class DealCredit:
    """A rep's stake in a deal as it stands (zero once an amendment removed the rep;
    ``cancelled`` once the deal was cancelled). Periods are the rep's plan periods of
    the deal, in the deal's own UTC offset, as attainment counts them."""

    deal_id: str
    rep_id: str
    customer_id: str
    product_line: str
    region: str
    closed_at: datetime
    year: str
    quarter: str
    month: str
    credited: Decimal
    margin: Decimal
    cancelled: bool
    # The rep's team and region as of the close (SPEC §9): what the deal counts for.
    team_id: str = ""
    rep_region: str = ""


def deal_credit(world: World, deal_id: str, rep_id: str) -> DealCredit | None:
    """The rep's credit on the deal, or ``None`` if the world has no such deal or the
    rep never had a stake in it."""
    record = world.deals.get(deal_id)
    rep = world.reps.get(rep_id)
    position = rep.positions.get(deal_id) if rep is not None else None
    if record is None or position is None:
        return None
    share = sum((s.share for s in record.splits if s.rep_id == rep_id), ZERO)
    closed = record.closed
    person = world.people.get(rep_id)
    team_id, rep_region = ("", "")
    if person is not None:
        team_id, rep_region = person.placed_at(position.facts.closed_at)
    return DealCredit(
        deal_id=deal_id,
        rep_id=rep_id,
        customer_id=closed.customer_id,
        product_line=closed.product_line,
        region=closed.region,
        closed_at=position.facts.closed_at,
        year=position.year,
        quarter=position.quarter,
        month=position.month,
        credited=to_cents(record.amount * share),
        margin=to_cents(record.margin * share),
        cancelled=record.cancelled,
        team_id=team_id,
        rep_region=rep_region,
    )


LEVELS: Mapping[str, str] = {
    "rep": "rep_id",
    "team": "team_id",
    "region": "rep_region",
    "product_line": "product_line",
}
"""达成率's numerator has one definition, for the fold and the read side alike (SPEC
§9): a node's credited revenue in a period is the sum of the credits, not cancelled,
of the period whose field named here is the node; a deal's team and region are its
rep's as of the close. A company's node counts every credit."""


def counts_for(credit: DealCredit, level: str, node_id: str, period: str) -> bool:
    """Whether ``credit`` counts in the revenue of ``node_id`` (of ``level``) for
    ``period``."""
    if credit.cancelled or period not in (credit.year, credit.quarter, credit.month):
        return False
    field_name = LEVELS.get(level)
    return field_name is None or getattr(credit, field_name) == node_id


def node_revenue(world: World, level: str, node_id: str, period: str) -> Decimal:
    """Credited revenue of a target node for ``period`` (``LEVELS``), from every
    credit the world holds."""
    total = ZERO
    for rep_id, rep in world.reps.items():
        for deal_id in rep.positions:
            credit = deal_credit(world, deal_id, rep_id)
            if credit is not None and counts_for(credit, level, node_id, period):
                total += credit.credited
    return total


def team_revenue(
    rep: RepState, person: Person, period: str
) -> tuple[tuple[str, Decimal], ...]:
    """The rep's credited revenue of ``period`` by the team they sat in at each
    deal's close (``LEVELS``): all of it their team's when they never moved."""
    if len(person.placements) <= 1:
        return ((person.team_id, max(rep.revenue_in(period), ZERO)),)
    by_team: dict[str, Decimal] = {}
    for position in rep.positions.values():
        if position.cancelled or period not in (
            position.year,
            position.quarter,
            position.month,
        ):
            continue
        team_id, _ = person.placed_at(position.facts.closed_at)
        by_team[team_id] = by_team.get(team_id, ZERO) + position.facts.credited
    return tuple(sorted((t, max(a, ZERO)) for t, a in by_team.items()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """Where a rep stands on the leaderboard: earned commission so far (clawbacks
    included) and the deals credited to them, as of the rep's ``sequence``th line."""

    rep_id: str
    earned: Decimal
    deals: int
    sequence: int


def standing(world: World, rep_id: str) -> Standing | None:
    """The rep's standing, or ``None`` for a rep the world has not met."""
    rep = world.reps.get(rep_id)
    if rep is None:
        return None
    return Standing(
        rep_id=rep_id,
        earned=rep.total("earned"),
        deals=len(rep.positions),
        sequence=rep.sequence,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HeatShare:
    """What one rep's credit on one deal adds to one heatmap cell: the credited
    revenue, and the deal itself (1) when this rep is the one that counts it."""

    period: str
    region: str
    product_line: str
    revenue: Decimal
    deals: int


def heat_shares(world: World, deal_id: str, rep_id: str) -> tuple[HeatShare, ...]:
    """The rep's shares of the heatmap for the deal, in each of its periods (year,
    quarter, month); none for a cancelled deal or a stake the world does not know.

    Each rep counts their own credited revenue. The deal is counted once, by the
    rep with the lowest id among its current splits: every rep the deal ever
    credited folds every change of it, so each knows who that is."""
    return credit_heat(world, deal_credit(world, deal_id, rep_id))


def credit_heat(world: World, credit: DealCredit | None) -> tuple[HeatShare, ...]:
    """``heat_shares`` of a credit ``deal_credit`` gave (a stream partition has it
    at hand: it writes the credit too)."""
    if credit is None or credit.cancelled:
        return ()
    # A credit is only given for a deal the world holds.
    splits = world.deals[credit.deal_id].splits
    counter = min((s.rep_id for s in splits), default=None)
    deals = 1 if counter == credit.rep_id else 0
    return tuple(
        HeatShare(
            period=period,
            region=credit.rep_region or credit.region,
            product_line=credit.product_line,
            revenue=credit.credited,
            deals=deals,
        )
        for period in (credit.year, credit.quarter, credit.month)
    )
