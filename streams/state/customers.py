"""New customer on the stream (SPEC §9, ``domain.customers``): a customer's deals are
credited to reps in any partition, so no partition sees them all. The partition
that folds a deal's event for the deal's first credited rep makes a ``CustomerSeen``;
when the batch ends, its ``CustomerSeen`` events go to every partition of the rep
topic, a few hundred to a message (``SEEN``). Each partition's company facts keep the
same customer history from them, and a partition prices again, in its own reps'
worlds, every deal whose judgement the history changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
import orjson

from domain.events import DealAmended, DealCancelled, DealClosed
from domain.world import Buyer, World


def seen(world: World, event: DealClosed | DealAmended | DealCancelled) -> bytes | None:
    """The ``CustomerSeen`` that a deal's event makes, as ``world`` now holds the
    deal (None for a deal it does not hold)."""
    record = world.deals.get(event.deal_id)
    if record is None:
        return None
    terms = record.closed
    return orjson.dumps(
        {
            "event_id": f"{event.event_id}/customer",
            "event_type": "CustomerSeen",
            "schema_version": 1,
            "occurred_at": event.occurred_at.isoformat(),
            "source": "quotaflow",
            "deal_id": terms.deal_id,
            "customer_id": terms.customer_id,
            "closed_at": terms.occurred_at.isoformat(),
            "new_customer": terms.new_customer,
            "reps": [split.rep_id for split in record.splits],
            "cancelled": record.cancelled,
        }
    )


class SeenWire(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A ``CustomerSeen`` as ``seen`` writes it. A batch's are read as these, not
    built into events one by one: each partition reads every deal's, and building
    the event cost more than judging the customer's deals again."""

    event_id: str
    event_type: Literal["CustomerSeen"]
    schema_version: Literal[1]
    occurred_at: datetime
    source: str
    deal_id: str
    customer_id: str
    closed_at: datetime
    new_customer: bool
    reps: tuple[str, ...] = ()
    cancelled: bool = False


_BATCH = msgspec.json.Decoder(list[str], strict=True)
_SEEN = msgspec.json.Decoder(SeenWire, strict=True)


def decode_seen(value: bytes) -> list[SeenWire]:
    """A ``SEEN`` message's ``CustomerSeen`` events, in order; anything else raises
    (the message was not written by a worker: its verdict is ``internal``)."""
    try:
        return [_SEEN.decode(one) for one in _BATCH.decode(value)]
    except msgspec.DecodeError as exc:  # a ValidationError too
        msg = f"not a batch of CustomerSeen: {exc}"
        raise TypeError(msg) from None


def judged_again(was: tuple[Buyer, ...], now: tuple[Buyer, ...]) -> list[Buyer]:
    """The deals of a customer whose judgement changed from ``was`` to ``now`` (a
    deal seen for the first time was priced with its CRM flag)."""
    before = {b.deal_id: b.new for b in was}
    return [
        b for b in now if not b.cancelled and before.get(b.deal_id, b.flagged) != b.new
    ]
