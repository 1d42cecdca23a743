"""积分制: points per trigger, an account that never goes below zero, a team pool split.

A trigger worth zero points in the plan is switched off and books nothing. A split
deal's points follow the rep's share. Every change of points is a ``PointsLine``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from itertools import pairwise
from math import floor
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.events import ActivityKind
from domain.money import ZERO, format_money


class PointsError(ValueError):
    """A points operation that cannot be applied; the message says why."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def pts(value: Decimal) -> str:
    """Points as shown to reps: no exponent, no trailing zeros."""
    return f"{value.normalize():f}"


class AttainmentPointsBand(_Frozen):
    """Attainment (1 = 100% of target) in ``[lower, upper)`` earns per whole step."""

    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    step: Decimal = Field(gt=0)
    points_per_step: Decimal = Field(ge=0)


class TicketTier(_Frozen):
    """A deal amount at or above ``min_amount`` earns ``points`` (highest tier wins)."""

    min_amount: Decimal = Field(ge=0)
    points: Decimal = Field(ge=0)


class FastCollectionRule(_Frozen):
    """A deal paid in full within ``within_days`` of closing earns ``points``."""

    within_days: int = Field(ge=0)
    points: Decimal = Field(ge=0)


class HighMarginRule(_Frozen):
    """A margin ratio (margin / amount) at or above ``min_ratio`` earns ``points``."""

    min_ratio: Decimal = Field(ge=0, le=1)
    points: Decimal = Field(ge=0)


class NegativeReviewRule(_Frozen):
    """A satisfaction score (0-100) below ``below_score`` deducts ``points``."""

    below_score: Decimal = Field(ge=0, le=100)
    points: Decimal = Field(gt=0)


class PointsRules(_Frozen):
    """The plan's points table: what each trigger is worth."""

    attainment_bands: tuple[AttainmentPointsBand, ...] = ()
    # Attainment points are booked when a period of this kind closes.
    attainment_cadence: Literal["month", "quarter", "year"] = "month"
    new_customer: Decimal = Field(default=ZERO, ge=0)
    repeat_purchase: Decimal = Field(default=ZERO, ge=0)
    ticket_size: tuple[TicketTier, ...] = ()
    fast_collection: FastCollectionRule | None = None
    high_margin: HighMarginRule | None = None
    prospect_entered_complete: Decimal = Field(default=ZERO, ge=0)
    visit: Decimal = Field(default=ZERO, ge=0)
    decision_maker_visit: Decimal = Field(default=ZERO, ge=0)
    collaboration_confirmed: Decimal = Field(default=ZERO, ge=0)
    mentoring: Decimal = Field(default=ZERO, ge=0)
    knowledge_sharing: Decimal = Field(default=ZERO, ge=0)
    crisis_support: Decimal = Field(default=ZERO, ge=0)
    negative_review: NegativeReviewRule | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        bands = self.attainment_bands
        if bands and (bands[0].lower != 0 or bands[-1].upper is not None):
            msg = "attainment_bands must start at 0 and end open (no upper)"
            raise ValueError(msg)
        for below, above in pairwise(bands):
            width = above.lower - below.lower
            if below.upper != above.lower or width <= 0 or width % below.step:
                msg = f"attainment band {below.lower}–{below.upper} must end where the "
                msg += f"next starts ({above.lower}), a whole number of steps wide"
                raise ValueError(msg)
            if above.points_per_step / above.step < below.points_per_step / below.step:
                msg = "attainment above a band edge must be weighted at least as high"
                raise ValueError(msg)
        if any(a.min_amount >= b.min_amount for a, b in pairwise(self.ticket_size)):
            msg = "ticket_size tiers must rise strictly by min_amount"
            raise ValueError(msg)
        if self.visit and self.decision_maker_visit <= self.visit:
            msg = "a decision_maker_visit must score higher than a visit"
            raise ValueError(msg)
        return self


class PointsLine(_Frozen):
    """One booked change of points (negative for a deduction or a redemption)."""

    rep_id: str
    rule: str
    points: Decimal
    formula: str
    source_event_ids: tuple[str, ...]


Lines = tuple[PointsLine, ...]


class DealFacts(_Frozen):
    """What a closed deal's points depend on, for one credited rep."""

    rep_id: str
    event_id: str
    amount: Decimal = Field(gt=0)
    margin: Decimal
    share: Decimal = Field(default=Decimal(1), gt=0, le=1)
    new_customer: bool
    repeat_customer: bool

    @model_validator(mode="after")
    def _new_or_repeat(self) -> Self:
        if self.new_customer and self.repeat_customer:
            msg = "a customer cannot be both new and repeat on one deal"
            raise ValueError(msg)
        return self


