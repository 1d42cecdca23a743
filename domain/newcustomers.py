"""New customer in the ledger (SPEC §9, ``domain.customers``): a deal into or out
of its customer's history, and the deals whose judgement that changed, priced
again; on the stream, ``CustomerSeen`` keeps a partition's history."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.customers import Customers, index, unindex
from domain.dealstate import restate
from domain.events import (
    CustomerSeen,
    DealClosed,
)
from domain.frozen import updated
from domain.ledger import LedgerLine
from domain.rep import (
    Source,
)
from domain.world import (
    Buyer,
    DealRecord,
    Lines,
    Refused,
    World,
)


def judged_new(world: World, deal: DealClosed) -> bool | None:
    """How the company's customer history judges a deal it already counts (in a
    stream partition, its ``CustomerSeen`` may come before the deal itself); None
    for a deal it does not know yet: its CRM flag stands until judged."""
    found = world.customers.get(deal.customer_id, ())
    return next(
        (b.new for b in found if b.deal_id == deal.deal_id and not b.cancelled), None
    )


def in_history(
    world: World, record: DealRecord, source: Source, cancelled: bool = False
) -> tuple[World, Lines]:
    """SPEC §9, new customer: the deal in (or, cancelled, out of) its customer's
    history, and the deals whose judgement that changed, priced again. A world of
    some reps leaves the judgement to ``CustomerSeen`` (``domain.customers``)."""
    if world.awards_elsewhere:
        return world, ()
    terms = record.closed
    reps = tuple(split.rep_id for split in record.splits)
    flag = terms.new_customer
    buyer = Buyer(terms.occurred_at, terms.deal_id, flag, flag, reps)
    judge_with = unindex if cancelled else index
    customers, changed = judge_with(world.customers, terms.customer_id, buyer)
    world = updated(world, customers=customers)
    lines: list[LedgerLine] = []
    for buyer in changed:
        world, more = rejudge(world, buyer.deal_id, buyer.new, source, terms.deal_id)
        lines.extend(more)
    return world, tuple(lines)


def rejudge(
    world: World, deal_id: str, new: bool, source: Source, because: str
) -> tuple[World, Lines]:
    """A deal priced again as new to the company, or not, as its customer's history
    now says (``because`` names the deal whose arrival or cancellation moved it)."""
    record = world.deals.get(deal_id)
    if record is None or record.cancelled:
        return world, ()
    note = (
        f"new customer: {deal_id} is now its customer's first deal (after {because})"
        if new
        else f"not a new customer: {deal_id} has an earlier deal with its customer "
        f"(after {because})"
    )
    return restate(world, updated(record, new_customer=new), source, note, record)


class Seen(Protocol):
    """What a ``CustomerSeen`` says (the stream reads a batch of them from its own
    messages without building each event; ``streams.state.customers``)."""

    @property
    def customer_id(self) -> str: ...
    @property
    def deal_id(self) -> str: ...
    @property
    def closed_at(self) -> datetime: ...
    @property
    def new_customer(self) -> bool: ...
    @property
    def reps(self) -> tuple[str, ...]: ...
    @property
    def cancelled(self) -> bool: ...


def see_customer(world: World, event: CustomerSeen) -> tuple[World, Lines]:
    """A deal as the company's customer history counts it, in a world of some reps
    (a stream partition's company facts); the partition prices again the deals of
    its reps whose judgement changed."""
    if not world.awards_elsewhere:
        msg = "CustomerSeen is QuotaFlow's own event, never accepted from upstream"
        raise Refused("internal_event", msg)
    return updated(world, customers=seen_in(world.customers, event)), ()


def seen_in(customers: Customers, event: Seen) -> Customers:
    """The customer history with the deal ``event`` tells of in it, judged."""
    flag = event.new_customer
    buyer = Buyer(event.closed_at, event.deal_id, flag, flag, event.reps)
    judge_with = unindex if event.cancelled else index
    return judge_with(customers, event.customer_id, buyer)[0]
