"""One builder per event model: a decoded wire Struct in, the very pydantic event out.

Each builder is written at import from its model's fields, as dataclasses writes an
``__init__``: straight-line code that reads the Struct's attributes into the model's
``__dict__`` in field order and converts only what the Struct leaves as text.

- Money: a plain decimal string of at most ``MAX_PLACES`` places, or an integer
  where the Struct takes one, made a ``Decimal`` and held to the field's bounds and
  the contract's size (``domain.money.plausible``), once for each distinct value
  (``domain.wirefields``).
- Stamps: as the Struct decoded them (aware datetimes, one tzinfo object for each
  UTC offset), held to the contract's window of dates
  (``Envelope._dates_in_range``).
- Patterned strings (currencies, periods): the field's own pydantic validator, once
  for each distinct value.
- Tuples of models (splits): that model's builder for each item.
- Anything else is taken as the Struct decoded it: the Struct mirrors those fields.

The model validators are not called: ``_MIRRORS`` restates each as an expression
over the converted values (a validator it does not know is called on the built
event, and what it returns is the event, as in pydantic). A failed check raises
``Declined``; the caller then decodes the pydantic way, which gives the refusal its
code and detail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, get_args, get_origin

import msgspec
from msgspec import UNSET
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from domain.identifiers import ID_ENDS, named
from domain.wirefields import (
    Build,
    Declined,
    check_money_validators,
    check_stamp_validators,
    pattern,
    remembering,
    remembering_money,
)

_SLOTS = {
    slot: BaseModel.__dict__[slot]
    for slot in (
        "__dict__",
        "__pydantic_fields_set__",
        "__pydantic_extra__",
        "__pydantic_private__",
    )
}


def _splits_add_up(splits: tuple[Any, ...]) -> bool:
    """``_check_splits`` for two splits or more."""
    total = sum((s.share for s in splits), Decimal(0))
    return total == 1 and len({s.rep_id for s in splits}) == len(splits)


# One split adds up to 1 when its share is 1: 0 + share is exact (a share has at most
# 13 digits), so this is the validator's own sum.
_ADD_UP = "(f_splits[0].share == 1 if len(f_splits) == 1 else add_up(f_splits))"
# Local dates three days apart settle the order of two stamps without their UTC
# offsets (each under a day, so they differ by under two): a due date a month on
# costs no offset lookups.
_NOT_BEFORE = "({0}.toordinal() - {1}.toordinal() > 2 or {0} >= {1})"
# Model validators (by qualified name) and the expressions standing for them, over
# the converted fields (f_<name>); None for the window of dates, which the code of
# each stamp checks.
_MIRRORS: dict[str, str | None] = {
    "Envelope._dates_in_range": None,
    "DealClosed._plausible": f"{_ADD_UP} and f_margin <= f_amount and "
    + _NOT_BEFORE.format("f_payment_due_at", "f_occurred_at"),
    "DealAmended._plausible": f"{_ADD_UP} and f_margin <= f_amount",
    "SpiffAnnounced._window": "f_ends_at > f_starts_at",
}


class _Writer:
    """The source of one model's builder and the names it uses."""

    def __init__(
        self,
        model: type[BaseModel],
        struct: type[msgspec.Struct],
        window: tuple[datetime, datetime] | None,
        version: int | None,
    ) -> None:
        validators = model.__pydantic_decorators__.model_validators.values()
        if "Envelope._dates_in_range" not in {v.func.__qualname__ for v in validators}:
            window = None
        self.model, self.window = model, window
        self.types = {f.name: f.type for f in msgspec.structs.fields(struct)}
        fields = [n for n in model.model_fields if n != "event_type"]
        if list(self.types) != fields:
            msg = f"{struct.__name__} does not list {model.__name__}'s fields in order"
            raise TypeError(msg)
        self.names: dict[str, Any] = {
            "Declined": Declined,
            "Decimal": Decimal,
            "ID_ENDS": ID_ENDS,
            "UNSET": UNSET,
            "add_up": _splits_add_up,
            "new": object.__new__,
            # The slots pydantic's own constructor fills, set as it sets them.
            **{f"set{slot}": _SLOTS[slot].__set__ for slot in _SLOTS},
            "model": model,
            "GIVEN": set(model.model_fields),
        }
        self.lines = ["def build(w):"]
        if version is not None:
            self.emit(f"if w.schema_version != {version}:", "    raise Declined")
        self.values: list[str] = []
        if window is not None:
            earliest, latest = window
            self.names |= {"earliest": earliest, "latest": latest}
            # A stamp's UTC offset is under a day, so any moment of a local year
            # after the first's or before the last's lies inside the window.
            day = timedelta(days=1)
            self.years = ((earliest + day).year, (latest - day).year)

    def emit(self, *lines: str) -> None:
        self.lines.extend(f"    {line}" for line in lines)

    def field(self, name: str, field: FieldInfo) -> None:
        local, given = f"f_{name}", f"w.{name}"
        if name == "event_type":
            self.values.append(repr(get_args(field.annotation)[0]))
            return
        if not field.is_required():
            self._defaulted(name, field)
        elif field.annotation is AwareDatetime:
            check_stamp_validators(name, field)
            self._stamp(name)
        elif field.annotation is Decimal:
            self._money(name, field)
        elif pattern(field) is not None:
            known, learn = remembering(field)
            self.names |= {f"known_{name}": known, f"learn_{name}": learn}
            self.emit(
                f"{local} = {given}",
                f"if {local} not in known_{name}:",
                f"    {local} = learn_{name}({local})",
            )
        elif _is_identifier(field):
            # domain.identifiers' rule, spelled out: not blank at either end, no
            # line break (the Struct has already refused an empty one).
            self.emit(
                f"{local} = {given}",
                f"if {local}[0] in ID_ENDS or {local}[-1] in ID_ENDS or "
                f"'\\n' in {local}:",
                "    raise Declined",
            )
        elif get_origin(field.annotation) is tuple and _is_model(field.annotation):
            item = get_args(field.annotation)[0]
            struct = get_args(_unannotated(self.types[name]))[0]
            self.names[f"build_{name}"] = builder(item, struct, None, None)
            build = f"build_{name}"
            self.emit(  # most deals have one split
                f"{local} = {given}",
                f"{local} = ({build}({local}[0]),) if len({local}) == 1"
                f" else tuple(map({build}, {local}))",
            )
        else:
            local = given
        self.values.append(local)

    def _defaulted(self, name: str, field: FieldInfo) -> None:
        if field.annotation in (AwareDatetime, Decimal) or pattern(field) is not None:
            msg = f"{self.model.__name__}.{name}: a default the wire path cannot take"
            raise TypeError(msg)
        self.names[f"default_{name}"] = field.default
        self.emit(
            f"f_{name} = w.{name}",
            f"if f_{name} is UNSET:",
            f"    f_{name} = default_{name}",
            f"    given.discard({name!r})",
        )

    def _stamp(self, name: str) -> None:
        typed = self.types[name]
        metas = get_args(typed)[1:] if get_origin(typed) is Annotated else ()
        aware = any(getattr(meta, "tz", None) for meta in metas)
        if _unannotated(typed) is not datetime or not aware:
            msg = f"{self.model.__name__}.{name}: a stamp the wire must decode aware"
            raise TypeError(msg)
        self.emit(f"f_{name} = w.{name}")
        if self.window is not None:
            first, last = self.years
            self.emit(
                f"if not {first} < f_{name}.year < {last} and not "
                f"earliest <= f_{name} < latest:",
                "    raise Declined",
            )

    def _money(self, name: str, field: FieldInfo) -> None:
        check_money_validators(name, field)
        known, learn = remembering_money(field)
        self.names |= {f"known_{name}": known, f"learn_{name}": learn}
        self.emit(
            f"f_{name} = known_{name}.get(w.{name})",
            f"if f_{name} is None:",
            f"    f_{name} = learn_{name}(w.{name})",
        )

    def source(self) -> str:
        names = list(self.model.model_fields)
        defaults = any(not f.is_required() for f in self.model.model_fields.values())
        given = "given" if defaults else "GIVEN.copy()"
        if defaults:
            self.lines.insert(1, "    given = GIVEN.copy()")
        for name in names:
            self.field(name, self.model.model_fields[name])
        pairs = ", ".join(
            f"{n!r}: {v}" for n, v in zip(names, self.values, strict=True)
        )
        self._validators()
        self.emit(
            "made = new(model)",
            f"set__dict__(made, {{{pairs}}})",
            f"set__pydantic_fields_set__(made, {given})",
            "set__pydantic_extra__(made, None)",
            "set__pydantic_private__(made, None)",
        )
        self.emit(
            *(f"made = unmirrored_{i}(made)" for i in range(self._unmirrored)),
            "return made",
        )
        return "\n".join(self.lines) + "\n"

    def _validators(self) -> None:
        self._unmirrored = 0
        for name, found in self.model.__pydantic_decorators__.model_validators.items():
            if found.info.mode != "after":
                msg = f"{self.model.__name__}.{name}: only 'after' validators"
                raise TypeError(msg)
            qualname = found.func.__qualname__
            if qualname not in _MIRRORS:
                self.names[f"unmirrored_{self._unmirrored}"] = getattr(self.model, name)
                self._unmirrored += 1
                continue
            check = _MIRRORS[qualname]
            if check is not None:
                self.emit(f"if not ({check}):", "    raise Declined")


