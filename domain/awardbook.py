"""SPEC §9: the period awards of a closed period are positions too.

When a period closes, its awards (base bonus, team pool, leader and support bonuses,
cross-functional pool, champion, dark horse, long service, innovation) are made
from every rep's facts and what each rep was awarded is remembered by key
(``World.awards``). A later fact that changes those facts (a deal of the period
closed late, amended or cancelled; a satisfaction score; a nomination or proposal
dated in the period; a rep hired, moved or leaving before the period ended) makes
the awards again and books only the difference, for
every rep it moves: a re-ranking moves a champion award from one rep to another as
a reversal and a new award, each saying what changed. Nothing booked is rewritten.

This is for a world that knows every rep (``simulate``); on the stream, whoever
gathers the partitions' shares makes the awards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from domain.booking import book, draft
from domain.events import (
    DealAmended,
    DealCancelled,
    DealClosed,
    Event,
    NominationMade,
    ProposalAdopted,
    RepHired,
    RepLeft,
    RepMoved,
    SatisfactionRecorded,
)
from domain.frozen import updated
from domain.ledger import LedgerLine, Reason
from domain.money import ZERO
from domain.money import format_money as money
from domain.periodawards import Awarded, award_period, period_share
from domain.periods import period_end
from domain.plan import Plan
from domain.rep import Source
from domain.world import AwardBook, Refused, World, rep_of


class Closing(NamedTuple):
    """A period's close as its share is made from it."""

    period: str
    event_id: str
    occurred_at: datetime


class Cause(NamedTuple):
    """The fact that changed a closed period's awards, as its lines name it.
    ``tag`` tells apart the line ids of several true-ups the same fact sets off
    (on the stream, one per partition that saw it)."""

    event_id: str
    at: datetime
    what: str
    tag: str = ""


def joined(causes: list[Cause]) -> Cause:
    """One cause for the facts of a run that changed a period's awards, in the order
    they came: the last one, naming how many came before it and the first few."""
    last = causes[-1]
    earlier = list(dict.fromkeys(c.what for c in causes[:-1] if c.what != last.what))
    if not earlier:
        return last
    named = ", ".join(earlier[:_NAMED])
    if len(earlier) > _NAMED:
        named = f"{named} and {len(earlier) - _NAMED} more"
    return last._replace(what=f"{last.what} (and before it {named})")


_NAMED = 3
"""How many earlier facts a joined true-up names."""


def remember(awarded: Awarded, closing: Closing) -> AwardBook:
    """What a close awarded, by rep and key."""
    booked = sorted(
        (line.rep_id, key, line.amount)
        for line, key in zip(awarded.lines, awarded.keys, strict=True)
    )
    return AwardBook(
        event_id=closing.event_id, occurred_at=closing.occurred_at, booked=tuple(booked)
    )


def periods_touched(at: datetime) -> tuple[str, ...]:
    """The year, quarter and month a fact dated ``at`` counts in."""
    year, month = at.year, at.month
    return str(year), f"{year}-Q{(month - 1) // 3 + 1}", f"{year}-{month:02d}"


def touched(world: World, event: Event) -> tuple[tuple[str, ...], str]:
    """The closed periods with awards whose facts ``event`` may change, and how
    a true-up names it; nothing for a world that makes no awards itself."""
    if world.awards_elsewhere:
        return (), ""
    return changed_periods(world, event)


def changed_periods(world: World, event: Event) -> tuple[tuple[str, ...], str]:
    """The closed periods whose award facts ``event`` (applied to ``world``) may
    change, and how a true-up names it."""
    if not world.awards:
        return (), ""
    if isinstance(event, DealClosed):
        at, what = event.occurred_at, f"DealClosed {event.deal_id}"
    elif isinstance(event, DealAmended | DealCancelled):  # applied: the deal is known
        at = world.deals[event.deal_id].closed.occurred_at
        what = f"{event.event_type} {event.deal_id}"
    elif isinstance(event, SatisfactionRecorded):
        at, what = event.occurred_at, f"SatisfactionRecorded for {event.deal_id}"
    elif isinstance(event, NominationMade | ProposalAdopted):
        what = f"{event.event_type} {event.event_id}"
        return ((event.period,) if event.period in world.awards else ()), what
    elif isinstance(event, RepHired | RepMoved | RepLeft):
        # Who is in which team, employed when: the facts of every closed period
        # that ends after the change.
        what = f"{event.event_type} {event.rep_id}"
        return tuple(
            period
            for period, made in world.awards.items()
            if period_end(period, made.occurred_at) > event.occurred_at
        ), what
    else:
        return (), ""
    return tuple(p for p in periods_touched(at) if p in world.awards), what


