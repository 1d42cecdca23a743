"""The wire contract (EVENTS.md) as frozen models, and the one way to decode it.

Event models ignore unknown fields (the contract tolerates them) but refuse missing or
mistyped ones. Shapes never change in place: a new ``schema_version`` gets an upcaster
that rewrites the older raw dict into the current shape before validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from domain.money import CurrencyCode, MoneyAmount

Identifier = Annotated[str, Field(min_length=1, max_length=128)]


class InvalidEvent(Exception):
    """An event that cannot be applied; ``code`` is a short, stable reason code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class Envelope(BaseModel):
    """Fields every event carries."""

    # Unknown extra fields are tolerated by the public contract, so they are ignored.
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: Identifier
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    source: Annotated[str, Field(min_length=1, max_length=64)]


class Split(BaseModel):
    """One rep's credited share of a deal."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    rep_id: Identifier
    share: Annotated[MoneyAmount, Field(gt=0, le=1)]


class DealClosed(Envelope):
    """A deal was won in the CRM (topic ``deals``, key ``deal_id``)."""

    event_type: Literal["DealClosed"]
    deal_id: Identifier
    rep_id: Identifier
    customer_id: Identifier
    new_customer: bool
    key_account: bool
    product_line: Identifier
    region: Identifier
    amount: Annotated[MoneyAmount, Field(gt=0)]
    margin: MoneyAmount
    currency: CurrencyCode
    payment_due_at: AwareDatetime
    splits: tuple[Split, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _plausible(self) -> Self:
        total = sum((s.share for s in self.splits), Decimal(0))
        if total != 1:
            msg = f"split shares must add up to 1, they add up to {total}"
            raise ValueError(msg)
        reps = [s.rep_id for s in self.splits]
        if len(set(reps)) != len(reps):
            msg = "a rep appears in more than one split"
            raise ValueError(msg)
        if self.margin > self.amount:
            msg = f"margin {self.margin} exceeds the deal amount {self.amount}"
            raise ValueError(msg)
        if self.payment_due_at < self.occurred_at:
            msg = "payment_due_at is before the deal closed"
            raise ValueError(msg)
        return self

    def credited(self, rep_id: str) -> Decimal:
        """Credited revenue of this deal to ``rep_id`` (amount × share, unrounded)."""
        return sum(
            (self.amount * s.share for s in self.splits if s.rep_id == rep_id),
            Decimal(0),
        )


Event = DealClosed
_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
CURRENT_VERSIONS: Mapping[str, int] = {"DealClosed": 1}
# (event_type, from_version) -> function giving the raw dict at from_version + 1.
UPCASTERS: Mapping[tuple[str, int], Upcaster] = {}


def upcast(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a raw event dict up to its type's current ``schema_version``."""
    event_type = raw.get("event_type")
    if not isinstance(event_type, str) or event_type not in CURRENT_VERSIONS:
        raise InvalidEvent("unknown_event_type", f"unknown event_type {event_type!r}")
    version = raw.get("schema_version")
    current = CURRENT_VERSIONS[event_type]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidEvent("invalid", "schema_version must be an integer >= 1")
    while version < current:
        step = UPCASTERS.get((event_type, version))
        if step is None:
            raise InvalidEvent(
                "unsupported_schema_version",
                f"no upcaster for {event_type} schema_version {version}",
            )
        raw = step(raw)
        version += 1
    if version > current:
        raise InvalidEvent(
            "unsupported_schema_version",
            f"{event_type} schema_version {version} is newer than {current}",
        )
    return raw


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "event"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def decode_event(data: bytes) -> Event:
    """Decode, upcast and validate one message value; raise ``InvalidEvent`` if bad."""
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidEvent("undecodable", f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidEvent("undecodable", "an event must be a JSON object")
    try:
        return _EVENT_ADAPTER.validate_python(upcast(raw))
    except ValidationError as exc:
        raise InvalidEvent("invalid", _describe(exc)) from exc
