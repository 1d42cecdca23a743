"""Changing fields of a frozen record without the cost of ``dataclasses.replace``.

The fold copies its records (world, rep state, positions) several times an event, so
the copy sits on the hottest path. ``dataclasses.replace`` re-runs ``__init__``
through ``getattr`` over every field, and a frozen ``__init__`` sets each field
through ``object.__setattr__``: both cost several times what plain attribute stores
cost.

``updated`` copies through a writable twin of the record's class: a subclass that
adds no slots (so its instances have the very layout of the record's) and takes
plain stores. A copier written for each class (straight-line code, as dataclasses
writes an ``__init__``) makes a twin, stores every slot and each change into it, then
turns it into an instance of the record's own class. Measured here (``timeit`` of
``updated`` with one change, 100,000 runs): a ``World`` 0.70 us against 3.5 us
copying slot by slot through ``object.__setattr__``, a ``RepState`` 0.67 against 2.7.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

Copier = Callable[[Any, Mapping[str, Any]], Any]
_COPIERS: dict[type, Copier] = {}


def _slots(cls: type) -> list[str]:
    """Every slot of ``cls`` and its bases, each once, as a copy must fill them."""
    return list(
        dict.fromkeys(
            name
            for klass in reversed(cls.__mro__)
            for name in klass.__dict__.get("__slots__", ())
        )
    )


def _copier(cls: type) -> Copier:
    if cls.__dictoffset__:  # fields in a __dict__ would not be copied
        msg = f"{cls.__name__} is not a slotted record"
        raise TypeError(msg)
    twin = type(
        f"_Writable{cls.__name__}",
        (cls,),
        # Both, or the store slot stays the frozen class's Python-level one.
        {
            "__slots__": (),
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
        },
    )
    lines = ["def copy(record, changes):", "    made = new(twin)"]
    lines += [f"    made.{name} = record.{name}" for name in _slots(cls)]
    lines += [
        "    for name, value in changes.items():",
        "        setattr(made, name, value)",
        "    made.__class__ = cls",
        "    return made",
    ]
    names: dict[str, Any] = {"new": object.__new__, "twin": twin, "cls": cls}
    exec("\n".join(lines), names)  # noqa: S102 - our own code, from the slots' names
    copier: Copier = names["copy"]
    _COPIERS[cls] = copier
    return copier


def updated(record: T, **changes: Any) -> T:
    """A copy of the slotted frozen dataclass ``record`` with ``changes`` applied."""
    cls = type(record)
    copier = _COPIERS.get(cls) or _copier(cls)
    try:
        copy: T = copier(record, changes)
    except AttributeError:
        unknown = sorted(set(changes) - set(_slots(cls)))
        msg = f"{cls.__name__} has no field(s) {', '.join(unknown)}"
        raise TypeError(msg) from None
    return copy
