"""What one rep's share of one deal is worth: earned, payable and bonus, explained.

``position_targets`` is the single formula (公平透明): given the facts of a position it
returns every amount the position should have booked by now. The fold books the
difference between that and what was booked before, so closing, paying, amending and
cancelling all go through the same arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Literal

from domain.bands import BandSlice, slice_across_bands
from domain.ledger import Explained
from domain.money import ZERO, percent, to_cents
from domain.money import format_money as money
from domain.plan import PaymentSpeedRule, Plan, SpiffWindow
from domain.points import DealFacts, PointsLine, PointsRules, points_for_deal
from domain.points import points_for_payment as fast_collection_points

Kind = Literal["earned", "payable", "bonus", "points"]
ONE = Decimal(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """A payment as it counts for a deal: capped so the deal is never overpaid."""

    payment_id: str
    event_id: str
    amount: Decimal
    counted: Decimal
    paid_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionFacts:
    """Everything one rep's share of one deal depends on."""

    rep_id: str
    deal_id: str
    credited: Decimal
    amount: Decimal
    currency: str
    closed_at: datetime
    payment_due_at: datetime
    new_customer: bool
    repeat_customer: bool = False
    margin: Decimal = ZERO
    share: Decimal = ONE
    ytd_before: Decimal
    sprint: bool
    spiff: SpiffWindow | None
    payments: tuple[Payment, ...] = ()
    satisfied_by: str | None = None
    satisfaction_score: Decimal | None = None
    forfeited_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One amount a position should have booked, and how to explain it: the formula
    and inputs are put into words only for a target that is booked (most targets of a
    rebooked position equal what was booked before and are never shown)."""

    key: str
    rule: str
    kind: Kind
    amount: Decimal
    explain: Callable[[], Explained]
    # A release's payment-speed multiplier: above 1, part of the amount is premium.
    factor: Decimal = ONE


def position_targets(facts: PositionFacts, plan: Plan) -> tuple[Target, ...]:
    """Every amount the position should have booked, given its facts today."""
    earned = _earned(facts, plan)
    total = sum((t.amount for t in earned), ZERO)
    targets = [*earned, *_releases(facts, plan, total)]
    if facts.satisfied_by is not None and plan.satisfaction_bonus is not None:
        targets.append(_satisfaction_bonus(facts, plan))
    if facts.forfeited_by is not None:
        targets.append(_forfeiture(facts, total))
    if plan.points is not None:
        targets += (_points_target(p) for p in _deal_points(facts, plan.points))
    return tuple(t for t in targets if t.amount != ZERO)


def _deal_points(facts: PositionFacts, rules: PointsRules) -> tuple[PointsLine, ...]:
    """积分制 on a deal: its own triggers, and fast collection once paid in full."""
    deal = DealFacts(
        rep_id=facts.rep_id,
        event_id=facts.deal_id,
        amount=facts.amount,
        margin=facts.margin,
        share=facts.share,
        new_customer=facts.new_customer,
        repeat_customer=facts.repeat_customer,
    )
    lines = points_for_deal(deal, rules)
    paid = [p for p in facts.payments if p.counted > ZERO]
    if paid and sum((p.counted for p in paid), ZERO) == facts.amount:
        days = (paid[-1].paid_at - facts.closed_at).days
        lines += fast_collection_points(
            days, rules, rep_id=facts.rep_id, event_id=facts.deal_id
        )
    return lines


def _points_target(line: PointsLine) -> Target:
    return Target(
        key=f"points/{line.rule}",
        rule=f"points_{line.rule}",
        kind="points",
        amount=line.points,
        explain=partial(_as_given, line.formula),
    )


def _as_given(formula: str) -> Explained:
    return formula, ()


def _earned(facts: PositionFacts, plan: Plan) -> list[Target]:
    """分段提成 with uplifts: each slice's band rate, plus the new-customer and sprint
    uplifts, times the SPIFF multiplier of the window the deal closed in."""
    slices = slice_across_bands(facts.ytd_before, facts.credited, plan.revenue_bands)
    return [_slice_target(facts, plan, piece) for piece in slices]


def _slice_target(facts: PositionFacts, plan: Plan, piece: BandSlice) -> Target:
    rate = piece.rate
    if facts.new_customer and plan.new_customer_uplift:
        rate += plan.new_customer_uplift
    if facts.sprint and plan.sprint is not None:
        rate += plan.sprint.uplift
    multiplier = facts.spiff.multiplier if facts.spiff is not None else ONE
    return Target(
        key=f"earned/band{piece.band_index}",
        rule="revenue_band_commission",
        kind="earned",
        amount=to_cents(piece.amount * rate * multiplier),
        explain=partial(_slice_words, facts, plan, piece, rate, multiplier),
    )


def _slice_words(
    facts: PositionFacts,
    plan: Plan,
    piece: BandSlice,
    rate: Decimal,
    multiplier: Decimal,
) -> Explained:
    parts = [f"{percent(piece.rate)} band"]
    if facts.new_customer and plan.new_customer_uplift:
        parts.append(f"{percent(plan.new_customer_uplift)} new customer")
    if facts.sprint and plan.sprint is not None:
        parts.append(f"{percent(plan.sprint.uplift)} Q4 sprint")
    upper = "∞" if piece.upper is None else money(piece.upper)
    formula = f"{money(piece.amount)} of revenue in band {money(piece.lower)}–{upper}"
    formula += f" × {percent(rate)}"
    if len(parts) > 1:
        formula += f" ({' + '.join(parts)})"
    if facts.spiff is not None:
        formula += f" × {multiplier.normalize():f} (SPIFF {facts.spiff.spiff_id})"
    inputs = (
        ("credited_revenue", str(facts.credited)),
        ("ytd_revenue_before", str(facts.ytd_before)),
        ("band_amount", str(piece.amount)),
        ("rate", str(rate)),
        ("spiff_multiplier", str(multiplier)),
    )
    return formula, inputs


def speed_multiplier(
    closed_at: datetime, due_at: datetime, paid_at: datetime, rule: PaymentSpeedRule
) -> tuple[Decimal, str]:
    """回款周期加权: fast payment earns a premium; late payment loses a step per
    started period late, down to nothing. A payment after the due date never earns
    the premium, however soon after closing it came (逾期按比例扣减)."""
    if paid_at <= due_at:
        if paid_at - closed_at <= timedelta(days=rule.fast_days):
            return rule.fast_multiplier, f"paid within {rule.fast_days} days of closing"
        return ONE, "paid by the due date"
    late = paid_at - due_at
    started = -(-late // timedelta(days=rule.late_period_days))
    factor = max(ZERO, ONE - rule.late_step * started)
    return factor, (
        f"paid {late.days} days late: {started} started period(s) of "
        f"{rule.late_period_days} days at -{percent(rule.late_step)} each"
    )


def _releases(facts: PositionFacts, plan: Plan, earned: Decimal) -> list[Target]:
    """Commission is payable as cash arrives, pro rata to the deal amount."""
    releases = []
    for payment in facts.payments:
        if plan.payment_speed is None:
            factor, why = ONE, "no payment-speed rule"
        else:
            factor, why = speed_multiplier(
                facts.closed_at,
                facts.payment_due_at,
                payment.paid_at,
                plan.payment_speed,
            )
        releases.append(
            Target(
                key=f"payable/{payment.payment_id}",
                rule="commission_released",
                kind="payable",
                amount=to_cents(earned * payment.counted / facts.amount * factor),
                explain=partial(_release_words, facts, payment, earned, factor, why),
                factor=factor,
            )
        )
    return releases


def _release_words(
    facts: PositionFacts,
    payment: Payment,
    earned: Decimal,
    factor: Decimal,
    why: str,
) -> Explained:
    capped = "" if payment.counted == payment.amount else " (capped at the deal)"
    formula = (
        f"earned {money(earned)} × paid {money(payment.counted)}{capped}"
        f" / deal {money(facts.amount)} × {factor.normalize():f} ({why})"
    )
    inputs = (
        ("earned", str(earned)),
        ("payment", str(payment.amount)),
        ("payment_counted", str(payment.counted)),
        ("deal_amount", str(facts.amount)),
        ("speed_multiplier", str(factor)),
    )
    return formula, inputs


def _satisfaction_bonus(facts: PositionFacts, plan: Plan) -> Target:
    """客户满意度奖金: a share of the credited amount for a high score."""
    rule = plan.satisfaction_bonus
    assert rule is not None  # noqa: S101 - checked by the caller

    def words() -> Explained:
        formula = (
            f"credited {money(facts.credited)} × {percent(rule.rate)} "
            f"(score {facts.satisfaction_score} ≥ {rule.min_score})"
        )
        inputs = (
            ("credited_revenue", str(facts.credited)),
            ("score", str(facts.satisfaction_score)),
            ("rate", str(rule.rate)),
        )
        return formula, inputs

    return Target(
        key="bonus/satisfaction",
        rule="satisfaction_bonus",
        kind="bonus",
        amount=to_cents(facts.credited * rule.rate),
        explain=words,
    )


def _forfeiture(facts: PositionFacts, earned: Decimal) -> Target:
    """Unpaid long after the due date: the unreleased remainder is forfeited."""
    counted = sum((p.counted for p in facts.payments), ZERO)
    unpaid = facts.amount - counted

    def words() -> Explained:
        formula = (
            f"forfeited: earned {money(earned)} × unpaid {money(unpaid)} / deal "
            f"{money(facts.amount)}, still unpaid long after "
            f"{facts.payment_due_at.date().isoformat()}"
        )
        return formula, (("earned", str(earned)), ("unpaid", str(unpaid)))

    return Target(
        key="earned/forfeited",
        rule="commission_forfeited",
        kind="earned",
        amount=-to_cents(earned * unpaid / facts.amount),
        explain=words,
    )
