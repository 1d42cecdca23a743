"""A rep's running incentive state, advanced only by ``evolve``."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from domain.bands import BandSlice, slice_across_bands
from domain.events import DealClosed, Event
from domain.ledger import LedgerLine
from domain.money import CENT, ZERO, to_cents
from domain.plan import Plan

REVENUE_BAND_RULE = "revenue_band_commission"


class RepState(BaseModel):
    """What a rep has earned so far, and which facts have already been applied."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rep_id: str
    revenue_by_year: tuple[tuple[int, Decimal], ...] = ()
    applied_event_ids: frozenset[str] = frozenset()
    sequence: int = 0

    def ytd_revenue(self, year: int) -> Decimal:
        return dict(self.revenue_by_year).get(year, ZERO)


def evolve(
    state: RepState, event: Event, plan: Plan
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """Fold one event into a rep's state; return the new state and the lines it books.

    The same ``event_id`` seen again changes nothing.
    """
    if event.event_id in state.applied_event_ids:
        return state, ()
    return _close_deal(state, event, plan)


def _close_deal(
    state: RepState, deal: DealClosed, plan: Plan
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """分段提成: credited revenue is sliced across the rep's year-to-date bands."""
    credited = deal.credited(state.rep_id)
    year = deal.occurred_at.year
    before = state.ytd_revenue(year)
    slices = slice_across_bands(before, credited, plan.revenue_bands)
    lines = tuple(
        _band_line(state, deal, plan, piece, state.sequence + offset + 1, before)
        for offset, piece in enumerate(slices)
    )
    revenue = dict(state.revenue_by_year)
    revenue[year] = before + credited
    new_state = state.model_copy(
        update={
            "revenue_by_year": tuple(sorted(revenue.items())),
            "applied_event_ids": state.applied_event_ids | {deal.event_id},
            "sequence": state.sequence + len(lines),
        }
    )
    return new_state, lines


def _band_line(
    state: RepState,
    deal: DealClosed,
    plan: Plan,
    piece: BandSlice,
    sequence: int,
    ytd_before: Decimal,
) -> LedgerLine:
    upper = "∞" if piece.upper is None else _money(piece.upper)
    return LedgerLine(
        line_id=f"{deal.event_id}/{state.rep_id}/{REVENUE_BAND_RULE}/{piece.band_index}",
        rep_id=state.rep_id,
        deal_id=deal.deal_id,
        rule=REVENUE_BAND_RULE,
        plan_id=plan.plan_id,
        plan_version=plan.version,
        amount=to_cents(piece.earned),
        currency=deal.currency,
        occurred_at=deal.occurred_at,
        formula=(
            f"{_money(piece.amount)} of revenue in band {_money(piece.lower)}–{upper} "
            f"× {piece.rate:%}"
        ),
        inputs=(
            ("credited_revenue", str(deal.credited(state.rep_id))),
            ("ytd_revenue_before", str(ytd_before)),
            ("band_amount", str(piece.amount)),
            ("rate", str(piece.rate)),
        ),
        source_event_ids=(deal.event_id,),
        sequence=sequence,
    )


def _money(value: Decimal) -> str:
    """Grouped digits, cents shown; more places only where the value really has them."""
    cents = value.quantize(CENT)
    return f"{cents if cents == value else value.normalize():,}"