def _unannotated(typed: Any) -> Any:
    return get_args(typed)[0] if get_origin(typed) is Annotated else typed


def _is_identifier(field: FieldInfo) -> bool:
    """Whether a field is the contract's ``Identifier`` (validated by ``named``)."""
    return any(getattr(item, "func", None) is named for item in field.metadata)


def _is_model(annotation: Any) -> bool:
    item = get_args(annotation)[0]
    return isinstance(item, type) and issubclass(item, BaseModel)


def builder_source(
    model: type[BaseModel],
    struct: type[msgspec.Struct],
    window: tuple[datetime, datetime] | None,
    version: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """The code of ``model``'s builder from ``struct`` and the names it reads."""
    writer = _Writer(model, struct, window, version)
    return writer.source(), writer.names


def builder(
    model: type[BaseModel],
    struct: type[msgspec.Struct],
    window: tuple[datetime, datetime] | None,
    version: int | None = None,
) -> Build:
    """A function from a decoded ``struct`` to its ``model`` event, equal to what
    validating it gives, or raising ``Declined``. ``window``: the earliest moment a
    stamp may be and the first it may no longer be, for models that check it;
    ``version``: the only ``schema_version`` taken, if any."""
    source, names = builder_source(model, struct, window, version)
    code = compile(source, f"<wire builder of {model.__name__}>", "exec")
    exec(code, names)  # noqa: S102 - our own code, written from the model's fields
    built: Build = names["build"]
    return built
