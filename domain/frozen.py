"""Changing one field of a frozen record without the cost of ``dataclasses.replace``.

The fold copies its records (world, rep state, positions) on every event, so the
copy sits on the hottest path. ``dataclasses.replace`` re-runs ``__init__`` through
``getattr`` over every field and costs several times more than copying the slots.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

_set = object.__setattr__


def updated(record: T, **changes: Any) -> T:
    """A copy of the slotted frozen dataclass ``record`` with ``changes`` applied."""
    cls = type(record)
    copy = cls.__new__(cls)
    for name in cls.__slots__:  # type: ignore[attr-defined]
        _set(copy, name, getattr(record, name))
    try:
        for name, value in changes.items():
            _set(copy, name, value)
    except AttributeError:
        unknown = sorted(set(changes) - set(cls.__slots__))  # type: ignore[attr-defined]
        msg = f"{cls.__name__} has no field(s) {', '.join(unknown)}"
        raise TypeError(msg) from None
    return copy
