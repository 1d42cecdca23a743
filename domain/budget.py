"""配套保障: the total incentive budget, its reserve, and live alerts as accruals run.

The non-reserve budget is ``total × (1 - reserve_share)`` (预留总激励预算的15%作为机动
资金). An alert fires when the running accrual crosses a limit upwards: from at or
below it to above it. Staying above fires nothing more; a clawback that brings the
accrual back to or below the limit re-arms it, so the next crossing alerts again.
Reaching a limit exactly is not crossing it. Each accrual is judged against the rules
passed with it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.money import ZERO, CurrencyCode, format_money, to_cents


class BudgetError(ValueError):
    """An accrual that cannot be applied to this budget; the message says why."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BudgetRules(_Frozen):
    """The plan's incentive budget for its period, and the share held in reserve."""

    total: Decimal = Field(gt=0)
    reserve_share: Decimal = Field(default=Decimal("0.15"), ge=0, lt=1)
    currency: CurrencyCode


class BudgetState(_Frozen):
    """What has been accrued against the budget so far (clawbacks included)."""

    accrued: Decimal = ZERO


AlertKind = Literal["non_reserve_exceeded", "reserve_exhausted"]


class BudgetAlert(_Frozen):
    """An accrual took the running total above a budget limit."""

    kind: AlertKind
    accrued: Decimal
    limit: Decimal
    currency: CurrencyCode
    message: str
    source_event_ids: tuple[str, ...]
    # Whose budget: the plan and the plan year ("full/2026"), each has its own.
    budget: str = ""


def _money(value: Decimal, currency: str) -> str:
    return f"{format_money(value)} {currency}"


def non_reserve_budget(rules: BudgetRules) -> Decimal:
    """预留机动资金: what may be accrued before the reserve is touched (exact, so it is
    above zero for any valid plan)."""
    return rules.total * (1 - rules.reserve_share)


def remaining_non_reserve(state: BudgetState, rules: BudgetRules) -> Decimal:
    """What is left of the non-reserve budget; negative by how far the reserve is
    being drawn."""
    return non_reserve_budget(rules) - state.accrued


def utilisation(state: BudgetState, rules: BudgetRules) -> Decimal:
    """Accrued as a share of the non-reserve budget (1 = used up, above 1 = drawing
    on the reserve), unrounded."""
    return state.accrued / non_reserve_budget(rules)


def accrue(
    state: BudgetState,
    amount: Decimal,
    rules: BudgetRules,
    *,
    currency: str,
    source_event_ids: tuple[str, ...] = (),
    budget: str = "",
) -> tuple[BudgetState, tuple[BudgetAlert, ...]]:
    """配套保障 预算预警: add an accrual (negative for a clawback) to the budget and
    alert at each upward crossing of the non-reserve budget and of the total.
    ``budget`` names it (plan and plan year) in the alert."""
    if currency != rules.currency:
        msg = f"an accrual in {currency} cannot run against a {rules.currency} budget"
        raise BudgetError(msg)
    before, after = state.accrued, state.accrued + to_cents(amount)
    non_reserve = non_reserve_budget(rules)
    reserve = _money(rules.total - non_reserve, currency)
    crossings: list[tuple[AlertKind, Decimal, str]] = [
        (
            "non_reserve_exceeded",
            non_reserve,
            f"the non-reserve budget of {_money(non_reserve, currency)} "
            f"({_money(rules.total, currency)} less the "
            f"{(rules.reserve_share * 100).normalize():f}% reserve) is used up: "
            f"further accruals draw on the {reserve} reserve",
        ),
        (
            "reserve_exhausted",
            rules.total,
            f"the total incentive budget of {_money(rules.total, currency)} is used "
            f"up: the {reserve} reserve is exhausted",
        ),
    ]
    whose = f"budget {budget}: " if budget else ""
    alerts = tuple(
        BudgetAlert(
            kind=kind,
            accrued=after,
            limit=limit,
            currency=currency,
            message=f"{whose}incentive accruals reached {_money(after, currency)}; "
            f"{why}",
            source_event_ids=source_event_ids,
            budget=budget,
        )
        for kind, limit, why in crossings
        if before <= limit < after
    )
    return state.model_copy(update={"accrued": after}), alerts
