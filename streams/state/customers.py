"""New customer on the stream (SPEC §9, ``domain.customers``): a customer's deals are
credited to reps in any partition, so no partition sees them all. The partition
that folds a deal's event for the deal's first credited rep makes a ``CustomerSeen``;
when the batch ends, its ``CustomerSeen`` events go to every partition of the rep
topic, a few hundred to a message (``SEEN``). Each partition's company facts keep the
same customer history from them, and a partition prices again, in its own reps'
worlds, every deal whose judgement the history changed.
"""

from __future__ import annotations

import orjson

from domain.events import CustomerSeen, DealAmended, DealCancelled, DealClosed
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


def judged_again(before: World, after: World, event: CustomerSeen) -> list[Buyer]:
    """The customer's deals whose judgement ``event`` changed (a deal seen for the
    first time was priced with its CRM flag)."""
    was = {b.deal_id: b.new for b in before.customers.get(event.customer_id, ())}
    return [
        b
        for b in after.customers.get(event.customer_id, ())
        if not b.cancelled and was.get(b.deal_id, b.flagged) != b.new
    ]
