"""The builders the wire path writes for each model hold every rule at its edge
exactly where the pydantic path does, and refuse to be written for a model whose
rules they do not know."""

from __future__ import annotations

from datetime import UTC, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Self, cast

import msgspec
import orjson
import pytest
from msgspec import UNSET, UnsetType
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from domain import wirefields, wiretypes
from domain.events import (
    _FAST_PATH,
    EARLIEST,
    LATEST,
    DealClosed,
    decode_event_slowly,
)
from domain.money import MoneyAmount
from domain.wirebuild import builder
from domain.wirefields import Declined
from tests.factories import deal_event, envelope, payment_event
from tests.unit.test_wire_decoding import SPLITS, _same

AT = "2026-03-14T09:30:00+08:00"


def _splits(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"rep_id": rep, "share": share} for rep, share in pairs]


def _amended(**fields: Any) -> dict[str, Any]:
    given = {"deal_id": "D", "amount": "9", "margin": "1", "currency": "EUR"}
    return envelope("DealAmended", "a", AT, **{**given, "splits": SPLITS, **fields})


def _spiff(starts: str, ends: str) -> dict[str, Any]:
    return envelope(
        "SpiffAnnounced",
        "sp",
        AT,
        spiff_id="S",
        starts_at=starts,
        ends_at=ends,
        multiplier="2",
    )


def _score(score: Any) -> dict[str, Any]:
    return envelope(
        "SatisfactionRecorded", "s", AT, deal_id="D", customer_id="C", score=score
    )


# (event, whether it is valid): each rule just inside and just outside its edge.
EDGES: list[tuple[dict[str, Any], bool]] = [
    (deal_event(splits=_splits(("R-1", "0.5"), ("R-2", "0.5"))), True),
    (deal_event(splits=_splits(("R-1", "0.5"), ("R-2", "0.4999"))), False),
    (deal_event(splits=_splits(("R-1", "0.5"), ("R-2", "0.5001"))), False),
    (deal_event(splits=_splits(("R-1", "0.9999"))), False),
    (deal_event(splits=_splits(("R-1", "1.0000"))), True),
    (deal_event(splits=_splits(("R-1", "0.5"), ("R-1", "0.5"))), False),
    (
        deal_event(splits=_splits(("R-1", "0.5"), ("R-2", "0.25"), ("R-1", "0.25"))),
        False,
    ),
    (_amended(splits=_splits(("R-1", "0.3"), ("R-2", "0.6999"))), False),
    (_amended(splits=_splits(("R-1", "0.5"), ("R-1", "0.5"))), False),
    (deal_event(amount="100.00", margin="100.00"), True),
    (deal_event(amount="100.00", margin="100.01"), False),
    (_amended(amount="9", margin="9.00"), True),
    (_amended(amount="9", margin="9.01"), False),
    (deal_event(payment_due_at=AT), True),
    (deal_event(payment_due_at="2026-03-14T01:30:00Z"), True),
    (deal_event(payment_due_at="2026-03-14T01:29:59.999999Z"), False),
    (deal_event(payment_due_at="2026-03-14T09:29:59.999999+08:00"), False),
    (
        deal_event(
            occurred_at="2026-03-14T23:59:59-23:59",
            payment_due_at="2026-03-16T00:00:00+23:59",
        ),
        False,
    ),
    (
        deal_event(
            occurred_at="2026-03-14T23:59:59-23:59",
            payment_due_at="2026-03-17T00:00:00+23:59",
        ),
        True,
    ),
    (deal_event(payment_due_at="2199-12-31T23:59:59.999999Z"), True),
    (deal_event(payment_due_at="2200-01-01T00:00:00Z"), False),
    (payment_event("p", "D", "1", "2000-01-01T00:00:00Z"), True),
    (payment_event("p", "D", "1", "1999-12-31T23:59:59.999999Z"), False),
    (payment_event("p", "D", "1", "2000-01-01T08:00:00+08:00"), True),
    (payment_event("p", "D", "1", "2000-01-01T07:59:59.999999+08:00"), False),
    (payment_event("p", "D", "1", "1999-12-31T20:00:00-04:00"), True),
    (payment_event("p", "D", "1", "2001-01-01T00:00:00+23:59"), True),
    (payment_event("p", "D", "1", "2199-12-31T23:59:59.999999Z"), True),
    (payment_event("p", "D", "1", "2200-01-01T00:00:00Z"), False),
    (payment_event("p", "D", "1", "2199-12-31T19:59:59.999999-04:00"), True),
    (payment_event("p", "D", "1", "2199-12-31T20:00:00-04:00"), False),
    (payment_event("p", "D", "1", "2200-01-01T03:59:59.999999+04:00"), True),
    (payment_event("p", "D", "1", "2198-12-31T23:59:59-23:59"), True),
    (_spiff(AT, AT), False),
    (_spiff(AT, "2026-03-14T09:30:00.000001+08:00"), True),
    (_spiff(AT, "2026-03-14T01:30:00Z"), False),
    (payment_event("p", "D", "0", AT), False),
    (payment_event("p", "D", "-0", AT), False),
    (payment_event("p", "D", "0.000000000001", AT), True),
    (payment_event("p", "D", "0.0000000000001", AT), False),
    (payment_event("p", "D", "1000000000000.000000000000", AT), True),
    (payment_event("p", "D", "1000000000000.000000000001", AT), False),
    (payment_event("p", "D", "0001000000000000", AT), True),
    (payment_event("p", "D", "1000000000000.0000000000000", AT), False),
    (deal_event(margin="-1000000000000"), True),
    (deal_event(margin="-1000000000000.01"), False),
    (_score("100.000000000000"), True),
    (_score("100.000000000001"), False),
    (_score(100), True),
    (_score(101), False),
    (_score("-0"), True),
    (_score(0), True),
    (_score(-1), False),
]


