"""The period awards of SPEC §3 from facts that may be gathered in parts.

Awards compare reps with each other (team pool, leader and support bonuses by team
attainment, the champion ranking), so they need the facts of every rep. ``simulate``
folds one world that knows everybody: its close makes one ``PeriodShare`` and awards
it. The stream keeps each rep's deals in that rep's partition: every partition makes
the share of the reps it owns, and ``award_period`` awards the shares together. The
same facts give the same lines either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.awards import (
    AwardError,
    AwardLine,
    ClosedPeriod,
    InnovationProposal,
    Nomination,
    PromotionCandidate,
    RepPeriodFacts,
    TeamPeriodFacts,
    Withheld,
    period_awards,
)
from domain.booking import draft
from domain.credits import team_revenue
from domain.events import PeriodClosed
from domain.ledger import LedgerLine
from domain.money import ZERO
from domain.periods import period_end, previous_period
from domain.plan import Plan
from domain.rep import RepState, Source
from domain.targets import TargetNode
from domain.world import Person, Refused, World, plan_at, rep_of


class TeamScores(BaseModel):
    """The satisfaction scores of one team's deals that one share saw."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team_id: str
    total: Decimal
    count: int = Field(ge=0)


class PeriodShare(BaseModel):
    """What one part of the organisation knows about a closing period: its reps'
    facts and satisfaction scores, and the plan, team targets, nominations and
    proposals every part knows alike."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: str
    event_id: str
    occurred_at: AwareDatetime
    ends_at: AwareDatetime
    plan: Plan
    reps: tuple[RepPeriodFacts, ...] = ()
    scores: tuple[TeamScores, ...] = ()
    team_targets: tuple[tuple[str, Decimal], ...] = ()
    nominations: tuple[Nomination, ...] = ()
    proposals: tuple[InnovationProposal, ...] = ()
    # The pay months locked when the share was made: award lines made from it
    # go to the next open month's statement (``domain.payout``).
    locked: tuple[str, ...] = ()


class Awarded(BaseModel):
    """The award lines of a closed period (not yet numbered in any rep's ledger),
    with the promotion candidates and what was withheld, and why."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    period: str = ""
    lines: tuple[LedgerLine, ...] = ()
    # Each line's award key (unique per rep), in the order of ``lines``.
    keys: tuple[str, ...] = ()
    candidates: tuple[PromotionCandidate, ...] = ()
    withheld: tuple[Withheld, ...] = ()


class Closes(Protocol):
    """What a share needs of a period's close (a ``PeriodClosed``, or the record
    of one when its awards are made again)."""

    @property
    def period(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...


def period_share(
    world: World,
    event: Closes,
    owned: Callable[[str], bool] = lambda _: True,
    world_of: Callable[[str], World] | None = None,
) -> PeriodShare:
    """The share of the reps ``owned`` selects: their facts are read from
    ``world_of(rep_id)`` (by default ``world``, which also gives the plan, targets,
    people, nominations and proposals)."""
    period = event.period
    ends_at = period_end(period, event.occurred_at)
    start = period_end(previous_period(period), ends_at)
    knows = world_of or (lambda _: world)
    people = [p for p in world.people.values() if owned(p.rep_id)]
    present = [
        p
        for p in people
        if p.hired_at < ends_at and (p.left_at is None or p.left_at >= start)
    ]
    scores: dict[str, tuple[Decimal, int]] = {}
    for person in people:
        total, count = rep_of(knows(person.rep_id), person.rep_id).scores_in(period)
        before = scores.get(person.team_id, (ZERO, 0))
        scores[person.team_id] = (before[0] + total, before[1] + count)
    teams = sorted({p.team_id for p in present})
    targets = [(t, node.amount) for t in teams if (node := _target(world, t, period))]
    return PeriodShare(
        period=period,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        ends_at=ends_at,
        plan=plan_at(world, ends_at - timedelta(microseconds=1)),
        reps=tuple(facts_of(knows(p.rep_id), p, period) for p in present),
        scores=tuple(
            TeamScores(team_id=team, total=total, count=count)
            for team, (total, count) in sorted(scores.items())
        ),
        team_targets=tuple(targets),
        nominations=world.nominations,
        proposals=world.proposals,
        locked=world.locked,
    )


def award_period(shares: Sequence[PeriodShare]) -> Awarded:
    """The awards of one closing period from the shares of every part."""
    first = shares[0]
    plan = first.plan
    if plan.awards is None:
        return Awarded()
    totals: dict[str, tuple[Decimal, int]] = {}
    for team in (s for share in shares for s in share.scores):
        before = totals.get(team.team_id, (ZERO, 0))
        totals[team.team_id] = (before[0] + team.total, before[1] + team.count)
    facts = [
        fact.model_copy(update={"service_satisfaction": _mean(totals, fact.team_id)})
        for share in shares
        for fact in share.reps
    ]
    targets = dict(t for share in shares for t in share.team_targets)
    revenue: dict[str, Decimal] = {}
    for fact in facts:
        for team_id, amount in fact.team_revenue or ((fact.team_id, fact.revenue),):
            revenue[team_id] = revenue.get(team_id, ZERO) + amount
    teams = [
        TeamPeriodFacts(
            team_id=team_id,
            revenue=revenue.get(team_id, ZERO),
            target=target,
        )
        for team_id, target in sorted(targets.items())
    ]
    closing = ClosedPeriod(period=first.period, ends_at=first.ends_at)
    try:
        awards = period_awards(
            closing,
            facts,
            teams,
            plan.awards,
            plan.currency,
            nominations=first.nominations,
            proposals=first.proposals,
        )
    except AwardError as exc:  # pragma: no cover - each rep's facts come once
        raise Refused("awards", str(exc)) from exc
    source = Source(first.event_id, first.occurred_at)
    return Awarded(
        period=first.period,
        lines=tuple(
            _award_line(line, plan, source, first.period) for line in awards.lines
        ),
        keys=tuple(line.key for line in awards.lines),
        candidates=awards.candidates,
        withheld=awards.withheld,
    )


def _target(world: World, node_id: str, period: str) -> TargetNode | None:
    node = world.targets.get(node_id, period)
    return node if node is not None and node.amount > ZERO else None


def _mean(totals: dict[str, tuple[Decimal, int]], team_id: str) -> Decimal | None:
    total, count = totals.get(team_id, (ZERO, 0))
    return total / count if count else None


def facts_of(world: World, person: Person, period: str) -> RepPeriodFacts:
    """One rep's facts of a period (revenue, target, streaks ...), remembered for
    the rep's state as it is: a period's awards made again after a late fact read
    again only the facts of the reps it changed, not every rep's (the facts are a
    function of the rep's state, the person and the target book, all immutable)."""
    key = (period, person.rep_id)
    rep = rep_of(world, person.rep_id)
    known = _FACTS.get(key)
    if (
        known is not None
        and known[0] is rep
        and known[1] is person
        and (known[2] is world.targets)
    ):
        return known[3]
    found = _facts(world, rep, person, period)
    if len(_FACTS) >= _FACTS_KEPT:
        _FACTS.clear()
    _FACTS[key] = (rep, person, world.targets, found)
    return found


_FACTS: dict[tuple[str, str], tuple[RepState, Person, object, RepPeriodFacts]] = {}
_FACTS_KEPT = 100_000
"""Remembered facts by (period, rep): the objects they were read from (compared by
identity, and held so that identity cannot be reused) and the facts. Cleared whole
when full: it is a cache of a pure function, never state."""


def _facts(world: World, rep: RepState, person: Person, period: str) -> RepPeriodFacts:
    target = world.targets.get(person.rep_id, period)
    quarters: list[Decimal] = []
    quarter = period if "-Q" in period else ""
    # Back to the first quarter without a target, at most two years: enough for any
    # promotion rule.
    while (
        len(quarters) < 8  # noqa: PLR2004 - eight quarters are two years
        and (node := world.targets.get(person.rep_id, quarter)) is not None
        and node.amount > ZERO
    ):
        quarters.insert(0, rep.revenue_in(quarter) / node.amount)
        quarter = previous_period(quarter)
    streak, year = 0, period[:4]
    while (node := world.targets.get(person.rep_id, year)) is not None and (
        node.amount > ZERO and rep.revenue_in(year) >= node.amount
    ):
        streak, year = streak + 1, previous_period(year)
    return RepPeriodFacts(
        rep_id=person.rep_id,
        team_id=person.team_id,
        role=person.role,
        grade=person.grade,
        hired_at=person.hired_at,
        revenue=max(rep.revenue_in(period), ZERO),
        target=target.amount if target is not None else ZERO,
        previous_revenue=max(rep.revenue_in(previous_period(period)), ZERO),
        quarterly_attainments=tuple(quarters),
        years_target_met_streak=streak,
        mentees_passed=rep.mentees_passed,
        reached_revenue_at=_last_close(rep, period),
        team_revenue=team_revenue(rep, person, period),
    )


def _last_close(rep: RepState, period: str) -> datetime | None:
    """When the rep's latest deal of the period closed: its year's deals stand in
    close-time order, so the walk back from the end stops at the first one (a close
    reads the few deals after the period, not the whole year)."""
    for _, deal_id in reversed(rep.order.get(period[:4], ())):
        position = rep.positions[deal_id]
        if period in (position.quarter, position.month, position.year) and not (
            position.cancelled
        ):
            return position.facts.closed_at
    return None


def _award_line(line: AwardLine, plan: Plan, source: Source, period: str) -> LedgerLine:
    # The period an award is for names the plan year its budget counts it in.
    inputs = (("period", period), *line.inputs)
    return draft(
        plan,
        source,
        line.rep_id,
        line.key,
        kind="bonus",
        rule=line.rule,
        amount=line.amount,
        formula=line.formula,
        inputs=inputs,
        currency=line.currency,
    )


def award_all(world: World, event: PeriodClosed) -> Awarded:
    """The awards of a world that knows every rep (``simulate``)."""
    return award_period([period_share(world, event)])