def reaward(
    world: World, periods: Iterable[str], cause: Cause
) -> tuple[World, tuple[LedgerLine, ...]]:
    """The awards of each closed ``periods`` made again after ``cause``; the
    differences booked in the reps' ledgers."""
    lines: list[LedgerLine] = []
    for period in periods:
        book_of = world.awards[period]
        closing = Closing(period, book_of.event_id, book_of.occurred_at)
        share = period_share(world, closing)
        try:
            awarded = award_period([share])
        except Refused:  # pragma: no cover - the same plan and rules made them once
            continue
        world, booked = _true_up(world, share.plan, book_of, awarded, cause)
        lines.extend(booked)
    return world, tuple(lines)


def _true_up(
    world: World, plan: Plan, before: AwardBook, awarded: Awarded, cause: Cause
) -> tuple[World, list[LedgerLine]]:
    after, drafts = differences(before, awarded, plan, cause)
    if after is before:
        return world, []
    reps, lines = world.reps, list[LedgerLine]()
    by_rep: dict[str, list[LedgerLine]] = {}
    for line in drafts:
        by_rep.setdefault(line.rep_id, []).append(line)
    for rep_id, found in by_rep.items():
        rep, booked = book(rep_of(world, rep_id), found)
        reps = reps.set(rep_id, rep)
        lines.extend(booked)
    awards = world.awards.set(awarded.period, after)
    return updated(world, reps=reps, awards=awards), lines


def differences(
    before: AwardBook, awarded: Awarded, plan: Plan, cause: Cause
) -> tuple[AwardBook, list[LedgerLine]]:
    """What ``awarded`` (a period's awards made again after ``cause``) changes in
    ``before``: the book as it now stands and the difference lines, by rep and key
    (not yet numbered in any rep's ledger). ``before`` itself when nothing moved."""
    now = {
        (line.rep_id, key): line
        for line, key in zip(awarded.lines, awarded.keys, strict=True)
    }
    was = {(rep_id, key): amount for rep_id, key, amount in before.booked}
    if {k: line.amount for k, line in now.items()} == was:
        return before, []
    note = f"true-up of {awarded.period}'s awards after {cause.what}"
    drafts = []
    for rep_id, key in sorted({*now, *was}):
        line, old = now.get((rep_id, key)), was.get((rep_id, key), ZERO)
        amount = (line.amount if line is not None else ZERO) - old
        if amount != ZERO:
            drafts.append(
                _difference(
                    plan, (awarded.period, rep_id, key), line, old, amount, cause, note
                )
            )
    closing = Closing(awarded.period, before.event_id, before.occurred_at)
    return remember(awarded, closing), drafts


def _difference(
    plan: Plan,
    whose: tuple[str, str, str],
    line: LedgerLine | None,
    old: Decimal,
    amount: Decimal,
    cause: Cause,
    note: str,
) -> LedgerLine:
    period, rep_id, key = whose
    source = Source(cause.event_id, cause.at)
    line_id = f"{source.event_id}/{rep_id}/{key}{cause.tag}"
    if line is not None:
        formula = line.formula
        if old != ZERO:
            formula = f"{formula}, was {money(old)}"
        return updated(
            line,
            line_id=line_id,
            amount=amount,
            occurred_at=source.at,
            source_event_ids=(source.event_id,),
            reason=Reason.given(f"{formula} — {note}", line.inputs),
        )
    rule = key.split("/")[1]
    reversal = draft(
        plan,
        source,
        rep_id,
        key,
        kind="bonus",
        rule=rule,
        amount=amount,
        formula=f"reversal of the {rule.replace('_', ' ')} {money(old)} — {note}",
        inputs=(("period", period),),
    )
    return updated(reversal, line_id=line_id)
