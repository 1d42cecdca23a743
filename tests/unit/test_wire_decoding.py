"""The one-pass wire path decodes exactly what the pydantic path decodes, and declines
the rest to it: same event (==, repr but for the tzinfo class, JSON, fields set) or
the same refusal."""

from __future__ import annotations

import json
import typing
from datetime import datetime
from typing import Any, cast

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from domain.events import (
    _FAST_PATH,
    DealClosed,
    Event,
    InvalidEvent,
    decode_event,
    decode_event_slowly,
)
from domain.wiretypes import STRUCTS
from tests.factories import deal_event, envelope, payment_event

AT = "2026-03-14T09:30:00+08:00"
SPLITS = [{"rep_id": "R-1", "share": "0.6"}, {"rep_id": "R-2", "share": "0.4"}]
REP = {
    "rep_id": "R-1",
    "team_id": "T-1",
    "region": "east",
    "role": "support",
    "grade": "P5",
    "hired_at": "2025-01-01T00:00:00Z",
}
QUOTA = {
    "node_id": "N-1",
    "level": "team",
    "parent_id": "N-0",
    "period": "2026-Q1",
    "amount": "0",
    "currency": "CNY",
}
EXAMPLES: list[dict[str, Any]] = [
    deal_event(),
    deal_event(splits=SPLITS, amount="100.5", margin="-3"),
    envelope(
        "DealAmended",
        "a",
        AT,
        deal_id="D",
        amount="9",
        margin="1",
        currency="EUR",
        splits=SPLITS,
    ),
    envelope("DealCancelled", "c", AT, deal_id="D"),
    envelope("DealCancelled", "c", AT, deal_id="D", reason="lost"),
    payment_event("p", "D", "62500.00", AT),
    envelope("SatisfactionRecorded", "s", AT, deal_id="D", customer_id="C", score=96),
    envelope(
        "SatisfactionRecorded",
        "s",
        AT,
        deal_id="D",
        customer_id="C",
        score="99.5",
        comment="好",
    ),
    envelope("QuotaAssigned", "q", AT, **QUOTA),
    envelope(
        "QuotaAssigned", "q", AT, **{**QUOTA, "period": "2026", "parent_id": None}
    ),
    envelope("QuotaAdjusted", "q", AT, **QUOTA, reason="why", approved_by="CFO"),
    envelope(
        "PlanPublished",
        "pp",
        AT,
        plan_id="P",
        version=1,
        effective_from=AT,
        plan={"rate": 0.5},
    ),
    envelope("RepHired", "h", AT, **REP),
    envelope("RepMoved", "m", AT, **REP),
    envelope("RepLeft", "l", "2026-03-14T09:30:00.123456-05:30", **REP),
    envelope(
        "SpiffAnnounced",
        "sp",
        AT,
        spiff_id="S",
        starts_at=AT,
        ends_at="2026-04-01T00:00:00Z",
        multiplier="2",
        regions=["east"],
    ),
    envelope("ActivityLogged", "al", AT, activity_id="A", rep_id="R", kind="visit"),
    envelope(
        "ActivityLogged",
        "al",
        AT,
        activity_id="A",
        rep_id="R",
        kind="visit",
        complete=False,
        customer_id="C",
    ),
    envelope(
        "CollaborationConfirmed",
        "cc",
        AT,
        collaboration_id="K",
        helper_rep_id="R-1",
        beneficiary_rep_id="R-2",
    ),
    envelope(
        "PointsRedeemed",
        "pr",
        AT,
        redemption_id="X",
        rep_id="R",
        points="5",
        reward="mug",
    ),
    envelope(
        "NominationMade",
        "nm",
        AT,
        nomination_id="N",
        nominee_id="R",
        nominated_by="M",
        pool="P",
        period="2026-03",
    ),
    envelope(
        "ProposalAdopted",
        "pa",
        AT,
        proposal_id="I",
        rep_id="R",
        period="2026",
        measured_uplift="0.00",
    ),
    envelope("PeriodClosed", "pc", AT, period="2026-Q4"),
    envelope("CustomerSeen", "cs", AT, deal_id="D", customer_id="C", closed_at=AT,
             new_customer=True),
    envelope("CustomerSeen", "cs", AT, deal_id="D", customer_id="C", closed_at=AT,
             new_customer=False, reps=["R-1", "R-2"], cancelled=True),
]  # fmt: skip


