"""Plan documents: every rate and threshold is a parameter, never a code constant."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from domain.awards import AwardRules, Cadence
from domain.bands import RateBand, check_marginal_bands
from domain.budget import BudgetRules
from domain.instant import InstantRewardRules
from domain.money import CurrencyCode
from domain.points import PointsRules
from domain.targets import AttainmentBands, ProfitShareRule, TargetRules


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SprintRule(_Section):
    """季度累计冲刺: each of Q1-Q3 above a threshold -> every Q4 rate + uplift."""

    quarter_threshold: Decimal = Field(ge=0)
    uplift: Decimal = Field(ge=0, le=1)


class PaymentSpeedRule(_Section):
    """回款周期加权: multipliers on commission released by a payment."""

    fast_days: int = Field(ge=0)
    fast_multiplier: Decimal = Field(ge=0)
    late_step: Decimal = Field(ge=0, le=1)
    late_period_days: int = Field(ge=1)
    forfeit_after_days: int = Field(ge=0)


class SatisfactionBonusRule(_Section):
    """客户满意度奖金: a share of the credited amount for a score≥ the bar."""

    min_score: Decimal = Field(ge=0, le=100)
    rate: Decimal = Field(ge=0, le=1)


class SpiffWindow(_Section):
    """临时激励: deals closed in ``[starts_at, ends_at)`` get ``multiplier``."""

    spiff_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    multiplier: Decimal = Field(gt=0)
    product_lines: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def covers(self, at: datetime, product_line: str, region: str) -> bool:
        return (
            self.starts_at <= at < self.ends_at
            and (not self.product_lines or product_line in self.product_lines)
            and (not self.regions or region in self.regions)
        )


class AttainmentCommissionRule(AttainmentBands):
    """基础线-冲刺线-超越线, booked when a period of ``cadence`` closes."""

    cadence: Cadence = "month"


class ProfitSharePlan(ProfitShareRule):
    """超额利润分享 at the close of each ``cadence`` period: the rep's profit target
    is ``target_margin`` × the rep's revenue target for the period."""

    cadence: Cadence = "quarter"
    target_margin: Decimal = Field(gt=0, le=1)


class PayoutRules(_Section):
    """The payout cycle (``domain.statements``): a statement due more than
    ``approval_required_above`` is paid at its month's lock only once its manager
    approved it (held and carried forward until then); at or below it, the lock
    pays it as it stands."""

    approval_required_above: Decimal = Field(default=Decimal(0), ge=0)


class Plan(_Section):
    """A versioned, effective-dated incentive plan."""

    plan_id: str = Field(min_length=1)
    version: int = Field(ge=1)
    currency: CurrencyCode
    effective_from: AwareDatetime | None = None
    effective_to: AwareDatetime | None = None
    revenue_bands: tuple[RateBand, ...] = Field(min_length=1)
    new_customer_uplift: Decimal = Field(default=Decimal(0), ge=0, le=1)
    sprint: SprintRule | None = None
    payment_speed: PaymentSpeedRule | None = None
    satisfaction_bonus: SatisfactionBonusRule | None = None
    spiffs: tuple[SpiffWindow, ...] = ()
    targets: TargetRules | None = None
    attainment_commission: AttainmentCommissionRule | None = None
    profit_share: ProfitSharePlan | None = None
    instant_rewards: InstantRewardRules | None = None
    awards: AwardRules | None = None
    points: PointsRules | None = None
    budget: BudgetRules | None = None
    payout: PayoutRules | None = None

    @model_validator(mode="after")
    def _bands_are_contiguous(self) -> Self:
        check_marginal_bands(self.revenue_bands, "revenue_bands")
        for name in ("instant_rewards", "budget"):
            section = getattr(self, name)
            if section is not None and section.currency != self.currency:
                msg = f"{name}.currency {section.currency} differs from the plan's "
                msg += f"currency {self.currency}"
                raise ValueError(msg)
        if (
            self.effective_from is not None
            and self.effective_to is not None
            and self.effective_to <= self.effective_from
        ):
            msg = "effective_to must be after effective_from"
            raise ValueError(msg)
        return self

    def in_force(self, at: datetime) -> bool:
        return (self.effective_from is None or self.effective_from <= at) and (
            self.effective_to is None or at < self.effective_to
        )
