"""What a builder (``domain.wirebuild``) does with one field's wire value: money
checked as the pydantic path would and remembered by its text, patterned strings
checked by their own validator once for each distinct value. A value the pydantic
path might judge otherwise raises ``Declined``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import annotated_types as at
from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

from domain.money import MAX_AMOUNT, MAX_PLACES, plausible

Build = Callable[[Any], Any]
# What the pydantic path takes as money and turns into this very Decimal, with no
# more places than it allows. Other text Decimal() reads (" 1", "1_0", "1e5", ".5",
# "NaN", other scripts' digits) is left to it. [0-9] and fullmatch: \d and $ would
# take more.
MONEY_TEXT = re.compile(rf"-?[0-9]+(?:\.[0-9]{{1,{MAX_PLACES}}})?").fullmatch
# Validators of money that only refuse JSON types the Struct never decodes there.
_TYPE_GATES = frozenset(("_decimal_string", "_score", "_stamp_text"))


def _gate(item: object) -> str | None:
    return getattr(getattr(item, "func", None), "__name__", None)


# Distinct values of one field remembered as valid; past this many the others are
# checked each time they come.
_KNOWN_AT_MOST = 4096


class Declined(ValueError):
    """The wire path does not vouch for this message; pydantic decides."""


def own_validator(field: FieldInfo) -> Build:
    """A patterned field's own validator (its pattern is in its metadata)."""
    # A gate that only refuses JSON types the Struct never decodes there costs a
    # Python call per value and refuses nothing on this path.
    metadata = [m for m in field.metadata if _gate(m) not in _TYPE_GATES]
    typed: Any = Annotated[(field.annotation, *metadata)]
    validate: Build = TypeAdapter(typed).validator.validate_python
    return validate


def pattern(field: FieldInfo) -> str | None:
    found = (getattr(item, "pattern", None) for item in field.metadata)
    return next((p for p in found if p is not None), None)


def remembering(field: FieldInfo) -> tuple[set[str], Build]:
    known: set[str] = set()
    validate = own_validator(field)

    def learn(value: str) -> str:
        valid: str = validate(value)
        if len(known) < _KNOWN_AT_MOST:
            known.add(valid)
        return valid

    return known, learn


def _bounds(field: FieldInfo) -> tuple[Any, bool, Any, bool]:
    """The tightest of the field's Gt/Ge/Lt/Le and the contract's size limit, as
    (low, whether open, high, whether open)."""
    meta = field.metadata
    lows: list[tuple[Any, bool]] = [(-MAX_AMOUNT, False)]
    lows += [(m.gt, True) for m in meta if isinstance(m, at.Gt)]
    lows += [(m.ge, False) for m in meta if isinstance(m, at.Ge)]
    highs: list[tuple[Any, bool]] = [(MAX_AMOUNT, False)]
    highs += [(m.lt, True) for m in meta if isinstance(m, at.Lt)]
    highs += [(m.le, False) for m in meta if isinstance(m, at.Le)]
    # Of two bounds at one value, the open one is the tighter.
    low, low_open = max(lows, key=lambda bound: bound)
    high, high_open = min(highs, key=lambda bound: (bound[0], not bound[1]))
    return low, low_open, high, high_open


def remembering_money(field: FieldInfo) -> tuple[dict[str | int, Decimal], Build]:
    """A money field's values by what the wire sent, and the check that adds to
    them: most money on the wire repeats (shares, scores, list prices)."""
    known: dict[str | int, Decimal] = {}
    low, low_open, high, high_open = _bounds(field)

    def learn(given: str | int) -> Decimal:
        if isinstance(given, str) and not MONEY_TEXT(given):
            raise Declined
        value = Decimal(given)
        if (value <= low if low_open else value < low) or (
            value >= high if high_open else value > high
        ):
            raise Declined
        if len(known) < _KNOWN_AT_MOST:
            known[given] = value
        return value

    return known, learn


def _validators(field: FieldInfo) -> set[str | None]:
    """The names of the functions validating ``field``."""
    return {_gate(m) for m in field.metadata} - {None}


def check_money_validators(name: str, field: FieldInfo) -> None:
    funcs = _validators(field)
    if "plausible" not in funcs or funcs - _TYPE_GATES - {plausible.__name__}:
        msg = f"{name}: no wire conversion for a Decimal validated by {funcs}"
        raise TypeError(msg)


def check_stamp_validators(name: str, field: FieldInfo) -> None:
    """A stamp the Struct decodes may carry no validator but type gates."""
    funcs = _validators(field) - _TYPE_GATES
    if funcs:
        msg = f"{name}: no wire conversion for a stamp validated by {funcs}"
        raise TypeError(msg)
