"""即时奖励 in the ledger: the instant rewards a deal fires, and their reversal or
re-judgement when it is amended or cancelled (``domain.instant`` judges them)."""

from __future__ import annotations

from decimal import Decimal

from domain.booking import book, draft
from domain.dealstate import record_plan
from domain.events import (
    DealClosed,
)
from domain.frozen import updated
from domain.instant import (
    InstantAward,
    InstantState,
    on_deal,
    on_deal_amended,
    on_deal_cancelled,
)
from domain.ledger import LedgerLine
from domain.plan import Plan
from domain.rep import (
    RepState,
    Source,
)
from domain.world import (
    DealRecord,
    DealTerms,
    Lines,
    World,
    rep_of,
)


def instant_on_close(
    rep: RepState, plan: Plan, deal: DealClosed, credited: Decimal
) -> tuple[RepState, Lines]:
    """即时奖励: lightning and breakthrough fire while the deal is processed."""
    rules = plan.instant_rewards
    if rules is None:
        return rep, ()
    state, awards = on_deal(
        rep.instant,
        rep.rep_id,
        deal_id=deal.deal_id,
        event_id=deal.event_id,
        closed_at=deal.occurred_at,
        credited_amount=credited,
        new_customer=deal.new_customer,
        key_account=deal.key_account,
        rules=rules,
        customer_id=deal.customer_id,
    )
    return book_instant(
        rep, state, awards, plan, deal, Source(deal.event_id, deal.occurred_at)
    )


def book_instant(
    rep: RepState,
    state: InstantState,
    awards: tuple[InstantAward, ...],
    plan: Plan,
    deal: DealClosed | DealTerms,
    source: Source,
) -> tuple[RepState, Lines]:
    """Keep the rep's instant-reward memory and book the awards that fired."""
    drafts = [
        draft(
            plan,
            source,
            rep.rep_id,
            f"instant/{award.rule}/{n}",
            kind="bonus",
            rule=award.rule,
            amount=award.amount,
            formula=award.formula,
            deal_id=deal.deal_id,
            currency=award.currency,
            sources=award.source_event_ids,
        )
        for n, award in enumerate(awards, start=1)
    ]
    return book(updated(rep, instant=state), drafts)


def instant_amended(
    world: World, old: DealRecord, new: DealRecord, source: Source
) -> tuple[World, Lines]:
    """即时奖励 re-judged after an amendment: each rep still on the deal with its
    credited amount as amended; a rep taken off it as if it were cancelled; a rep
    added as if the deal had just closed for them."""
    plan = record_plan(world, new)
    rules = plan.instant_rewards
    if rules is None:
        return world, ()
    before = {s.rep_id: s for s in old.splits}
    after = {s.rep_id: s for s in new.splits}
    reps, lines = world.reps, list[LedgerLine]()
    deal = new.closed
    for rep_id in dict.fromkeys([*before, *after]):
        rep, split = rep_of(world, rep_id), after.get(rep_id)
        if split is None:
            rep, booked = instant_cancelled(rep, plan, deal, source)
        elif rep_id not in before:
            state, awards = on_deal(
                rep.instant, rep_id, deal_id=deal.deal_id, event_id=source.event_id,
                closed_at=deal.occurred_at, credited_amount=new.amount * split.share,
                new_customer=deal.new_customer, key_account=deal.key_account,
                rules=rules, customer_id=deal.customer_id,
            )  # fmt: skip
            rep, booked = book_instant(rep, state, awards, plan, deal, source)
        else:
            state, awards = on_deal_amended(
                rep.instant, rep_id, deal_id=deal.deal_id, event_id=source.event_id,
                credited_amount=new.amount * split.share, rules=rules,
            )  # fmt: skip
            rep, booked = book_instant(rep, state, awards, plan, deal, source)
        # The day keeps the amended amount even when no award moves: a deal signed
        # on it later is judged against what the day now holds.
        reps = reps.set(rep_id, rep)
        lines.extend(booked)
    return updated(world, reps=reps), tuple(lines)


def instant_cancelled(
    rep: RepState, plan: Plan, deal: DealTerms, source: Source
) -> tuple[RepState, Lines]:
    """即时奖励 clawback: an award whose condition no longer holds is reversed."""
    rules = plan.instant_rewards
    if rules is None:
        return rep, ()
    state, awards = on_deal_cancelled(
        rep.instant,
        rep.rep_id,
        deal_id=deal.deal_id,
        event_id=source.event_id,
        rules=rules,
    )
    return book_instant(rep, state, awards, plan, deal, source)
