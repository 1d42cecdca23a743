from decimal import Decimal

import orjson
import pytest

from domain.events import DealClosed, InvalidEvent, decode_event
from tests.factories import deal_event


def _decode(**overrides: object) -> DealClosed:
    return decode_event(orjson.dumps(deal_event(**overrides)))


def test_events_md_deal_closed_example_decodes_with_exact_money() -> None:
    deal = _decode()
    assert deal.amount == Decimal("125000.00")
    assert deal.splits[0].share == Decimal(1)
    assert deal.occurred_at.utcoffset() is not None


def test_unknown_extra_fields_are_tolerated_and_ignored() -> None:
    assert _decode(crm_internal_flag="x").deal_id == "D-1001"


def test_money_sent_as_json_float_is_rejected() -> None:
    with pytest.raises(InvalidEvent, match=r"amount: .*decimal string") as caught:
        _decode(amount=125000.0)
    assert caught.value.code == "invalid"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "undecodable"),
        (b"\xff\xfe", "undecodable"),
        (b'{"event_type": "DealClosed", "trunc', "undecodable"),
        (b"[1, 2]", "undecodable"),
    ],
)
def test_bytes_that_are_not_a_json_object_are_undecodable(
    data: bytes, code: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_event(data)
    assert caught.value.code == code


def test_missing_required_field_names_the_field() -> None:
    event = deal_event()
    del event["rep_id"]
    with pytest.raises(InvalidEvent, match="rep_id: Field required"):
        decode_event(orjson.dumps(event))


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(InvalidEvent) as caught:
        _decode(event_type="DealTeleported")
    assert caught.value.code == "unknown_event_type"


@pytest.mark.parametrize("version", [2, 99])
def test_schema_version_newer_than_known_is_refused(version: int) -> None:
    with pytest.raises(InvalidEvent, match="newer") as caught:
        _decode(schema_version=version)
    assert caught.value.code == "unsupported_schema_version"


@pytest.mark.parametrize("version", [0, "1", True, None])
def test_schema_version_must_be_a_positive_integer(version: object) -> None:
    with pytest.raises(InvalidEvent, match="schema_version"):
        _decode(schema_version=version)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"margin": "200000.00"}, "margin 200000.00 exceeds"),
        ({"currency": "yuan"}, "currency"),
        ({"occurred_at": "2026-03-14T09:30:00"}, "occurred_at"),
        ({"payment_due_at": "2026-01-01T00:00:00+08:00"}, "before the deal closed"),
        ({"splits": []}, "splits"),
        (
            {
                "splits": [
                    {"rep_id": "R-1", "share": "0.5"},
                    {"rep_id": "R-2", "share": "0.4"},
                ]
            },
            "add up to 1, they add up to 0.9",
        ),
        (
            {
                "splits": [
                    {"rep_id": "R-1", "share": "0.5"},
                    {"rep_id": "R-1", "share": "0.5"},
                ]
            },
            "more than one split",
        ),
        ({"event_id": ""}, "event_id"),
    ],
)
def test_implausible_deals_are_refused_with_the_reason(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidEvent, match=message):
        _decode(**overrides)


def test_credited_revenue_is_amount_times_share() -> None:
    deal = _decode(
        amount="100000.00",
        margin="1000.00",
        splits=[{"rep_id": "R-1", "share": "0.6"}, {"rep_id": "R-2", "share": "0.4"}],
    )
    assert deal.credited("R-1") == Decimal("60000.00")
    assert deal.credited("R-2") == Decimal("40000.00")
    assert deal.credited("R-3") == 0