@pytest.mark.parametrize(("event", "valid"), EDGES)
def test_each_rule_holds_at_its_edge_as_on_the_pydantic_path(
    event: dict[str, Any], valid: bool
) -> None:
    data = orjson.dumps(event)
    assert (_FAST_PATH.take(data) is not None) is valid
    _same(data)


def test_a_value_once_valid_is_known_until_there_are_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build = _FAST_PATH.builders[wiretypes.DealClosed]
    currencies: set[str] = build.__globals__["known_currency"]
    amounts: dict[str, Decimal] = build.__globals__["known_amount"]
    currencies.discard("CHF")
    amounts.pop("4711.0815", None)
    monkeypatch.setattr(wirefields, "_KNOWN_AT_MOST", 0)
    data = orjson.dumps(deal_event(currency="CHF", amount="4711.0815", margin="1"))
    assert _FAST_PATH.take(data) == decode_event_slowly(data)
    assert "CHF" not in currencies
    assert "4711.0815" not in amounts
    # Room for one more in each (other tests may have filled them to the limit).
    room = max(len(currencies), len(amounts)) + 1
    monkeypatch.setattr(wirefields, "_KNOWN_AT_MOST", room)
    assert _FAST_PATH.take(data) == decode_event_slowly(data)
    assert "CHF" in currencies
    assert amounts["4711.0815"] == Decimal("4711.0815")


def test_stamps_with_one_utc_offset_share_one_tzinfo_and_equal_the_pydantic_ones() -> (
    None
):
    """Aware datetimes with the very same tzinfo compare field by field; with two
    equal but distinct ones each comparison asks both for their offset."""
    stamps = ("2026-03-14T09:30:00+08:00", "2026-04-01T23:59:59.5+08:00")
    values = [
        orjson.dumps(deal_event(deal_id=f"D-{n}", occurred_at=at))
        for n, at in enumerate(stamps)
    ]
    fast = [cast(DealClosed, _FAST_PATH.take(v)) for v in values]
    slow = [cast(DealClosed, decode_event_slowly(v)) for v in values]
    assert fast == slow
    zones = [e.occurred_at.tzinfo for e in fast] + [
        e.payment_due_at.tzinfo for e in fast
    ]
    assert all(zone is zones[0] for zone in zones)
    assert [e.occurred_at.isoformat() for e in fast] == [
        e.occurred_at.isoformat() for e in slow
    ]
    # msgspec's tzinfo for the offset, which a rep's pieces decode to as well.
    assert type(zones[0]) is timezone
    assert [e.model_dump_json() for e in fast] == [e.model_dump_json() for e in slow]
    # pydantic makes a tzinfo object per stamp: equal, but not the same one.
    assert slow[0].occurred_at.tzinfo is not slow[1].occurred_at.tzinfo


