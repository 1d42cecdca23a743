"""What one deal credits one rep, as the read side shows it: the revenue behind
attainment, leaderboards and the region × product-line heatmap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.money import ZERO, to_cents
from domain.world import World


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
    )


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
    credit = deal_credit(world, deal_id, rep_id)
    record = world.deals.get(deal_id)
    if credit is None or record is None or credit.cancelled:
        return ()
    counter = min((s.rep_id for s in record.splits), default=None)
    deals = 1 if counter == rep_id else 0
    return tuple(
        HeatShare(
            period=period,
            region=credit.region,
            product_line=credit.product_line,
            revenue=credit.credited,
            deals=deals,
        )
        for period in (credit.year, credit.quarter, credit.month)
    )
