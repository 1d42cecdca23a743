"""The wire contract (EVENTS.md) as frozen models, and the one way to decode it.

Event models ignore unknown fields (the contract tolerates them) but refuse missing or
mistyped ones. Shapes never change in place: a new ``schema_version`` gets an upcaster
that rewrites the older raw dict into the current shape before validation.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from domain.identifiers import named
from domain.money import CurrencyCode, MoneyAmount, plain_decimal, plausible
from domain.wire import FastPath

Identifier = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(named)]
# Bounds of the contract beyond the shapes: larger, deeper or out-of-range events are
# refused as invalid rather than left to fail somewhere downstream.
MAX_EVENT_BYTES = 256 * 1024
MAX_NESTING = 32
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class InvalidEvent(Exception):
    """An event that cannot be applied; ``code`` is a short, stable reason code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _stamp_text(value: Any) -> Any:
    # RFC 3339 text only: pydantic would also read a number as Unix seconds, which
    # the contract does not allow and which carries no offset.
    if not isinstance(value, str | datetime):
        msg = "must be an RFC 3339 timestamp with its offset, such as "
        msg += "'2026-03-14T09:30:00+08:00', not a number"
        raise ValueError(msg)
    return value


Stamp = Annotated[AwareDatetime, BeforeValidator(_stamp_text)]
"""A moment as the contract writes it: RFC 3339 text with an offset."""


class Envelope(BaseModel):
    """Fields every event carries."""

    # Unknown extra fields are tolerated by the public contract, so they are ignored.
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: Identifier
    schema_version: int = Field(ge=1)
    occurred_at: Stamp
    source: Annotated[str, Field(min_length=1, max_length=64)]

    @model_validator(mode="after")
    def _dates_in_range(self) -> Self:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, datetime) and not EARLIEST <= value < LATEST:
                msg = (
                    f"{name} {value.isoformat()} is outside "
                    f"{EARLIEST.date()} .. {LATEST.date()}"
                )
                raise ValueError(msg)
        return self