class _Stamped(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    tag: str = "x"


class _StampedWire(msgspec.Struct):
    at: wiretypes.Stamp
    tag: str | UnsetType = UNSET


class _Checked(_Stamped):
    @model_validator(mode="after")
    def _not_new_year(self) -> Self:
        if (self.at.month, self.at.day) == (1, 1):
            raise ValueError("new year")
        return self


def test_a_model_without_the_window_of_dates_is_not_held_to_it() -> None:
    build = builder(_Stamped, _StampedWire, (EARLIEST, LATEST))
    made = build(_StampedWire(datetime(1990, 1, 1, tzinfo=UTC)))
    assert made == _Stamped(at=datetime(1990, 1, 1, tzinfo=UTC))
    assert made.__pydantic_fields_set__ == {"at"}


def test_a_model_validator_without_a_mirror_is_called_on_the_built_event() -> None:
    build = builder(_Checked, _StampedWire, None)
    made = build(_StampedWire(datetime(2026, 3, 14, tzinfo=UTC), "y"))
    assert made == _Checked(at=datetime(2026, 3, 14, tzinfo=UTC), tag="y")
    with pytest.raises(ValueError, match="new year"):
        build(_StampedWire(datetime(2026, 1, 1, tzinfo=UTC)))


def test_a_bound_below_is_open_or_closed_as_the_field_says() -> None:
    class Capped(BaseModel):
        low: Annotated[MoneyAmount, Field(ge=0, gt=0, lt=5)]

    class CappedWire(msgspec.Struct):
        low: str

    build = builder(Capped, CappedWire, None)
    assert build(CappedWire("4.99")).low == Decimal("4.99")
    for outside in ("0", "5"):
        with pytest.raises(Declined):
            build(CappedWire(outside))


class _Late(BaseModel):
    at: AwareDatetime = datetime(2026, 1, 1, tzinfo=UTC)


class _Before(_Stamped):
    @model_validator(mode="before")
    @classmethod
    def _anything(cls, data: Any) -> Any:
        return data


class _Unknown(BaseModel):
    amount: Annotated[MoneyAmount, AfterValidator(abs)]


class _Bare(BaseModel):
    amount: Annotated[Decimal, Field(gt=0)]


class _AmountWire(msgspec.Struct):
    amount: str


class _LateWire(msgspec.Struct):
    at: wiretypes.Stamp | UnsetType = UNSET


class _Reordered(msgspec.Struct):
    tag: str
    at: wiretypes.Stamp


class _TextStamp(msgspec.Struct):
    at: str
    tag: str | UnsetType = UNSET


class _NaiveStamp(msgspec.Struct):
    at: datetime
    tag: str | UnsetType = UNSET


class _Gated(BaseModel):
    at: Annotated[AwareDatetime, AfterValidator(lambda at: at)]
    tag: str = "x"


@pytest.mark.parametrize(
    ("model", "struct", "complaint"),
    [
        (_Stamped, _Reordered, "does not list"),
        (_Late, _LateWire, "a default"),
        (_Before, _StampedWire, "only 'after'"),
        (_Stamped, _TextStamp, "decode aware"),
        (_Stamped, _NaiveStamp, "decode aware"),
        (_Gated, _StampedWire, "no wire conversion for a stamp"),
        (_Unknown, _AmountWire, "no wire conversion"),
        (_Bare, _AmountWire, "no wire conversion"),
    ],
)
def test_no_builder_is_written_for_rules_it_does_not_know(
    model: type[BaseModel], struct: type[msgspec.Struct], complaint: str
) -> None:
    with pytest.raises(TypeError, match=complaint):
        builder(model, struct, None)


def _nested(depth: int) -> Any:
    return [] if depth == 1 else [_nested(depth - 1)]


@pytest.mark.parametrize(
    ("event", "taken"),
    [
        (deal_event(), True),
        (deal_event(note="extra", tags=["a", "b"]), True),
        (deal_event(splits=[{"rep_id": "R-17", "share": "1", "note": {"a": 1}}]), True),
        (deal_event(x=_nested(29)), True),
        (deal_event(x=_nested(30)), False),
        (
            deal_event(splits=[{"rep_id": "R-17", "share": "1", "x": _nested(40)}]),
            False,
        ),
        (payment_event("p", "D", "1", AT, x=_nested(40)), False),
    ],
)
def test_unknown_fields_take_the_wire_path_while_they_nest_shallowly(
    event: dict[str, Any], taken: bool
) -> None:
    data = orjson.dumps(event)
    assert (_FAST_PATH.take(data) is not None) is taken
    _same(data)
