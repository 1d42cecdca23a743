"""The contract's types are taken as written, never guessed at (EVENTS.md): a boolean
is a JSON boolean, a moment is RFC 3339 text, money is plain decimal text and an id
names something. Each of these once changed a commission or a key unnoticed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from domain.events import DealClosed, InvalidEvent, decode_event
from tests.factories import deal_event


def _refused(**fields: Any) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        decode_event(orjson.dumps(deal_event(**fields)))
    return caught.value


@pytest.mark.parametrize("flag", ["yes", "on", "true", 1, 0, "0", None])
def test_a_flag_that_is_not_a_json_boolean_is_refused(flag: Any) -> None:
    refused = _refused(new_customer=flag)
    assert refused.code == "invalid"
    assert "new_customer" in refused.detail


@pytest.mark.parametrize("stamp", [1773451800, 1773451800.5])
def test_a_moment_given_as_unix_seconds_is_refused(stamp: float) -> None:
    refused = _refused(occurred_at=stamp)
    assert refused.code == "invalid"
    assert "RFC 3339" in refused.detail


@pytest.mark.parametrize("amount", ["1_000", " 100", "100 ", "\u0661\u0660\u0660"])
def test_money_that_is_not_plain_decimal_text_is_refused(amount: str) -> None:
    refused = _refused(amount=amount, margin="0")
    assert refused.code == "invalid"
    assert "plain decimal text" in refused.detail


@pytest.mark.parametrize("event_id", ["   ", " e-1", "e-1 ", "e-\n1", "e-1\n", "\t"])
def test_an_id_with_spaces_at_its_ends_or_a_line_break_is_refused(
    event_id: str,
) -> None:
    refused = _refused(event_id=event_id)
    assert refused.code == "invalid"
    assert "event_id" in refused.detail


def test_what_the_contract_writes_still_decodes() -> None:
    deal = decode_event(
        orjson.dumps(
            deal_event(event_id="e 1", amount="1000.50", margin="0", new_customer=True)
        )
    )
    assert isinstance(deal, DealClosed)
    assert (deal.event_id, deal.amount, deal.new_customer) == (
        "e 1",
        Decimal("1000.50"),
        True,
    )
