"""Exact money: ``Decimal`` amounts, ISO 4217 currencies, half-even cents."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StringConstraints

CENT = Decimal("0.01")
ZERO = Decimal(0)
# The ledger's columns are Decimal(18,2): below 1e16. One amount stays far below
# that, so sums of many of them still fit.
MAX_AMOUNT = Decimal("1e12")
# More places than this is no amount of money or points, and makes quantizing fail.
MAX_PLACES = 12

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def to_cents(value: Decimal) -> Decimal:
    """Round a ledger amount half-even to the cent (SPEC: per ledger line)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def plain_decimal(value: str) -> str:
    """Decimal text as the contract writes it. Python's ``Decimal`` also reads
    ``" 100 "``, ``"1_000"`` and other scripts' digits; a sender that writes those
    does not follow the contract, and what it meant is not guessed at."""
    if value != value.strip() or "_" in value or not value.isascii():
        msg = "must be plain decimal text such as '125000.00' (no spaces, no "
        msg += "underscores, ASCII digits)"
        raise ValueError(msg)
    return value


def _decimal_string(value: Any) -> Any:
    # The wire contract carries money as decimal strings; a JSON float has already lost
    # exactness by the time it reaches us, so it is refused rather than guessed at.
    if isinstance(value, bool) or not isinstance(value, str | Decimal):
        msg = "money must be a decimal string such as '125000.00', not a JSON number"
        raise ValueError(msg)
    return plain_decimal(value) if isinstance(value, str) else value


def plausible(value: Decimal) -> Decimal:
    """A decimal the ledger can hold: at most ``MAX_AMOUNT`` in size and
    ``MAX_PLACES`` decimal places (pydantic has already refused NaN and infinity)."""
    # copy_abs, not abs(): abs rounds to the context, and an exponent past its limit
    # (such as "1e1000000") then raises decimal.Overflow instead of being refused.
    if value.copy_abs() > MAX_AMOUNT:
        msg = f"must be at most {MAX_AMOUNT:f} in size, not {value:E}"
        raise ValueError(msg)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        msg = f"must have at most {MAX_PLACES} decimal places"
        raise ValueError(msg)
    return value


MoneyAmount = Annotated[
    Decimal, BeforeValidator(_decimal_string), AfterValidator(plausible)
]
"""A money amount as the wire sends it: a decimal string, never a float, within
the ledger's bounds."""


def format_money(value: Decimal) -> str:
    """Grouped digits, cents shown; more places only where the value really has them."""
    cents = value.quantize(CENT)
    return f"{cents if cents == value else value.normalize():,}"


@lru_cache(maxsize=1024)  # a plan has few distinct rates; formulas show them often
def percent(rate: Decimal) -> str:
    """A rate as a person reads it: 0.015 -> 1.5%."""
    return f"{(rate * 100).normalize():f}%"