class Split(BaseModel):
    """One rep's credited share of a deal."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    rep_id: Identifier
    share: Annotated[MoneyAmount, Field(gt=0, le=1)]


def _check_splits(splits: tuple[Split, ...]) -> None:
    total = sum((s.share for s in splits), Decimal(0))
    if total != 1:
        msg = f"split shares must add up to 1, they add up to {total}"
        raise ValueError(msg)
    reps = [s.rep_id for s in splits]
    if len(set(reps)) != len(reps):
        msg = "a rep appears in more than one split"
        raise ValueError(msg)


def _check_margin(margin: Decimal, amount: Decimal) -> None:
    if margin > amount:
        msg = f"margin {margin} exceeds the deal amount {amount}"
        raise ValueError(msg)


def _score(value: Any) -> Any:
    # Scores and points are exact decimals: a string or an integer, never a float.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        msg = "must be a decimal string or an integer, not a JSON float"
        raise ValueError(msg)
    return plain_decimal(value) if isinstance(value, str) else value


class DealClosed(Envelope):
    """A deal was won in the CRM (topic ``deals``, key ``deal_id``)."""

    event_type: Literal["DealClosed"]
    deal_id: Identifier
    rep_id: Identifier
    customer_id: Identifier
    new_customer: StrictBool
    key_account: StrictBool
    product_line: Identifier
    region: Identifier
    amount: Annotated[MoneyAmount, Field(gt=0)]
    margin: MoneyAmount
    currency: CurrencyCode
    payment_due_at: Stamp
    splits: tuple[Split, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _plausible(self) -> Self:
        _check_splits(self.splits)
        _check_margin(self.margin, self.amount)
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


class DealAmended(Envelope):
    """A won deal's amount, margin or splits changed (topic ``deals``)."""

    event_type: Literal["DealAmended"]
    deal_id: Identifier
    amount: Annotated[MoneyAmount, Field(gt=0)]
    margin: MoneyAmount
    currency: CurrencyCode
    splits: tuple[Split, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _plausible(self) -> Self:
        _check_splits(self.splits)
        _check_margin(self.margin, self.amount)
        return self


class DealCancelled(Envelope):
    """A won deal was cancelled; what it earned is clawed back (topic ``deals``)."""

    event_type: Literal["DealCancelled"]
    deal_id: Identifier
    reason: Annotated[str, Field(max_length=1000)] = ""


class CustomerSeen(Envelope):
    """QuotaFlow's own event, never accepted from upstream: a deal as the company's
    customer history counts it (SPEC §9, new customer), sent by the stream to every
    partition so each judges the customer's first deal the same way."""

    event_type: Literal["CustomerSeen"]
    deal_id: Identifier
    customer_id: Identifier
    closed_at: Stamp
    new_customer: StrictBool
    reps: tuple[Identifier, ...] = ()
    cancelled: StrictBool = False


class PaymentReceived(Envelope):
    """Cash arrived for a deal (topic ``payments``, key ``deal_id``)."""

    event_type: Literal["PaymentReceived"]
    payment_id: Identifier
    deal_id: Identifier
    amount: Annotated[MoneyAmount, Field(gt=0)]
    currency: CurrencyCode


class SatisfactionRecorded(Envelope):
    """A customer's satisfaction score for a deal, 0-100 (topic ``satisfaction``);
    ``response_id`` is the survey system's id of the response, its natural key."""

    event_type: Literal["SatisfactionRecorded"]
    deal_id: Identifier
    customer_id: Identifier
    response_id: Identifier | None = None
    score: Annotated[
        Decimal, BeforeValidator(_score), AfterValidator(plausible), Field(ge=0, le=100)
    ]
    comment: Annotated[str, Field(max_length=4000)] = ""


TargetLevel = Literal["company", "product_line", "region", "team", "rep"]


class QuotaAssigned(Envelope):
    """A target for a node of the target tree and a period (topic ``targets``)."""

    event_type: Literal["QuotaAssigned"]
    node_id: Identifier
    level: TargetLevel
    parent_id: Identifier | None = None
    period: Annotated[str, Field(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")]
    amount: Annotated[MoneyAmount, Field(ge=0)]
    currency: CurrencyCode


class QuotaAdjusted(QuotaAssigned):
    """A mid-period change of a target, with who approved it and why."""

    event_type: Literal["QuotaAdjusted"]  # type: ignore[assignment]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    approved_by: Identifier


class TargetsConfirmed(Envelope):
    """目标责任书: a node's decomposition for a period is confirmed by someone
    (topic ``targets``, key ``node_id``): its children must then sum to it exactly."""

    event_type: Literal["TargetsConfirmed"]
    node_id: Identifier
    period: Annotated[str, Field(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")]
    confirmed_by: Identifier


class PlanPublished(Envelope):
    """A new plan version, effective from a date (topic ``plans``)."""

    event_type: Literal["PlanPublished"]
    plan_id: Identifier
    version: int = Field(ge=1)
    effective_from: Stamp
    effective_to: Stamp | None = None
    plan: dict[str, Any]


Role = Literal["account_manager", "team_lead", "support"]


class _RepEvent(Envelope):
    rep_id: Identifier
    team_id: Identifier
    region: Identifier
    role: Role
    grade: Identifier
    hired_at: Stamp


class RepHired(_RepEvent):
    """A rep joined (topic ``org``, key ``rep_id``)."""

    event_type: Literal["RepHired"]


class RepMoved(_RepEvent):
    """A rep changed team, region, role or grade."""

    event_type: Literal["RepMoved"]


class RepLeft(_RepEvent):
    """A rep left the company."""

    event_type: Literal["RepLeft"]


class SpiffAnnounced(Envelope):
    """限时加倍佣金: a window multiplying commission on deals closed inside it."""

    event_type: Literal["SpiffAnnounced"]
    spiff_id: Identifier
    starts_at: Stamp
    ends_at: Stamp
    multiplier: Annotated[MoneyAmount, Field(gt=0, le=10)]
    product_lines: tuple[Identifier, ...] = ()
    regions: tuple[Identifier, ...] = ()

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.ends_at <= self.starts_at:
            msg = "ends_at must be after starts_at"
            raise ValueError(msg)
        return self


ActivityKind = Literal[
    "visit",
    "decision_maker_visit",
    "prospect_entered",
    "mentoring",
    "knowledge_sharing",
    "crisis_support",
    "mentee_passed",
]


class ActivityLogged(Envelope):
    """Something a rep did that earns points (topic ``activities``, key ``rep_id``)."""

    event_type: Literal["ActivityLogged"]
    activity_id: Identifier
    rep_id: Identifier
    kind: ActivityKind
    complete: StrictBool = True
    customer_id: Identifier | None = None


class CollaborationConfirmed(Envelope):
    """The beneficiary confirms a colleague's help (topic ``activities``)."""

    event_type: Literal["CollaborationConfirmed"]
    collaboration_id: Identifier
    helper_rep_id: Identifier
    beneficiary_rep_id: Identifier
    deal_id: Identifier | None = None


class PointsRedeemed(Envelope):
    """A rep spends points on a reward (topic ``activities``, key ``rep_id``)."""

    event_type: Literal["PointsRedeemed"]
    redemption_id: Identifier
    rep_id: Identifier
    points: Annotated[
        Decimal, BeforeValidator(_score), AfterValidator(plausible), Field(gt=0)
    ]
    reward: Annotated[str, Field(min_length=1, max_length=200)]


class NominationMade(Envelope):
    """需销售部门提名: sales nominates someone for the cross-functional pool."""

    event_type: Literal["NominationMade"]
    nomination_id: Identifier
    nominee_id: Identifier
    nominated_by: Identifier
    pool: Identifier
    period: Annotated[str, Field(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")]


class ProposalAdopted(Envelope):
    """An improvement proposal was adopted, with its measured uplift (innovation
    award); paid at its period's close once ``approved_by`` names the approver."""

    event_type: Literal["ProposalAdopted"]
    proposal_id: Identifier
    rep_id: Identifier
    period: Annotated[str, Field(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")]
    measured_uplift: Annotated[MoneyAmount, Field(ge=0)]
    approved_by: Identifier | None = None


class PeriodClosed(Envelope):
    """A period is closed: period awards are computed (topic ``control``)."""

    event_type: Literal["PeriodClosed"]
    period: Annotated[str, Field(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")]


Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A pay period: statements, approvals and locks are monthly."""
Words = Annotated[str, Field(min_length=1, max_length=2000)]


class StatementApproved(Envelope):
    """A manager approves a rep's statement of a closed pay period (topic
    ``activities``, key ``rep_id``): draft -> approved."""

    event_type: Literal["StatementApproved"]
    rep_id: Identifier
    period: Month
    approved_by: Identifier


class PeriodLocked(Envelope):
    """Finance locks a closed pay period (topic ``control``): approved -> locked.
    A line booked after it that falls in the period goes to the next open one."""

    event_type: Literal["PeriodLocked"]
    period: Month
    locked_by: Identifier


class AdjustmentBooked(Envelope):
    """An admin's manual adjustment of a rep's money, with its approver (topic
    ``activities``, key ``rep_id``); it may answer an inquiry or correct a line."""

    event_type: Literal["AdjustmentBooked"]
    adjustment_id: Identifier
    rep_id: Identifier
    amount: MoneyAmount
    currency: CurrencyCode
    reason: Words
    booked_by: Identifier
    approved_by: Identifier
    inquiry_id: Identifier | None = None
    line_id: Identifier | None = None


class InquiryRaised(Envelope):
    """A rep questions a line of their statement (topic ``activities``)."""

    event_type: Literal["InquiryRaised"]
    inquiry_id: Identifier
    rep_id: Identifier
    line_id: Identifier
    question: Words


class InquiryAnswered(Envelope):
    """A manager answers a rep's inquiry, with an adjustment or without."""

    event_type: Literal["InquiryAnswered"]
    inquiry_id: Identifier
    rep_id: Identifier
    answered_by: Identifier
    answer: Words
    adjustment_id: Identifier | None = None


class PlanAcknowledged(Envelope):
    """A rep acknowledges the plan version they are paid under."""

    event_type: Literal["PlanAcknowledged"]
    rep_id: Identifier
    plan_id: Identifier
    version: int = Field(ge=1)


Event = Annotated[
    DealClosed
    | DealAmended
    | DealCancelled
    | PaymentReceived
    | SatisfactionRecorded
    | QuotaAssigned
    | QuotaAdjusted
    | TargetsConfirmed
    | CustomerSeen
    | PlanPublished
    | RepHired
    | RepMoved
    | RepLeft
    | SpiffAnnounced
    | ActivityLogged
    | CollaborationConfirmed
    | PointsRedeemed
    | NominationMade
    | ProposalAdopted
    | PeriodClosed
    | StatementApproved
    | PeriodLocked
    | AdjustmentBooked
    | InquiryRaised
    | InquiryAnswered
    | PlanAcknowledged,
    Field(discriminator="event_type"),
]
_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
CURRENT_VERSIONS: Mapping[str, int] = dict.fromkeys(
    (
        "DealClosed", "DealAmended", "DealCancelled", "PaymentReceived",
        "SatisfactionRecorded", "QuotaAssigned", "QuotaAdjusted", "PlanPublished",
        "RepHired", "RepMoved", "RepLeft", "SpiffAnnounced", "ActivityLogged",
        "CollaborationConfirmed", "PointsRedeemed", "NominationMade",
        "ProposalAdopted", "PeriodClosed", "TargetsConfirmed", "CustomerSeen",
        "StatementApproved", "PeriodLocked", "AdjustmentBooked", "InquiryRaised",
        "InquiryAnswered", "PlanAcknowledged",
    ),
    1,
)  # fmt: skip
# (event_type, from_version) -> function giving the raw dict at from_version + 1.
UPCASTERS: Mapping[tuple[str, int], Upcaster] = {}


def upcast(
    raw: dict[str, Any],
    versions: Mapping[str, int] = CURRENT_VERSIONS,
    upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS,
) -> dict[str, Any]:
    """Bring a raw event dict up to its type's current ``schema_version``."""
    event_type = raw.get("event_type")
    if not isinstance(event_type, str) or event_type not in versions:
        raise InvalidEvent("unknown_event_type", f"unknown event_type {event_type!r}")
    version = raw.get("schema_version")
    current = versions[event_type]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidEvent("invalid", "schema_version must be an integer >= 1")
    while version < current:
        step = upcasters.get((event_type, version))
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


def _nesting(raw: Any) -> int:
    """How deep JSON containers nest in ``raw`` (a flat object is 1)."""
    deepest, level = 0, [raw]
    while level:
        deepest += 1
        level = [
            inner
            for item in level
            for inner in (item.values() if isinstance(item, dict) else item)
            if isinstance(inner, dict | list)
        ]
    return deepest


_FAST_PATH = FastPath(
    {model.__name__: model for model in typing.get_args(typing.get_args(Event)[0])},
    CURRENT_VERSIONS,
    (EARLIEST, LATEST),
)


def decode_event(data: bytes) -> Event:
    """Decode, upcast and validate one message value; raise ``InvalidEvent`` if bad.

    Most messages take the one-pass wire path; the rest, and every refusal, the
    pydantic path below, which is the contract's word on what is wrong.
    """
    if len(data) > MAX_EVENT_BYTES:
        detail = f"{len(data)} bytes; an event is at most {MAX_EVENT_BYTES} bytes"
        raise InvalidEvent("too_large", detail)
    event = _FAST_PATH.take(data)
    if event is not None:
        return event  # type: ignore[return-value]
    return decode_event_slowly(data)


def decode_event_slowly(data: bytes) -> Event:
    """``decode_event`` through pydantic alone: json.loads, upcast, validate."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidEvent("undecodable", f"not UTF-8 JSON text: {exc}") from exc
    except RecursionError as exc:
        detail = f"JSON nests deeper than {MAX_NESTING} levels"
        raise InvalidEvent("too_deep", detail) from exc
    if not isinstance(raw, dict):
        raise InvalidEvent("undecodable", "an event must be a JSON object")
    if _nesting(raw) > MAX_NESTING:
        detail = f"JSON nests deeper than {MAX_NESTING} levels"
        raise InvalidEvent("too_deep", detail)
    try:
        return _EVENT_ADAPTER.validate_python(upcast(raw))
    except ValidationError as exc:
        raise InvalidEvent("invalid", _describe(exc)) from exc
