"""A rep's period amounts as positions (SPEC §9): attainment-band commission
(基础线-冲刺线-超越线), over-target profit share (超额利润分享) and attainment points
(积分制) of a closed period are what the period's credited revenue and margin say
they are, whenever the deals behind them arrive.

A period close books them (``settle``) and remembers, per rep and period, what it
booked by key. A deal closed, amended or cancelled after its month, quarter or year
closed changes the figures they were computed from; ``true_up`` computes them again
and books only the difference, as lines dated at the correcting event that say what
changed ("true-up after DealCancelled D-7: attainment 150% → 100%"). Nothing booked
is rewritten. The awards that compare reps with each other are made apart
(``domain.periodawards``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from domain.booking import book, draft, points_draft
from domain.commission import Kind
from domain.frozen import updated
from domain.ledger import LedgerLine, Reason
from domain.money import ZERO, percent, to_cents
from domain.money import format_money as money
from domain.periods import cadence_of, period_end
from domain.plan import Plan
from domain.points import points_for_attainment, pts
from domain.rep import RepState, Source, periods_of
from domain.targets import attainment_commission, profit_share
from domain.world import Refused, World, plan_at


class Keyed(NamedTuple):
    """A period amount as the period owes it now: its key among the rep's period
    bookings, and the line that books it in full."""

    key: str
    line: LedgerLine


_KINDS: Mapping[str, tuple[Kind, str]] = {
    "attainment": ("earned", "attainment_band_commission"),
    "profit_share": ("bonus", "profit_share"),
    "points": ("points", "points_attainment_bands"),
}
"""Kind and rule of a key's lines, by the key's first part (a reversal has no line
to take them from)."""


def owed(
    rep: RepState, target: Decimal, period: str, plan: Plan, source: Source
) -> list[Keyed]:
    """基础线-冲刺线-超越线 commission, profit share and attainment points the rep's
    period owes under ``plan`` against ``target``, as things stand."""
    sales, found = rep.revenue_in(period), list[Keyed]()
    rule = plan.attainment_commission
    if rule is not None and rule.cadence == cadence_of(period):
        for piece in attainment_commission(target, sales, rule):
            upper = "∞" if piece.upper is None else money(piece.upper)
            formula = f"{money(piece.amount)} of {period} sales in "
            formula += f"{money(piece.lower)}–{upper} (target {money(target)}) × "
            formula += percent(piece.rate)
            key = f"attainment/band{piece.band_index}"
            line = draft(
                plan,
                source,
                rep.rep_id,
                key,
                kind="earned",
                rule="attainment_band_commission",
                amount=to_cents(piece.earned),
                formula=formula,
                inputs=(
                    ("period", period),
                    ("sales", str(sales)),
                    ("target", str(target)),
                    ("rate", str(piece.rate)),
                ),
            )
            found.append(Keyed(key, line))
    found += _profit_share(rep, target, period, plan, source)
    points = plan.points
    if points is not None and points.attainment_cadence == cadence_of(period):
        for item in points_for_attainment(
            rep.rep_id, sales / target, points, event_id=source.event_id
        ):
            inputs = (("period", period), ("sales", str(sales)))
            line = points_draft(rep.rep_id, plan, item, source, "", inputs)
            found.append(Keyed(f"points/{item.rule}", line))
    return [item for item in found if item.line.amount != ZERO]


def _profit_share(
    rep: RepState, target: Decimal, period: str, plan: Plan, source: Source
) -> list[Keyed]:
    """超额利润分享: the credited margin above the profit target, tier by tier."""
    rule = plan.profit_share
    if rule is None or rule.cadence != cadence_of(period):
        return []
    profit, goal = rep.margin_in(period), target * rule.target_margin
    found = []
    for piece in profit_share(profit, goal, rule):
        key = f"profit_share/tier{piece.band_index}"
        line = draft(
            plan,
            source,
            rep.rep_id,
            key,
            kind="bonus",
            rule="profit_share",
            amount=to_cents(piece.earned),
            formula=(
                f"{money(piece.amount)} of {period} profit above the target "
                f"{money(goal)} ({money(target)} × {percent(rule.target_margin)}) "
                f"in tier {money(piece.lower)}–"
                f"{'∞' if piece.upper is None else money(piece.upper)}"
                f" × {percent(piece.rate)}"
            ),
            inputs=(
                ("period", period),
                ("profit", str(profit)),
                ("profit_target", str(goal)),
                ("rate", str(piece.rate)),
            ),
        )
        found.append(Keyed(key, line))
    return found


def settle(
    rep: RepState,
    period: str,
    amounts: list[Keyed],
    plan: Plan,
    source: Source,
    note: str = "",
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """Book what ``period`` owes the rep now, less what was booked for it before:
    at the close, everything; after it (a ``note`` says why), the difference."""
    keys, values = rep.periods.get(period, ((), ()))
    booked = dict(zip(keys, values, strict=True))
    now = {item.key: item.line for item in amounts}
    drafts = []
    for key in [*now, *(k for k in booked if k not in now)]:
        line, before = now.get(key), booked.get(key, ZERO)
        amount = (line.amount if line is not None else ZERO) - before
        if amount == ZERO:
            continue
        if line is None:
            line = _reversal(rep.rep_id, key, before, plan, source, note)
        elif note:
            line = _difference(line, before, amount, note)
        drafts.append(line)
        booked[key] = before + amount
    if not drafts:
        return rep, ()
    # Sorted, so the state is the same whichever order its bookings came in.
    kept = {key: value for key, value in sorted(booked.items()) if value != ZERO}
    periods = {**rep.periods, period: (tuple(kept), tuple(kept.values()))}
    return book(updated(rep, periods=periods), drafts)


def _figure(kind: Kind, value: Decimal) -> str:
    return f"{pts(value)} points" if kind == "points" else money(value)


def _difference(
    line: LedgerLine, before: Decimal, amount: Decimal, note: str
) -> LedgerLine:
    """``line`` (what the key is owed now) as the difference to ``before``, and
    why it changed."""
    formula = line.formula
    if before != ZERO:
        now, was = _figure(line.kind, line.amount), _figure(line.kind, before)
        formula = f"{formula} = {now}, was {was}"
    formula = f"{formula} — {note}"
    return updated(line, amount=amount, reason=Reason.given(formula, line.inputs))


def _reversal(
    rep_id: str, key: str, before: Decimal, plan: Plan, source: Source, note: str
) -> LedgerLine:
    """A key the period no longer owes: what was booked for it, reversed, and why."""
    kind, rule = _KINDS[key.split("/", 1)[0]]
    return draft(
        plan,
        source,
        rep_id,
        key,
        kind=kind,
        rule=rule,
        amount=-before,
        formula=f"reversal of {_figure(kind, before)} booked — {note}",
    )


def true_up(
    world: World, before: RepState, after: RepState, closed_at: datetime, cause: Cause
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """The rep's period amounts of every closed period a deal closed at
    ``closed_at`` counts in, computed again after ``cause`` changed the deal (a
    late close, an amendment, a cancellation): the differences, booked."""
    closed, lines = world.closed_periods, list[LedgerLine]()
    for period in periods_of(closed_at):
        if period not in closed or _unchanged(before, after, period):
            continue
        node = world.targets.get(after.rep_id, period)
        if node is None or node.level != "rep" or node.amount <= ZERO:
            continue
        try:
            plan = plan_at(world, period_end(period, closed_at) - _INSTANT)
        except Refused:
            # The period's end in the deal's own offset is past every plan (the
            # close, in its own offset, found one): nothing to compute it under.
            continue
        source = Source(cause.event_id, cause.at)
        amounts = owed(after, node.amount, period, plan, source)
        if not amounts and period not in after.periods:
            continue  # the plan owes nothing for the period, then or now
        note = _note(cause, before, after, period, node.amount)
        after, booked = settle(after, period, amounts, plan, source, note)
        lines.extend(booked)
    return after, tuple(lines)


class Cause(NamedTuple):
    """The event that changed a closed period's figures, as its true-up names it."""

    event_id: str
    event_type: str
    deal_id: str
    at: datetime


_INSTANT = timedelta(microseconds=1)


def _unchanged(before: RepState, after: RepState, period: str) -> bool:
    return before.revenue_in(period) == after.revenue_in(period) and before.margin_in(
        period
    ) == after.margin_in(period)


def _note(
    cause: Cause, before: RepState, after: RepState, period: str, target: Decimal
) -> str:
    was, now = (rep.revenue_in(period) / target for rep in (before, after))
    note = (
        f"true-up after {cause.event_type} {cause.deal_id}: {period} attainment "
        f"{percent(was.quantize(_BASIS))} → {percent(now.quantize(_BASIS))}"
    )
    profit_was, profit_now = before.margin_in(period), after.margin_in(period)
    if profit_was != profit_now:
        note += f", profit {money(profit_was)} → {money(profit_now)}"
    return note


_BASIS = Decimal("0.0001")
"""Attainment in a true-up's note: to a hundredth of a percent."""
