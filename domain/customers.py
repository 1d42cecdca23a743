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

from bisect import bisect_left, insort
from collections.abc import Iterable
from operator import attrgetter

from domain.pmap import PMap
from domain.world import Buyer

Customers = PMap[str, tuple[Buyer, ...]]


_ORDER = attrgetter("closed_at", "deal_id")
_DEAL = attrgetter("deal_id")


def index(
    customers: Customers, customer_id: str, buyer: Buyer
) -> tuple[Customers, tuple[Buyer, ...]]:
    """``buyer``'s deal in its customer's history (taking the place of an earlier
    record of it), judged as its CRM flag says until the history says otherwise;
    with the deals whose judgement changed, as they are now judged. A deal already
    cancelled stays cancelled."""
    known = customers.get(customer_id, ())
    at = _position(known, buyer)
    old = None if at is None else known[at]
    if old is not None and old.cancelled:
        return customers, ()
    assumed = buyer._replace(new=old.new if old is not None else buyer.flagged)
    return _judged(customers, customer_id, known, at, assumed)


def unindex(
    customers: Customers, customer_id: str, buyer: Buyer
) -> tuple[Customers, tuple[Buyer, ...]]:
    """A cancelled deal out of its customer's judgement (kept as cancelled); the
    deals whose judgement changed, as they are now judged."""
    known = customers.get(customer_id, ())
    gone = buyer._replace(new=False, cancelled=True)
    return _judged(customers, customer_id, known, _position(known, buyer), gone)


def _position(known: tuple[Buyer, ...], buyer: Buyer) -> int | None:
    """Where ``known`` (in close-time order) holds ``buyer``'s deal, if it does."""
    at = bisect_left(known, _ORDER(buyer), key=_ORDER)
    if at < len(known) and known[at].deal_id == buyer.deal_id:
        return at
    ids = tuple(map(_DEAL, known))  # a deal whose close time moved
    return ids.index(buyer.deal_id) if buyer.deal_id in ids else None


def _judged(
    customers: Customers,
    customer_id: str,
    known: tuple[Buyer, ...],
    at: int | None,
    placed: Buyer,
) -> tuple[Customers, tuple[Buyer, ...]]:
    """``known`` with ``placed`` in place of ``known[at]`` (or added), judged again.
    Only the customer's first live deal can be new, so only ``placed``, the first
    before and the first after can change: O(log n) but for the copy."""
    ordered = list(known)
    if at is not None:
        del ordered[at]
    insort(ordered, placed, key=_ORDER)
    was_first = _first(known)
    first = _first(ordered)
    first_id = None if first is None else first.deal_id
    again = {bisect_left(ordered, _ORDER(placed), key=_ORDER)}
    again.update(
        bisect_left(ordered, _ORDER(b), key=_ORDER)
        for b in (was_first, first)
        if b is not None and b.deal_id != placed.deal_id
    )
    changed = []
    for n in sorted(again):
        b = ordered[n]
        new = b.flagged and b.deal_id == first_id and not b.cancelled
        if new != b.new:  # never for a cancelled deal: it is not new, before or now
            ordered[n] = b = b._replace(new=new)
            changed.append(b)
    return customers.set(customer_id, tuple(ordered)), tuple(changed)


def _first(buyers: Iterable[Buyer]) -> Buyer | None:
    """The first deal not cancelled."""
    for buyer in buyers:
        if not buyer.cancelled:
            return buyer
    return None
