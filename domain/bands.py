"""分段提成: marginal bands, where each slice of an amount earns its own band's rate."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise
from typing import NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.money import ZERO


class RateBand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    """A marginal band: amounts in ``[lower, upper)`` earn ``rate``; no upper: open."""

    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    rate: Decimal = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _upper_above_lower(self) -> Self:
        if self.upper is not None and self.upper <= self.lower:
            msg = f"band upper {self.upper} must be above its lower {self.lower}"
            raise ValueError(msg)
        return self


def check_marginal_bands(bands: tuple[RateBand, ...], name: str) -> None:
    """Marginal bands start at 0, touch each other, and end open."""
    if bands[0].lower != 0:
        msg = f"{name} must start at 0"
        raise ValueError(msg)
    for below, above in pairwise(bands):
        if below.upper != above.lower:
            msg = (
                f"{name} must be contiguous: a band ends at {below.upper} "
                f"but the next starts at {above.lower}"
            )
            raise ValueError(msg)
    if bands[-1].upper is not None:
        msg = f"the last band of {name} must be open-ended (no upper)"
        raise ValueError(msg)


class BandSlice(NamedTuple):
    """The part of an amount that fell inside one band, and what it earns there (a
    tuple: every deal's earned commission is sliced again whenever it is rebooked)."""

    band_index: int
    lower: Decimal
    upper: Decimal | None
    amount: Decimal
    rate: Decimal

    @property
    def earned(self) -> Decimal:
        return self.amount * self.rate


def slice_across_bands(
    already: Decimal, added: Decimal, bands: Sequence[RateBand]
) -> tuple[BandSlice, ...]:
    """分段提成: split ``added`` (stacked on top of ``already``) across marginal bands.

    A deal that crosses a band edge is split, so each part earns its own band's rate.
    """
    start, end = already, already + added
    slices = []
    for index, band in enumerate(bands):
        top = end if band.upper is None else min(end, band.upper)
        part = top - max(start, band.lower)
        if part > ZERO:
            slices.append(BandSlice(index, band.lower, band.upper, part, band.rate))
    return tuple(slices)


def marginal_total(amount: Decimal, bands: Sequence[RateBand]) -> Decimal:
    """What ``amount`` earns in total under marginal ``bands`` (unrounded)."""
    return sum((s.earned for s in slice_across_bands(ZERO, amount, bands)), ZERO)
