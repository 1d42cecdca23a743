"""New customer (SPEC §9): the CRM's ``new_customer`` flag *and* no earlier deal with
that customer in QuotaFlow's own history (by close time, not cancelled).

The company's deals are indexed by customer (``World.customers``). A deal is priced
with its CRM flag as it closes; the index then judges every deal of its customer
again, and each deal whose judgement changed is priced again (the difference is
booked): a later-arriving earlier deal takes the uplift from the later one, and a
cancelled first deal gives it to the next, if the CRM flagged that one.

A world that holds only some reps (a stream partition) cannot judge alone: its rep
worlds price with the flag, and ``CustomerSeen`` events, sent to every partition,
keep the same index in each partition's company facts (``streams.state``).
"""

from __future__ import annotations

from domain.pmap import PMap
from domain.world import Buyer

Customers = PMap[str, tuple[Buyer, ...]]


def index(
    customers: Customers, customer_id: str, buyer: Buyer
) -> tuple[Customers, tuple[Buyer, ...]]:
    """``buyer``'s deal in its customer's history (taking the place of an earlier
    record of it), judged as its CRM flag says until the history says otherwise;
    with the deals whose judgement changed, as they are now judged. A deal already
    cancelled stays cancelled."""
    known = customers.get(customer_id, ())
    before = {b.deal_id: b for b in known}
    old = before.get(buyer.deal_id)
    if old is not None and old.cancelled:
        return customers, ()
    assumed = buyer._replace(new=old.new if old is not None else buyer.flagged)
    before[buyer.deal_id] = assumed
    kept = [b for b in known if b.deal_id != buyer.deal_id]
    return _judged(customers, customer_id, [*kept, assumed], before)


def unindex(
    customers: Customers, customer_id: str, buyer: Buyer
) -> tuple[Customers, tuple[Buyer, ...]]:
    """A cancelled deal out of its customer's judgement (kept as cancelled); the
    deals whose judgement changed, as they are now judged."""
    known = customers.get(customer_id, ())
    before = {b.deal_id: b for b in known}
    gone = buyer._replace(new=False, cancelled=True)
    before.setdefault(buyer.deal_id, gone)
    kept = [b for b in known if b.deal_id != buyer.deal_id]
    return _judged(customers, customer_id, [*kept, gone], before)


def _judged(
    customers: Customers,
    customer_id: str,
    buyers: list[Buyer],
    before: dict[str, Buyer],
) -> tuple[Customers, tuple[Buyer, ...]]:
    ordered = sorted(buyers, key=lambda b: (b.closed_at, b.deal_id))
    live = [b for b in ordered if not b.cancelled]
    first = live[0].deal_id if live else None
    judged = tuple(
        b._replace(new=b.flagged and b.deal_id == first and not b.cancelled)
        for b in ordered
    )
    changed = tuple(
        b for b in judged if not b.cancelled and before[b.deal_id].new != b.new
    )
    return customers.set(customer_id, judged), changed
