"""Fuzzing the edge (issue 14): whatever bytes arrive, ``decode_event`` gives an
event or ``InvalidEvent`` with a reason, never another exception, so every message
gets a verdict."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from domain.events import InvalidEvent, decode_event
from tests.factories import deal_event, envelope, payment_event

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)  # what JSON encoders write
    | st.floats()
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
VALID = [
    deal_event(),
    payment_event("p-1", "D-1", "100.00", "2026-03-01T10:00:00+08:00"),
    envelope("SatisfactionRecorded", "s-1", "2026-03-02T10:00:00+08:00",
             deal_id="D-1", customer_id="C-1", score="90"),
    envelope("PeriodClosed", "pc-1", "2026-04-01T00:00:00+08:00", period="2026-Q1"),
]  # fmt: skip


def _verdict(data: bytes) -> str:
    try:
        found = decode_event(data)
    except InvalidEvent as exc:
        assert exc.code, data
        return exc.code
    assert isinstance(found, BaseModel)  # one of the event models
    return found.event_type


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=600))
def test_any_bytes_get_a_verdict(data: bytes) -> None:
    _verdict(data)


@settings(max_examples=600, deadline=None)
@given(
    which=st.integers(0, len(VALID) - 1),
    field=st.integers(0, 30),
    value=JSON,
    cut=st.none() | st.integers(0, 400),
)
def test_a_valid_event_with_any_field_replaced_or_cut_gets_a_verdict(
    which: int, field: int, value: Any, cut: int | None
) -> None:
    event = dict(VALID[which])
    names = sorted(event)
    event[names[field % len(names)]] = value
    data = orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS)
    _verdict(data if cut is None else data[:cut])


@settings(max_examples=200, deadline=None)
@given(which=st.integers(0, len(VALID) - 1), digits=st.integers(19, 400))
def test_a_number_literal_of_any_length_gets_a_verdict(which: int, digits: int) -> None:
    text = orjson.dumps(VALID[which]).decode()
    for name in ("amount", "score", "schema_version"):
        text = text.replace(f'"{name}":', f'"{name}":{"9" * digits},"_{name}":', 1)
    _verdict(text.encode())
