"""msgspec mirrors of the event models in ``domain.events``, field for field.

Each Struct lists the fields of its model in the model's order, less ``event_type``
(msgspec's tag). The constraints are the models' own, written narrowly: money must
be a string (or an integer, for scores and points) here; domain.wirebuild checks it
is plain decimal text. Anything narrower here than in pydantic only sends a message
down the pydantic path. Stamps are decoded here as aware datetimes: msgspec parses
RFC 3339 as pydantic does up to microseconds (``domain.wire`` leaves finer fractions,
which the two would cut and round, to pydantic) and shares one tzinfo object for each
UTC offset. Currencies and periods are only strings here: domain.wirebuild checks
them with the models' own field validators, so they parse exactly as on the pydantic
path. A field with a default is ``UNSET`` when absent, so the built model knows
which fields were given. PlanPublished has no mirror: its free-form plan document
goes the pydantic way.
"""

from __future__ import annotations

from datetime import datetime
from types import new_class
from typing import Annotated, Any, Literal, Union, get_args

from msgspec import UNSET, Meta, Struct, UnsetType

from domain.identifiers import ID_TEXT

# A required id's ends are checked by its builder (domain.wirebuild), where it costs
# less than a pattern; an optional or listed one carries the pattern.
Id = Annotated[str, Meta(min_length=1, max_length=128)]
CheckedId = Annotated[str, Meta(min_length=1, max_length=128, pattern=ID_TEXT)]
Text = Annotated[str, Meta(max_length=1000)]
# Checked as plain decimal text by domain.wirebuild (MONEY_TEXT), where it costs less.
Money = str
# Checked by the models' own field validators once decoded (domain.wirebuild).
Currency = str
Period = str
Stamp = Annotated[datetime, Meta(tz=True)]
Level = Literal["company", "product_line", "region", "team", "rep"]
Role = Literal["account_manager", "team_lead", "support"]
Kind = Literal[
    "visit",
    "decision_maker_visit",
    "prospect_entered",
    "mentoring",
    "knowledge_sharing",
    "crisis_support",
    "mentee_passed",
]


class Envelope(Struct, frozen=True, kw_only=True, tag_field="event_type"):
    event_id: Id
    schema_version: int
    occurred_at: Stamp
    source: Annotated[str, Meta(min_length=1, max_length=64)]


class Split(Struct, frozen=True):
    rep_id: Id
    share: Money


class DealClosed(Envelope, frozen=True, kw_only=True, tag=True):
    deal_id: Id
    rep_id: Id
    customer_id: Id
    new_customer: bool
    key_account: bool
    product_line: Id
    region: Id
    amount: Money
    margin: Money
    currency: Currency
    payment_due_at: Stamp
    splits: Annotated[tuple[Split, ...], Meta(min_length=1)]


class DealAmended(Envelope, frozen=True, kw_only=True, tag=True):
    deal_id: Id
    amount: Money
    margin: Money
    currency: Currency
    splits: Annotated[tuple[Split, ...], Meta(min_length=1)]


class DealCancelled(Envelope, frozen=True, kw_only=True, tag=True):
    deal_id: Id
    reason: Text | UnsetType = UNSET


class CustomerSeen(Envelope, frozen=True, kw_only=True, tag=True):
    deal_id: Id
    customer_id: Id
    closed_at: Stamp
    new_customer: bool
    reps: tuple[CheckedId, ...] | UnsetType = UNSET
    cancelled: bool | UnsetType = UNSET


class PaymentReceived(Envelope, frozen=True, kw_only=True, tag=True):
    payment_id: Id
    deal_id: Id
    amount: Money
    currency: Currency


class SatisfactionRecorded(Envelope, frozen=True, kw_only=True, tag=True):
    deal_id: Id
    customer_id: Id
    response_id: CheckedId | UnsetType | None = UNSET
    score: Money | int
    comment: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET


