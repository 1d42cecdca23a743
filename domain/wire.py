"""The wire path of the event contract: from bytes to validated events in one pass.

``domain.events`` stays the contract: its pydantic models are the published JSON
Schema, the type the fold receives, and the author of every refusal. Here msgspec
Structs mirror those models narrowly (strict JSON types, RFC 3339 stamps with at most
microseconds, ASCII digits only), and what they take is built into the very pydantic
classes by a builder written for each model (``domain.wirebuild``) without
validating it a second time. Whatever they do not take, ``take`` answers with None
and the caller decodes the pydantic way, so a refusal keeps its exact code and
detail: the fast path may only ever decline, never refuse.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import datetime

import msgspec
from pydantic import BaseModel

from domain import wiretypes as w
from domain.wirebuild import builder
from domain.wirefields import Build

# json.loads nests through the interpreter's recursion limit and refuses integers
# longer than sys.get_int_max_str_digits(); msgspec does neither for the unknown
# fields it skips. A message with few brackets and fewer bytes than that many digits
# cannot differ on either. No more brackets than the contract's nesting limit
# (``MAX_NESTING``) also means no deeper nesting. A message without unknown fields
# (decoded by the closed Structs) nests as its own fields do, and needs no count.
_MAX_BRACKETS = 32
# A stamp's fraction finer than microseconds is cut by pydantic and rounded by msgspec.
# A message that may hold one (seven digits after a point after a stamp's seconds, or
# a colon, point or digit written as a JSON escape) is left to pydantic. The point
# leads the first pattern, and the backslash the second: the search looks for it first.
_FINER = re.compile(rb"\.[0-9]{7}(?<=:[0-9]{2}\.[0-9]{7})").search
_ESCAPED = re.compile(rb"\\u00(?:2[eE]|3)").search


def _maybe_finer(data: bytes) -> bool:
    return _FINER(data) is not None or (b"\\" in data and _ESCAPED(data) is not None)


def _utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:  # json.loads tells these apart; leave it to say how
        return False
    return True


def _shallow(data: bytes) -> bool:
    return data.count(b"[") + data.count(b"{") <= _MAX_BRACKETS


class FastPath:
    """Decodes the messages it can vouch for into the given pydantic models."""

    def __init__(
        self,
        models: Mapping[str, type[BaseModel]],
        versions: Mapping[str, int],
        window: tuple[datetime, datetime],
    ) -> None:
        """``window``: the earliest moment a stamp may be, and the first it may no
        longer be (``Envelope._dates_in_range``)."""
        self.builders: dict[type[msgspec.Struct], Build] = {}
        for struct in w.STRUCTS:
            name = struct.__name__
            # Another schema_version is an upcaster's business: declined.
            built = builder(models[name], struct, window, versions[name])
            self.builders[struct] = self.builders[w.CLOSED[struct]] = built
        self._closed = msgspec.json.Decoder(w.CLOSED_WIRE, strict=True)
        self._open = msgspec.json.Decoder(w.Wire, strict=True)

    def take(self, data: bytes) -> BaseModel | None:
        """The event ``data`` holds, or None where pydantic must decide (and refuse)."""
        limit = sys.get_int_max_str_digits()
        if (limit and len(data) > limit) or not (data.isascii() or _utf8(data)):
            return None
        if _maybe_finer(data):
            return None
        try:
            try:
                wire = self._closed.decode(data)
            except msgspec.ValidationError:  # unknown fields, or an invalid one
                if not _shallow(data):
                    return None
                wire = self._open.decode(data)
            event: BaseModel = self.builders[type(wire)](wire)
        except (msgspec.MsgspecError, ValueError, ArithmeticError, RecursionError):
            return None
        return event