def _line(rep_id: str, rule: str, points: Decimal, formula: str, *ids: str) -> Lines:
    line = PointsLine(
        rep_id=rep_id, rule=rule, points=points, formula=formula, source_event_ids=ids
    )
    return (line,)


def points_for_deal(deal: DealFacts, rules: PointsRules) -> Lines:
    """积分制 deal triggers: new customer (新客户), repeat purchase (复购), ticket size
    (大单) and high margin (高毛利产品), each times the rep's share of the deal."""
    earned: list[tuple[str, Decimal, str]] = []
    if deal.new_customer:
        earned.append(("new_customer", rules.new_customer, "new customer"))
    if deal.repeat_customer:
        earned.append(("repeat_purchase", rules.repeat_purchase, "repeat purchase"))
    reached = [t for t in rules.ticket_size if deal.amount >= t.min_amount]
    if reached:
        why = f"ticket size {format_money(deal.amount)} ≥ "
        why += format_money(reached[-1].min_amount)
        earned.append(("ticket_size", reached[-1].points, why))
    margin = rules.high_margin
    if margin is not None and deal.margin / deal.amount >= margin.min_ratio:
        ratio = f"{format_money(deal.margin)} / {format_money(deal.amount)}"
        why = f"margin {ratio} ≥ {pts(margin.min_ratio)}"
        earned.append(("high_margin", margin.points, why))
    share = "" if deal.share == 1 else f" × share {pts(deal.share)}"
    lines: Lines = ()
    for rule, points, why in earned:
        if points:
            formula = f"{why}: {pts(points)} points{share}"
            lines += _line(
                deal.rep_id, rule, points * deal.share, formula, deal.event_id
            )
    return lines


def points_for_attainment(
    rep_id: str, attainment: Decimal, rules: PointsRules, *, event_id: str
) -> Lines:
    """积分制 业绩达成: marginal attainment bands counted in whole steps, the excess
    weighted higher (e.g. each 10 points above 100% worth more than each below)."""
    total, parts = ZERO, []
    for band in rules.attainment_bands:
        top = attainment if band.upper is None else min(attainment, band.upper)
        steps = ((top - band.lower) / band.step).to_integral_value(ROUND_FLOOR)
        if steps > 0:
            total += steps * band.points_per_step
            upper = "∞" if band.upper is None else f"{pts(band.upper * 100)}%"
            edges = f"{pts(band.lower * 100)}%–{upper}"
            parts.append(f"{pts(steps)} × {pts(band.points_per_step)} ({edges})")
    if not total:
        return ()
    formula = f"attainment {pts(attainment * 100)}%: {' + '.join(parts)}"
    return _line(rep_id, "attainment_bands", total, formula, event_id)


def points_for_activity(
    kind: ActivityKind,
    complete: bool,
    rules: PointsRules,
    *,
    rep_id: str,
    event_id: str,
) -> Lines:
    """积分制 过程行为: visits (decision-maker visits higher), prospects entered
    completely, mentoring, knowledge sharing, crisis support. Incomplete: nothing."""
    # The plan field for each kind is named after it; a prospect's says "complete".
    rule = "prospect_entered_complete" if kind == "prospect_entered" else kind
    points: Decimal = getattr(rules, rule)
    if not complete or not points:
        return ()
    return _line(rep_id, rule, points, f"{kind}: {pts(points)} points", event_id)


def points_for_collaboration(
    helper: str, beneficiary: str, confirmer: str, rules: PointsRules, *, event_id: str
) -> Lines:
    """积分制 协作: the helper earns points only once the beneficiary, who is someone
    other than the helper, confirms the help."""
    points = rules.collaboration_confirmed
    if not points or not confirmer == beneficiary != helper:
        return ()
    formula = f"collaboration confirmed by {beneficiary}: {pts(points)} points"
    return _line(helper, "collaboration_confirmed", points, formula, event_id)


def points_for_payment(
    days_to_pay: int, rules: PointsRules, *, rep_id: str, event_id: str
) -> Lines:
    """积分制 快速回款: a deal paid in full within N days of closing earns points."""
    rule = rules.fast_collection
    if rule is None or not rule.points or days_to_pay > rule.within_days:
        return ()
    formula = f"paid in {days_to_pay} days ≤ {rule.within_days}: {pts(rule.points)}"
    return _line(rep_id, "fast_collection", rule.points, formula, event_id)


