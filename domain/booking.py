"""Lines that belong to no deal position (awards, activity points, period
commission): drafted with their plan and cause, then numbered into a rep's ledger."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from domain.commission import Kind
from domain.frozen import updated
from domain.ledger import LedgerLine, Reason
from domain.money import ZERO
from domain.plan import Plan
from domain.points import PointsLine
from domain.rep import RepState, Source

POINTS = "PTS"
"""The ``currency`` of points lines: points are counted, not money."""


def book(
    state: RepState, drafts: Iterable[LedgerLine]
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """Lines that belong to no deal position (awards, activity points): numbered in
    the rep's sequence and added to the rep's totals."""
    totals, sequence, lines = dict(state.totals), state.sequence, []
    for draft in drafts:
        sequence += 1
        lines.append(updated(draft, sequence=sequence))
        totals[draft.kind] = totals.get(draft.kind, ZERO) + draft.amount
    if not lines:
        return state, ()
    state = updated(state, totals=totals, sequence=sequence)
    return state, tuple(lines)


def draft(  # noqa: PLR0913 - a booking: whose, what, how much, why, from what
    plan: Plan,
    source: Source,
    rep_id: str,
    key: str,
    *,
    kind: Kind,
    rule: str,
    amount: Decimal,
    formula: str,
    inputs: tuple[tuple[str, str], ...] = (),
    deal_id: str = "",
    currency: str | None = None,
    sources: tuple[str, ...] = (),
) -> LedgerLine:
    """A line that belongs to no deal position (awards, points, period commission),
    dated and named by the event that causes it; ``book`` numbers it."""
    return LedgerLine(
        line_id=f"{source.event_id}/{rep_id}/{key}",
        rep_id=rep_id,
        deal_id=deal_id,
        kind=kind,
        rule=rule,
        plan_id=plan.plan_id,
        plan_version=plan.version,
        amount=amount,
        currency=currency or (POINTS if kind == "points" else plan.currency),
        occurred_at=source.at,
        reason=Reason.given(formula, inputs),
        source_event_ids=sources or (source.event_id,),
        sequence=0,
    )


def points_draft(
    rep_id: str,
    plan: Plan,
    item: PointsLine,
    source: Source,
    deal_id: str = "",
    inputs: tuple[tuple[str, str], ...] = (),
) -> LedgerLine:
    """积分制: a points line as a ledger line (every point has one)."""
    return draft(
        plan,
        source,
        rep_id,
        f"points/{item.rule}",
        kind="points",
        rule=f"points_{item.rule}",
        amount=item.points,
        formula=item.formula,
        inputs=inputs,
        deal_id=deal_id,
        sources=item.source_event_ids,
    )
