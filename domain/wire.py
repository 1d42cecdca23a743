"""The wire path of the event contract: from bytes to validated events in one pass.

``domain.events`` stays the contract: its pydantic models are the published JSON
Schema, the type the fold receives, and the author of every refusal. Here msgspec
Structs mirror those models narrowly (strict JSON types, money as plain decimal
strings, RFC 3339 stamps with at most microseconds, ASCII digits only), and what they
take is built into the very pydantic classes without validating it a second time.
Whatever they do not take, ``take`` answers with None and the caller decodes the
pydantic way, so a refusal keeps its exact code and detail: the fast path may only
ever decline, never refuse.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, NamedTuple, TypeVar

import msgspec
from msgspec import UNSET
from msgspec.structs import asdict
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from domain import wiretypes as w
from domain.money import plausible

# json.loads nests through the interpreter's recursion limit and refuses integers
# longer than sys.get_int_max_str_digits(); msgspec does neither for the unknown
# fields it skips. A message with few brackets and fewer bytes than that many digits
# cannot differ on either, so only those take the fast path. No more brackets than
# the contract's nesting limit (``MAX_NESTING``) also means no deeper nesting.
_MAX_BRACKETS = 32
_new = object.__new__
_set = object.__setattr__
M = TypeVar("M", bound=BaseModel)
Convert = Callable[[Any], Any]


def _instance(model: type[M], values: dict[str, Any], given: set[str]) -> M:
    # What BaseModel.__init__ leaves behind for a model with extra="ignore" and no
    # private attributes, minus the validation the Struct already did.
    made: M = _new(model)
    _set(made, "__dict__", values)
    _set(made, "__pydantic_fields_set__", given)
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


def _decimal(text: str | int, low: int, high: int | None, low_open: bool) -> Decimal:
    value = plausible(Decimal(text))
    if (
        value < low
        or (low_open and value == low)
        or (high is not None and value > high)
    ):
        raise ValueError(text)
    return value


def _money(text: str) -> Decimal:
    return plausible(Decimal(text))


def _positive(text: str | int) -> Decimal:
    return _decimal(text, 0, None, low_open=True)


def _non_negative(text: str) -> Decimal:
    return _decimal(text, 0, None, low_open=False)


def _share(text: str) -> Decimal:
    return _decimal(text, 0, 1, low_open=True)


def _multiplier(text: str) -> Decimal:
    return _decimal(text, 0, 10, low_open=True)


def _score(value: str | int) -> Decimal:
    return _decimal(value, 0, 100, low_open=False)


def _splits(model: type[BaseModel]) -> Convert:
    def convert(wire: tuple[w.Split, ...]) -> tuple[BaseModel, ...]:
        return tuple(
            _instance(
                model,
                {"rep_id": split.rep_id, "share": _share(split.share)},
                {"rep_id", "share"},
            )
            for split in wire
        )

    return convert


# Stamps, currencies and periods go through the model's own validator of that field:
# pydantic's datetime parser (and tzinfo class) and its regex engine, exactly.
_BY_PYDANTIC = frozenset(
    ("occurred_at", "payment_due_at", "hired_at", "starts_at", "ends_at", "currency")
) | {"period"}
_CONVERSIONS: dict[str, Convert] = {
    "margin": _money,
    "measured_uplift": _non_negative,
    "multiplier": _multiplier,
    "score": _score,
    "points": _positive,
}
# amount is strictly positive on deals and payments, may be zero on targets.
_AMOUNT: dict[str, Convert] = {
    "QuotaAssigned": _non_negative,
    "QuotaAdjusted": _non_negative,
}


class Shape(NamedTuple):
    """How one Struct becomes its pydantic model."""

    model: type[BaseModel]
    template: dict[str, Any]
    given: frozenset[str]
    version: int
    conversions: tuple[tuple[str, Convert], ...]
    defaults: tuple[tuple[str, Any], ...]
    checks: tuple[Callable[[Any], Any], ...]


def _field_validator(field: FieldInfo) -> Convert:
    typed: Any = field.annotation
    if field.metadata:
        typed = Annotated[(typed, *field.metadata)]
    validate: Convert = TypeAdapter(typed).validator.validate_python
    return validate


def _shape(model: type[BaseModel], version: int, splits: Convert) -> Shape:
    names = tuple(model.model_fields)
    fields = model.model_fields
    amount = _AMOUNT.get(model.__name__, _positive)
    conversions = {**_CONVERSIONS, "amount": amount, "splits": splits}
    conversions |= {n: _field_validator(fields[n]) for n in names if n in _BY_PYDANTIC}
    validators = model.__pydantic_decorators__.model_validators
    checks = tuple(getattr(model, name) for name in validators)
    return Shape(
        model=model,
        template={**dict.fromkeys(names), "event_type": model.__name__},
        given=frozenset(names),
        version=version,
        conversions=tuple((n, conversions[n]) for n in names if n in conversions),
        defaults=tuple(
            (n, fields[n].default) for n in names if not fields[n].is_required()
        ),
        checks=checks,
    )


def _build(shape: Shape, wire: msgspec.Struct) -> BaseModel:
    # The copy keeps the model's field order, which repr and iteration show.
    data = shape.template.copy()
    data.update(asdict(wire))
    given = set(shape.given)
    for name, default in shape.defaults:
        if data[name] is UNSET:
            data[name] = default
            given.discard(name)
    for name, convert in shape.conversions:
        data[name] = convert(data[name])
    event = _instance(shape.model, data, given)
    for check in shape.checks:
        check(event)
    return event


def _plain(data: bytes) -> bool:
    limit = sys.get_int_max_str_digits()
    if limit and len(data) > limit:
        return False
    if data.count(b"[") + data.count(b"{") > _MAX_BRACKETS:
        return False
    if data.isascii():
        return True
    try:
        data.decode()
    except UnicodeDecodeError:  # json.loads tells these apart; leave it to say how
        return False
    return True


class FastPath:
    """Decodes the messages it can vouch for into the given pydantic models."""

    def __init__(
        self,
        models: Mapping[str, type[BaseModel]],
        split: type[BaseModel],
        versions: Mapping[str, int],
    ) -> None:
        splits = _splits(split)
        self.shapes: dict[type[msgspec.Struct], Shape] = {
            struct: _shape(models[struct.__name__], versions[struct.__name__], splits)
            for struct in w.STRUCTS
        }
        self._decoder = msgspec.json.Decoder(w.Wire, strict=True)

    def take(self, data: bytes) -> BaseModel | None:
        """The event ``data`` holds, or None where pydantic must decide (and refuse)."""
        if not _plain(data):
            return None
        try:
            wire = self._decoder.decode(data)
        except (msgspec.MsgspecError, ValueError, RecursionError):
            return None
        shape = self.shapes[type(wire)]
        if wire.schema_version != shape.version:  # an upcaster's business
            return None
        try:
            return _build(shape, wire)
        except (ValueError, ArithmeticError):
            return None