def points_for_review(
    score: Decimal, rules: PointsRules, *, rep_id: str, event_id: str
) -> Lines:
    """积分制 差评扣分: a satisfaction score below the bar deducts points."""
    rule = rules.negative_review
    if rule is None or score >= rule.below_score:
        return ()
    formula = f"review score {pts(score)} < {pts(rule.below_score)}: deduct"
    return _line(rep_id, "negative_review", -rule.points, formula, event_id)


class PointsAccount(_Frozen):
    """A rep's points: the balance and every line that made it. Never below zero."""

    rep_id: str
    balance: Decimal = ZERO
    lines: Lines = ()


def _booked(account: PointsAccount) -> set[tuple[str, tuple[str, ...]]]:
    return {(line.rule, line.source_event_ids) for line in account.lines}


def earn(account: PointsAccount, lines: Lines) -> PointsAccount:
    """积分制 记账: book lines; the lines booked are the tail of the new ``lines``.

    A line already booked (same rule and source events) changes nothing. A deduction
    floors at zero: the booked line records the points actually deducted.
    """
    balance, booked, seen = account.balance, list(account.lines), _booked(account)
    for line in lines:
        if line.rep_id != account.rep_id:
            msg = f"a line for {line.rep_id} cannot be booked on {account.rep_id}"
            raise PointsError(msg)
        if (line.rule, line.source_event_ids) in seen:
            continue
        seen.add((line.rule, line.source_event_ids))
        points = max(line.points, ZERO - balance)
        note = "" if points == line.points else f" (floored at 0: {pts(points)} booked)"
        booked.append(
            line.model_copy(update={"points": points, "formula": line.formula + note})
        )
        balance += points
    return account.model_copy(update={"balance": balance, "lines": tuple(booked)})


def redeem(
    account: PointsAccount, points: Decimal, reward: str, redemption_id: str
) -> PointsAccount:
    """积分兑换: spend points on a reward; beyond the balance it is rejected.

    The same ``redemption_id`` again changes nothing.
    """
    if ("redemption", (redemption_id,)) in _booked(account):
        return account
    if points <= 0:
        msg = f"a redemption must spend a positive number of points, not {pts(points)}"
        raise PointsError(msg)
    if points > account.balance:
        balance = pts(account.balance)
        msg = f"redeeming {pts(points)} points exceeds the balance of {balance}"
        raise PointsError(msg)
    formula = f"redeemed {pts(points)} points for {reward}"
    line = _line(account.rep_id, "redemption", -points, formula, redemption_id)
    return earn(account, line)


def split_team_pool(
    pool_points: Decimal,
    contributions: Mapping[str, Decimal],
    *,
    event_id: str,
    unit: Decimal = Decimal(1),
) -> Lines:
    """团队积分池: split a pool by contribution share, in whole ``unit`` points.

    Each rep first gets the floor of their exact share; the units left over go one
    each to the largest remainders, ties to the smaller rep_id. Sums to the pool.
    """
    if unit <= 0 or pool_points < 0 or pool_points % unit:
        msg = f"a pool of {pts(pool_points)} is not a whole number of {pts(unit)} units"
        raise PointsError(msg)
    total = sum(contributions.values(), ZERO)
    if any(c < 0 for c in contributions.values()) or total <= 0:
        msg = "contributions must be non-negative and add up to more than zero"
        raise PointsError(msg)
    pool_units = int(pool_points / unit)
    # Fractions keep the shares exact, so no rounding can tip a floor or a tie.
    whole = Fraction(total)
    exact = {r: pool_units * Fraction(c) / whole for r, c in contributions.items()}
    units = {rep: floor(share) for rep, share in exact.items()}
    by_remainder = sorted(exact, key=lambda r: (units[r] - exact[r], r))
    for rep in by_remainder[: pool_units - sum(units.values())]:
        units[rep] += 1
    lines: Lines = ()
    for rep in sorted(r for r in units if units[r]):
        formula = f"pool {pts(pool_points)} × {pts(contributions[rep])} / {pts(total)}"
        formula += f", in whole {pts(unit)} by largest remainder"
        lines += _line(rep, "team_pool", units[rep] * unit, formula, event_id)
    return lines
