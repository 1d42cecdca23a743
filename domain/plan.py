"""Plan documents: every rate and threshold is a parameter, never a code constant."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.money import CurrencyCode


class RateBand(BaseModel):
    """A marginal band: amounts in ``[lower, upper)`` earn ``rate``; no upper: open."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    rate: Decimal = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _upper_above_lower(self) -> Self:
        if self.upper is not None and self.upper <= self.lower:
            msg = f"band upper {self.upper} must be above its lower {self.lower}"
            raise ValueError(msg)
        return self


class Plan(BaseModel):
    """A versioned incentive plan (the subset the walking skeleton computes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str = Field(min_length=1)
    version: int = Field(ge=1)
    currency: CurrencyCode
    revenue_bands: tuple[RateBand, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_are_contiguous(self) -> Self:
        bands = self.revenue_bands
        if bands[0].lower != 0:
            msg = "revenue_bands must start at 0"
            raise ValueError(msg)
        for below, above in pairwise(bands):
            if below.upper != above.lower:
                msg = (
                    f"revenue_bands must be contiguous: a band ends at {below.upper} "
                    f"but the next starts at {above.lower}"
                )
                raise ValueError(msg)
        if bands[-1].upper is not None:
            msg = "the last revenue band must be open-ended (no upper)"
            raise ValueError(msg)
        return self
