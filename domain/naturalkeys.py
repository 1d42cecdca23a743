"""One fact, one count (SPEC §9): the natural key of each event type.

Upstream systems resend a fact under a new ``event_id`` (a retry, a second
integration, a replayed export). The fold recognises the fact by its natural key,
the identity the business gives it, and keeps for it only two fixed-size digests:
its key's and its content's (``World.facts``). The same key with the same content is
the same fact and counts once; the same key with other content is a conflict.

Types whose handler already knows its fact are left to it: a deal by its
``deal_id`` (a second close with the same terms counts once), a payment by its
``payment_id``, its cancellation (a second one changes nothing) and amendments (the
same terms again book no difference), a plan by id and version, a target by node
and period, a period close by its period, an adopted proposal by its ``proposal_id``
(sent again with ``approved_by``, it is the proposal's approval: ``domain.people``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.events import (
    ActivityLogged,
    AdjustmentBooked,
    CollaborationConfirmed,
    Event,
    InquiryAnswered,
    InquiryRaised,
    NominationMade,
    PeriodLocked,
    PlanAcknowledged,
    PointsRedeemed,
    QuotaAdjusted,
    RepHired,
    RepLeft,
    RepMoved,
    SatisfactionRecorded,
    SpiffAnnounced,
    StatementApproved,
)
from domain.world import event_key, fact_digest


def _satisfaction(event: SatisfactionRecorded) -> str | None:
    """A survey response, by the survey system's id of it; a score sent without
    one is known by its ``event_id`` only (a customer may score a deal twice)."""
    if event.response_id is None:
        return None
    return f"survey response {event.response_id}"


_KEYS: Mapping[type, Callable[[Any], str | None]] = {
    ActivityLogged: lambda e: f"activity {e.activity_id}",
    CollaborationConfirmed: lambda e: f"collaboration {e.collaboration_id}",
    PointsRedeemed: lambda e: f"redemption {e.redemption_id}",
    NominationMade: lambda e: f"nomination {e.nomination_id}",
    SatisfactionRecorded: _satisfaction,
    SpiffAnnounced: lambda e: f"SPIFF {e.spiff_id}",
    # An adjustment has no id of its own: the same change at the same moment is
    # the same fact (two changes at one moment are not told apart as a conflict).
    QuotaAdjusted: lambda e: (
        f"adjustment of {e.node_id} {e.period} to {e.amount} at "
        f"{e.occurred_at.isoformat()}"
    ),
    RepHired: lambda e: f"hiring of {e.rep_id} on {e.hired_at.isoformat()}",
    RepMoved: lambda e: f"move of {e.rep_id} at {e.occurred_at.isoformat()}",
    RepLeft: lambda e: f"departure of {e.rep_id} at {e.occurred_at.isoformat()}",
    StatementApproved: lambda e: f"approval of {e.rep_id}'s statement for {e.period}",
    PeriodLocked: lambda e: f"lock of {e.period}",
    AdjustmentBooked: lambda e: f"adjustment {e.adjustment_id}",
    InquiryRaised: lambda e: f"inquiry {e.inquiry_id}",
    InquiryAnswered: lambda e: f"answer to inquiry {e.inquiry_id}",
    PlanAcknowledged: lambda e: (
        f"acknowledgement of {e.plan_id} v{e.version} by {e.rep_id}"
    ),
}
"""The natural key of each type the fold recognises here, as a reason names it."""


class Fact:
    """An event's natural key (as words and as a digest) and its content's digest."""

    __slots__ = ("content", "key", "named")

    def __init__(self, named: str, event: Event) -> None:
        self.named = named
        self.key = event_key(named)
        self.content = fact_digest(event)


def fact_of(event: Event) -> Fact | None:
    """The fact ``event`` states, or ``None`` where its handler knows it."""
    key = _KEYS.get(type(event))
    named = None if key is None else key(event)
    return None if named is None else Fact(named, event)