def _dumps(event: dict[str, Any]) -> bytes:
    # The stdlib writes what orjson will not: big integers, Infinity, lone surrogates.
    return json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _shown(value: Any) -> Any:
    """``value`` as repr shows it, the types and digits of every field included, but
    a moment as its wall time and UTC offset: the wire path's tzinfo objects are
    msgspec's (``datetime.timezone``), pydantic's its own ``TzInfo``."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return (type(value), tuple((n, _shown(getattr(value, n))) for n in fields))
    if isinstance(value, tuple):
        return tuple(_shown(item) for item in value)
    if isinstance(value, datetime):
        return ("moment", value.replace(tzinfo=None), value.utcoffset())
    return repr(value)


def _outcome(decode: Any, data: bytes) -> tuple[Any, ...]:
    try:
        event: Event = decode(data)
    except InvalidEvent as exc:
        return ("refused", exc.code, exc.detail)
    return (
        type(event),
        _shown(event),
        event.model_dump_json(),
        sorted(event.__pydantic_fields_set__),
        [sorted(s.__pydantic_fields_set__) for s in getattr(event, "splits", ())],
    )


def _same(data: bytes) -> None:
    assert _outcome(decode_event, data) == _outcome(decode_event_slowly, data)
    try:
        slow = decode_event_slowly(data)
    except InvalidEvent:
        return
    assert decode_event(data) == slow


def test_every_event_type_but_plan_published_has_a_wire_mirror() -> None:
    covered = {struct.__name__ for struct in STRUCTS}
    assert {e["event_type"] for e in EXAMPLES} - covered == {"PlanPublished"}


def test_each_wire_mirror_lists_its_models_fields_in_the_models_order() -> None:
    models = {m.__name__: m for m in typing.get_args(typing.get_args(Event)[0])}
    for struct in _FAST_PATH.builders:
        names = [n for n in models[struct.__name__].model_fields if n != "event_type"]
        assert list(struct.__struct_fields__) == names, struct


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: str(e["event_type"]))
def test_valid_events_take_the_wire_path_and_equal_the_pydantic_ones(
    example: dict[str, Any],
) -> None:
    data = orjson.dumps(example)
    taken = _FAST_PATH.take(data)
    assert (taken is None) == (example["event_type"] == "PlanPublished")
    _same(data)


def test_a_copy_of_a_fast_decoded_event_behaves_like_a_validated_one() -> None:
    data = orjson.dumps(deal_event(splits=SPLITS))
    fast, slow = decode_event(data), decode_event_slowly(data)
    assert fast.model_copy(update={"deal_id": "X"}) == slow.model_copy(
        update={"deal_id": "X"}
    )
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_dump_json(exclude_unset=True) == slow.model_dump_json(
        exclude_unset=True
    )


@pytest.mark.parametrize(
    "data",
    [
        b'{"event_type":"DealCancelled","event_type":"RepLeft"}',
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D", x=[[[]]] * 40)),
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D", x="x" * 5000)),
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D"))[:-1]
        + b',"x":'
        + b"9" * 4400
        + b"}",
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D"))[:-1]
        + b',"x":"\xff"}',
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D"))[:-1]
        + b',"x":"\xed\xa0\x80"}',
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D"))[:-1]
        + b',"x":NaN}',
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D", schema_version=2)),
        orjson.dumps(deal_event(splits=[{"rep_id": "R-1", "share": "0.5"}] * 2)),
        orjson.dumps(deal_event(occurred_at="2026-03-14T09:30:00.1234567Z")),
        orjson.dumps(deal_event(amount="NaN")),
        orjson.dumps(deal_event(amount="1e5", margin="1")),
        orjson.dumps(deal_event(currency="CNY\n")),
        orjson.dumps(envelope("PeriodClosed", "pc", AT, period="2026\n")),
        orjson.dumps(
            envelope("PeriodClosed", "pc", AT, period="\u0662\u0660\u0662\u0666")
        ),
    ],
)
def test_messages_json_loads_or_pydantic_judge_otherwise_are_left_to_them(
    data: bytes,
) -> None:
    _same(data)


@pytest.mark.parametrize(
    "data",
    [
        orjson.dumps(deal_event(amount="1000000000000.01")),
        orjson.dumps(deal_event(margin="-1000000000001")),
        orjson.dumps(deal_event(amount="100.0000000000001")),
        orjson.dumps(
            deal_event(splits=[{"rep_id": "R-17", "share": "1.0000000000000"}])
        ),
        orjson.dumps(deal_event(occurred_at="1999-12-31T23:59:59+00:00")),
        orjson.dumps(deal_event(payment_due_at="2200-01-01T08:00:00+08:00")),
        orjson.dumps(payment_event("p", "D-1", "1e12", AT)),
        orjson.dumps(payment_event("p", "D-1", "1e1000000", AT)),
        orjson.dumps(deal_event(margin="-1e1000000")),
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D", x=[[[]]] * 31)),
        orjson.dumps(envelope("DealCancelled", "c", AT, deal_id="D", x=[[]] * 31)),
    ],
)
def test_the_contracts_bounds_hold_on_the_wire_path_too(data: bytes) -> None:
    """Amounts within 1e12 and 12 places, moments in 2000..2200, 32 levels at most:
    what the pydantic path refuses, the wire path leaves to it."""
    _same(data)


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-03-14T09:30:00.1234567+08:00",
        "2026-03-14T09:30:00.9999995Z",
        "2026-03-14T09:30:00.123456789-05:00",
        "2026-03-14T09:30:00\\u002e1234567+08:00",
        "2026-03-14T09:30:00.123456\\u0037+08:00",
    ],
)
def test_a_stamp_finer_than_microseconds_is_cut_as_pydantic_cuts_it(
    stamp: str,
) -> None:
    """msgspec would round such a fraction; the message is left to pydantic."""
    data = orjson.dumps(deal_event())
    data = data.replace(b"2026-03-14T09:30:00+08:00", stamp.encode(), 1)
    assert _FAST_PATH.take(data) is None
    event = cast(DealClosed, decode_event(data))
    assert event.occurred_at.microsecond in (123456, 999999)
    _same(data)


_ODD = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        2**64,
        1.0,
        0.5,
        1e400,
        "",
        " ",
        "0",
        "1",
        "-0",
        "1.00",
        " 1",
        "1_000",
        "1e5",
        "NaN",
        "Infinity",
        "+1",
        ".5",
        "\u0661",
        "x" * 129,
        "2026-03-14T09:30:00",
        "2026-03-14T09:30:00Z",
        "2026-03-14 09:30:00+08:00",
        "2026-03-14T09:30:00.1234567+08:00",
        "2026-02-30T00:00:00Z",
        "1700000000",
        "2026",
        "2026-Q5",
        "2026-13",
        "2026\n",
        "CNY",
        "cny",
        "true",
        [],
        {},
        [{}],
        [{"rep_id": "R-1", "share": 1}],
        [{"rep_id": "R-1", "share": "1", "x": 1}],
        "visit",
        "team",
        "support",
        "\u0000",
        "\ud7ff",
        "é" * 128,
    ]
)
_VALUES = st.one_of(
    _ODD,
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.decimals(allow_nan=False, places=3).map(str),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    event = dict(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from([*event, "extra"]))
        if draw(st.integers(0, 4)) == 0:
            event.pop(key, None)
        else:
            event[key] = draw(_VALUES)
    return _dumps(event)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutated_events_decode_or_are_refused_as_the_pydantic_path_does(
    data: bytes,
) -> None:
    _same(data)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(EXAMPLES), st.data())
def test_events_with_any_field_retyped_decode_as_the_pydantic_path_does(
    example: dict[str, Any], data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(example)))
    _same(_dumps({**example, key: data.draw(_VALUES)}))
