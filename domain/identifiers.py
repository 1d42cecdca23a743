"""What the contract accepts as an identifier (event, deal, rep, customer ids ...).

An id names something, so it is not blank, has no space at either end and no line
break: ``" D-1"`` and ``"D-1"`` would otherwise be two deals. The pydantic models
(``domain.events``) apply ``named``; their msgspec mirrors check a required id's ends
against ``ID_ENDS`` in its builder (``domain.wirebuild``) and match an optional or
listed one with ``ID_TEXT`` (``domain.wiretypes``): one set of characters, so both
paths judge an id the same way.
"""

from __future__ import annotations

import re

# ASCII whitespace only: Python's and other engines' ideas of Unicode space differ.
ID_ENDS = " \t\n\r\f\v"
_END = re.escape(ID_ENDS)
ID_TEXT = rf"^[^{_END}](?:[^\n]*[^{_END}])?\Z"
_ID = re.compile(ID_TEXT)


def named(value: str) -> str:
    """An identifier as given, or ValueError when it is blank-ended or broken."""
    if not _ID.match(value):
        msg = "an identifier has no space at either end and no line break"
        raise ValueError(msg)
    return value
