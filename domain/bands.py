"""分段提成: marginal bands, where each slice of an amount earns its own band's rate."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from domain.money import ZERO
from domain.plan import RateBand


class BandSlice(BaseModel):
    """The part of an amount that fell inside one band, and what it earns there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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
            slices.append(
                BandSlice(
                    band_index=index,
                    lower=band.lower,
                    upper=band.upper,
                    amount=part,
                    rate=band.rate,
                )
            )
    return tuple(slices)


def marginal_total(amount: Decimal, bands: Sequence[RateBand]) -> Decimal:
    """What ``amount`` earns in total under marginal ``bands`` (unrounded)."""
    return sum((s.earned for s in slice_across_bands(ZERO, amount, bands)), ZERO)
