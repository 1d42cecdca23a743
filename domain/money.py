"""Exact money: ``Decimal`` amounts, ISO 4217 currencies, half-even cents."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints

CENT = Decimal("0.01")
ZERO = Decimal(0)

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def to_cents(value: Decimal) -> Decimal:
    """Round a ledger amount half-even to the cent (SPEC: per ledger line)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _decimal_string(value: Any) -> Any:
    # The wire contract carries money as decimal strings; a JSON float has already lost
    # exactness by the time it reaches us, so it is refused rather than guessed at.
    if isinstance(value, bool) or not isinstance(value, str | Decimal):
        msg = "money must be a decimal string such as '125000.00', not a JSON number"
        raise ValueError(msg)
    return value


MoneyAmount = Annotated[Decimal, BeforeValidator(_decimal_string)]
"""A money amount as the wire sends it: a decimal string, never a float."""


def format_money(value: Decimal) -> str:
    """Grouped digits, cents shown; more places only where the value really has them."""
    cents = value.quantize(CENT)
    return f"{cents if cents == value else value.normalize():,}"


@lru_cache(maxsize=1024)  # a plan has few distinct rates; formulas show them often
def percent(rate: Decimal) -> str:
    """A rate as a person reads it: 0.015 -> 1.5%."""
    return f"{(rate * 100).normalize():f}%"