class QuotaAssigned(Envelope, frozen=True, kw_only=True, tag=True):
    node_id: Id
    level: Level
    parent_id: CheckedId | UnsetType | None = UNSET
    period: Period
    amount: Money
    currency: Currency


class QuotaAdjusted(QuotaAssigned, frozen=True, kw_only=True, tag=True):
    reason: Annotated[str, Meta(min_length=1, max_length=1000)]
    approved_by: Id


class TargetsConfirmed(Envelope, frozen=True, kw_only=True, tag=True):
    node_id: Id
    period: Period
    confirmed_by: Id


class _RepEvent(Envelope, frozen=True, kw_only=True):
    rep_id: Id
    team_id: Id
    region: Id
    role: Role
    grade: Id
    hired_at: Stamp


class RepHired(_RepEvent, frozen=True, kw_only=True, tag=True):
    pass


class RepMoved(_RepEvent, frozen=True, kw_only=True, tag=True):
    pass


class RepLeft(_RepEvent, frozen=True, kw_only=True, tag=True):
    pass


class SpiffAnnounced(Envelope, frozen=True, kw_only=True, tag=True):
    spiff_id: Id
    starts_at: Stamp
    ends_at: Stamp
    multiplier: Money
    product_lines: tuple[CheckedId, ...] | UnsetType = UNSET
    regions: tuple[CheckedId, ...] | UnsetType = UNSET


class ActivityLogged(Envelope, frozen=True, kw_only=True, tag=True):
    activity_id: Id
    rep_id: Id
    kind: Kind
    complete: bool | UnsetType = UNSET
    customer_id: CheckedId | UnsetType | None = UNSET


class CollaborationConfirmed(Envelope, frozen=True, kw_only=True, tag=True):
    collaboration_id: Id
    helper_rep_id: Id
    beneficiary_rep_id: Id
    deal_id: CheckedId | UnsetType | None = UNSET


class PointsRedeemed(Envelope, frozen=True, kw_only=True, tag=True):
    redemption_id: Id
    rep_id: Id
    points: Money | int
    reward: Annotated[str, Meta(min_length=1, max_length=200)]


class NominationMade(Envelope, frozen=True, kw_only=True, tag=True):
    nomination_id: Id
    nominee_id: Id
    nominated_by: Id
    pool: Id
    period: Period


class ProposalAdopted(Envelope, frozen=True, kw_only=True, tag=True):
    proposal_id: Id
    rep_id: Id
    period: Period
    measured_uplift: Money
    approved_by: CheckedId | UnsetType | None = UNSET


class PeriodClosed(Envelope, frozen=True, kw_only=True, tag=True):
    period: Period


Wire = (
    DealClosed
    | DealAmended
    | DealCancelled
    | CustomerSeen
    | PaymentReceived
    | SatisfactionRecorded
    | QuotaAssigned
    | QuotaAdjusted
    | TargetsConfirmed
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
)
STRUCTS: tuple[type[Envelope], ...] = get_args(Wire)


class ClosedSplit(Split, frozen=True, forbid_unknown_fields=True):
    """A Split that refuses unknown fields (see ``closed``)."""


def closed(struct: type[Envelope]) -> type[Envelope]:
    """``struct`` refusing unknown fields, in its splits too: a message it decodes
    holds nothing but its own fields, so it nests no deeper than they do."""
    body: dict[str, Any] = {}
    if "splits" in struct.__struct_fields__:  # the one field holding Structs
        body["__annotations__"] = {
            "splits": Annotated[tuple[ClosedSplit, ...], Meta(min_length=1)]
        }
    options = {"frozen": True, "kw_only": True, "forbid_unknown_fields": True}
    made: type[Envelope] = new_class(
        struct.__name__,
        (struct,),
        {**options, "tag": struct.__name__},
        lambda namespace: namespace.update(body),
    )
    return made


CLOSED: dict[type[Envelope], type[Envelope]] = {s: closed(s) for s in STRUCTS}
CLOSED_WIRE: Any = Union[tuple(CLOSED.values())]  # noqa: UP007 - from a tuple
