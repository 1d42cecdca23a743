"""A rep's running incentive state: revenue by period and a position per deal.

Every change to a position goes through ``_rebook``: the position's targets are
recomputed by ``position_targets`` and only the difference to what was booked before
becomes new ledger lines. Paid history is never rewritten.

A rep's deals of a plan year stand in close-time order (ties: deal id), whatever order
they arrive in: a deal's year-to-date base is the credited revenue of the deals that
closed before it. A deal that arrives late, or changes its credited revenue, re-slices
the deals after it (they book the difference), so the totals depend on which events
happened, never on the order the stream delivered them in.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from sys import intern
from typing import NamedTuple, cast

from domain.bands import RateBand
from domain.commission import ONE, Kind, PositionFacts, Target, position_targets
from domain.frozen import updated
from domain.instant import InstantState
from domain.ledger import Explained, LedgerLine, Reason
from domain.money import ZERO, to_cents
from domain.money import format_money as money
from domain.plan import Plan
from domain.pmap import PMap

OrderKey = tuple[datetime, str]
PlanOf = Callable[[str, int], Plan]


class Source(NamedTuple):
    """The event that causes a booking: its id names the lines, its time dates them."""

    event_id: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """One rep's stake in one deal, and what has been booked for it."""

    facts: PositionFacts
    plan_id: str
    plan_version: int
    year: str
    quarter: str
    month: str
    # What was booked, by key: the keys (shared strings) and the amounts, apart.
    booked: tuple[tuple[str, ...], tuple[Decimal, ...]] = ((), ())
    cancelled: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RepState:
    """What a rep has earned so far. Mappings are replaced, never mutated."""

    rep_id: str
    revenue: Mapping[str, Decimal] = field(default_factory=dict)
    # Credited margin (profit) by period, for the over-target profit share.
    margins: Mapping[str, Decimal] = field(default_factory=dict)
    positions: PMap[str, Position] = field(default_factory=PMap)
    totals: Mapping[str, Decimal] = field(default_factory=dict)
    sequence: int = 0
    instant: InstantState = field(default_factory=InstantState)
    mentees_passed: int = 0
    # Satisfaction scores of the rep's deals by period: (sum of scores, how many).
    scores: Mapping[str, tuple[Decimal, int]] = field(default_factory=dict)
    # Each plan year's deals in close-time order: (closed_at, deal_id).
    order: Mapping[str, tuple[OrderKey, ...]] = field(default_factory=dict)
    # Each plan year's credited revenue of those deals, in that order (0 for a
    # cancelled one): a deal's base is the sum of a slice, not of a map walk.
    credits: Mapping[str, tuple[Decimal, ...]] = field(default_factory=dict)
    # The plan versions (id, version) the year's deals were placed under.
    plans: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    # What each closed period booked the rep (attainment commission, profit share,
    # attainment points), by key: a later change books the difference
    # (``domain.periodbook``).
    periods: Mapping[str, tuple[tuple[str, ...], tuple[Decimal, ...]]] = field(
        default_factory=dict
    )
    # Points clawed back beyond the balance, repaid from points earned later
    # (``domain.pointsdebt``).
    points_debt: Decimal = ZERO
    # Inquiries the rep raised that no one has answered yet (``domain.payout``).
    inquiries: tuple[str, ...] = ()

    def revenue_in(self, period: str) -> Decimal:
        return self.revenue.get(period, ZERO)

    def margin_in(self, period: str) -> Decimal:
        return self.margins.get(period, ZERO)

    def ytd_revenue(self, year: int) -> Decimal:
        return self.revenue_in(str(year))

    def total(self, kind: Kind) -> Decimal:
        return self.totals.get(kind, ZERO)

    def scores_in(self, period: str) -> tuple[Decimal, int]:
        return self.scores.get(period, (ZERO, 0))


def record_score(state: RepState, score: Decimal, at: datetime) -> RepState:
    """Remember a satisfaction score of one of the rep's deals, by period."""
    scores = dict(state.scores)
    for period in periods_of(at):
        total, count = state.scores_in(period)
        scores[period] = (total + score, count + 1)
    return updated(state, scores=scores)


def periods_of(at: datetime) -> tuple[str, str, str]:
    """Plan year, quarter and month of a moment, in that moment's own UTC offset
    (shared strings: every position keeps them)."""
    year, month = at.year, at.month
    quarter = f"{year}-Q{(month - 1) // 3 + 1}"
    return intern(str(year)), intern(quarter), intern(f"{year}-{month:02d}")


def sprint_holds(state: RepState, at: datetime, plan: Plan) -> bool:
    """季度累计冲刺: a Q4 deal of a rep whose Q1-Q3 were each above the threshold."""
    if plan.sprint is None or at.month < 10:  # noqa: PLR2004 - October starts Q4
        return False
    return all(
        state.revenue_in(f"{at.year}-Q{q}") > plan.sprint.quarter_threshold
        for q in (1, 2, 3)
    )


def open_position(
    state: RepState, facts: PositionFacts, plans: PlanOf, plan: Plan, source: Source
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """A deal credited to this rep takes its place among the rep's deals by close
    time (``facts.ytd_before`` and ``facts.sprint`` are derived here)."""
    year, quarter, month = periods_of(facts.closed_at)
    keys = list(state.order.get(year, ()))
    index = bisect_right(keys, _key(facts))
    keys.insert(index, _key(facts))
    credits = list(state.credits.get(year, ()))
    credits.insert(index, facts.credited)
    used = state.plans.get(year, ())
    if (plan.plan_id, plan.version) not in used:
        used = (*used, (plan.plan_id, plan.version))
    position = Position(
        facts=_placed(state, tuple(keys), tuple(credits), facts, plan, ZERO),
        plan_id=plan.plan_id,
        plan_version=plan.version,
        year=year,
        quarter=quarter,
        month=month,
    )
    state = _credit(
        state,
        position,
        facts.credited,
        _margin(facts),
        order={**state.order, year: tuple(keys)},
        credits={**state.credits, year: tuple(credits)},
        plans={**state.plans, year: used}
        if used is not state.plans.get(year)
        else state.plans,
    )
    state, lines = _rebook(state, position, plan, source, "")
    return _follow_on(state, position, plans, source, lines, facts.credited)


def change_position(
    state: RepState,
    position: Position,
    facts: PositionFacts,
    plans: PlanOf,
    source: Source,
    note: str,
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """New facts for an open position (payment, score, amendment, forfeiture)."""
    plan = plans(position.plan_id, position.plan_version)
    delta = facts.credited - position.facts.credited
    if delta == ZERO:
        # The deal's place is as it was booked (a change before it re-sliced it, or
        # left it in its band): a payment or a score costs O(1), not O(deals).
        facts = updated(
            facts, ytd_before=position.facts.ytd_before, sprint=position.facts.sprint
        )
    else:
        year = position.year
        keys, credits = state.order[year], state.credits[year]
        facts = _placed(state, keys, credits, facts, plan, position.facts.credited)
    changed = updated(position, facts=facts)
    margin = _margin(facts) - _margin(position.facts)
    state = _credit(state, changed, delta, margin)
    state, lines = _rebook(state, changed, plan, source, note)
    if delta == ZERO:
        return state, lines
    return _follow_on(state, changed, plans, source, lines, delta)


def reprice_position(
    state: RepState,
    position: Position,
    facts: PositionFacts,
    plan: Plan,
    source: Source,
    note: str,
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """SPEC §9: a deal priced again under the plan version or SPIFF window that
    covers it now (one that arrived after it). Its credited revenue and place are
    unchanged, so nothing after it moves; its keys book the difference."""
    used = state.plans.get(position.year, ())
    if (plan.plan_id, plan.version) not in used:
        used = (*used, (plan.plan_id, plan.version))
        state = updated(state, plans={**state.plans, position.year: used})
    facts = updated(facts, ytd_before=position.facts.ytd_before)
    changed = updated(
        position,
        facts=_at(state, facts, plan, facts.ytd_before),
        plan_id=plan.plan_id,
        plan_version=plan.version,
    )
    return _rebook(state, changed, plan, source, note)


def cancel_position(
    state: RepState, position: Position, plans: PlanOf, source: Source, reason: str
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """Clawback: every booked amount of the deal is reversed by new lines. The deals
    after it re-slice from its place as it stands now (its booked base may be older:
    a change before it may have left it in its band without rebooking it)."""
    year = position.year
    keys, credits = state.order[year], state.credits[year]
    plan = plans(position.plan_id, position.plan_version)
    counted = position.facts.credited
    facts = _placed(state, keys, credits, position.facts, plan, counted)
    cancelled = updated(position, facts=facts, cancelled=True)
    state = _credit(state, cancelled, -counted, -_margin(position.facts))
    note = f"deal cancelled: {reason or 'no reason'}"
    state, lines = _rebook(state, cancelled, plan, source, note)
    return _follow_on(state, cancelled, plans, source, lines, -counted)


def _key(facts: PositionFacts) -> OrderKey:
    return facts.closed_at, facts.deal_id


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def in_close_order(
    positions: Mapping[str, Position],
) -> tuple[dict[str, tuple[OrderKey, ...]], dict[str, tuple[Decimal, ...]]]:
    """``RepState.order`` and ``RepState.credits`` as ``positions`` give them: a
    position takes its place in its year's order when it opens, its close time and
    id never change, and its credit follows it on every booking (``_credits_with``:
    its credited revenue as it is, exponent included, or 0 once cancelled). A
    snapshot leaves both out and puts them back from the positions."""
    placed: dict[str, list[tuple[OrderKey, Decimal]]] = {}
    for position in positions.values():
        placed.setdefault(position.year, []).append(
            (_key(position.facts), _counted(position))
        )
    order, credits = {}, {}
    for year, deals in placed.items():
        # By instant, then id, as the keys compare, but on integers (microseconds
        # since 1970): comparing aware datetimes cost 1 ms a sort of 300 deals.
        deals.sort(key=lambda deal: ((deal[0][0] - _EPOCH) // _MICROSECOND, deal[0][1]))
        order[year] = tuple(key for key, _ in deals)
        credits[year] = tuple(credit for _, credit in deals)
    return order, credits


def _counted(position: Position) -> Decimal:
    """What a position adds to its year's credits: its credited revenue, or 0 once
    it is cancelled."""
    return ZERO if position.cancelled else position.facts.credited


def _placed(
    state: RepState,
    keys: tuple[OrderKey, ...],
    credits: tuple[Decimal, ...],
    facts: PositionFacts,
    plan: Plan,
    counted: Decimal,
) -> PositionFacts:
    """分段提成 in close-time order: the year-to-date base is the credited revenue of
    the rep's deals that closed before this one; the sprint is judged on the quarters
    as they stand. ``counted`` is what this deal adds to the year's revenue now;
    ``credits`` are the year's deals' credited revenue, in the order of ``keys``.

    The base of a deal that is not the year's latest is summed over the deals before
    it, in order: a sum of the same terms is the same decimal, exponent included, so
    its explanation reads the same whatever order the deals arrived in."""
    year = str(facts.closed_at.year)
    if keys[-1] == _key(facts):  # the usual case: the latest deal of the year
        ytd = state.revenue_in(year) - counted
    else:
        ytd = sum(credits[: bisect_right(keys, _key(facts)) - 1], ZERO)
    return _at(state, facts, plan, ytd)


def _at(
    state: RepState, facts: PositionFacts, plan: Plan, ytd: Decimal
) -> PositionFacts:
    sprint = sprint_holds(state, facts.closed_at, plan)
    if (facts.ytd_before, facts.sprint) == (ytd, sprint):
        return facts
    return updated(facts, ytd_before=ytd, sprint=sprint)


def _follow_on(
    state: RepState,
    changed: Position,
    plans: PlanOf,
    source: Source,
    lines: tuple[LedgerLine, ...],
    moved: Decimal,
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    """Re-slice the rep's deals that closed after ``changed`` in the same year, whose
    base ``moved`` by the change of its credited revenue.

    Every open position is booked in the band its true base puts it in (this
    function keeps it so), and bases only grow along the year. So once both the new
    and the old base of a later deal are in a plan's top band, which has no upper
    edge, that deal and every one after it stay where they were booked: the walk
    stops there, unless the change moved the Q4 sprint."""
    year = changed.year
    keys = state.order[year]
    index = bisect_right(keys, _key(changed.facts))
    if index == len(keys):
        return state, lines
    ytd = changed.facts.ytd_before + _counted(state.positions[changed.facts.deal_id])
    settled_from = _settled_from(state, changed, plans, moved)
    collected = list(lines)
    note = f"re-sliced: deal {changed.facts.deal_id} changed the revenue before it"
    for _, deal_id in keys[index:]:
        if settled_from is not None and min(ytd, ytd - moved) >= settled_from:
            break
        later = state.positions[deal_id]
        if later.cancelled:
            continue
        plan = plans(later.plan_id, later.plan_version)
        base, ytd = ytd, ytd + later.facts.credited
        if _slices_hold(state, later.facts, plan, base):
            continue
        # Everything after a change moves with it: each later deal's base shifts.
        moved_deal = updated(later, facts=_at(state, later.facts, plan, base))
        state, booked = _rebook(state, moved_deal, plan, source, note)
        collected.extend(booked)
    return state, tuple(collected)


def _settled_from(
    state: RepState, changed: Position, plans: PlanOf, moved: Decimal
) -> Decimal | None:
    """The base from which the year's later deals stay in their band whatever the
    change: the lower edge of the top band, when the year's deals share one plan
    (a plan's top band always is) and the change did not move the Q4 sprint."""
    used = state.plans.get(changed.year, ())
    if len(used) != 1:
        return None
    plan = plans(*used[0])
    top = plan.revenue_bands[-1]  # a plan's top band is open-ended (bands.py)
    if plan.sprint is not None:
        quarters = [f"{changed.year}-Q{q}" for q in (1, 2, 3)]
        if changed.quarter in quarters:
            threshold = plan.sprint.quarter_threshold
            now = [state.revenue_in(q) for q in quarters]
            before = [
                r - moved if q == changed.quarter else r
                for q, r in zip(quarters, now, strict=True)
            ]
            if all(r > threshold for r in now) != all(r > threshold for r in before):
                return None
    return top.lower


def _slices_hold(
    state: RepState, facts: PositionFacts, plan: Plan, ytd: Decimal
) -> bool:
    """Whether a later deal whose base moves to ``ytd`` earns what it booked: it
    stays inside the one revenue band it was booked in, and its sprint holds as it
    did. ``facts.ytd_before`` is the base its booked lines were computed on."""
    if sprint_holds(state, facts.closed_at, plan) != facts.sprint:
        return False
    bands = plan.revenue_bands
    booked = _band_of(bands, facts.ytd_before, facts.ytd_before + facts.credited)
    return booked is not None and booked == _band_of(bands, ytd, ytd + facts.credited)


def _band_of(bands: Sequence[RateBand], start: Decimal, end: Decimal) -> int | None:
    """The one band that holds all of ``[start, end]``; ``None`` if it spans an edge."""
    for index, band in enumerate(bands):
        if band.lower <= start and (band.upper is None or end <= band.upper):
            return index
    return None


def _margin(facts: PositionFacts) -> Decimal:
    """The rep's credited share of the deal's margin (profit)."""
    return facts.margin * facts.share


def _credit(
    state: RepState,
    position: Position,
    revenue: Decimal,
    margin: Decimal,
    **more: object,
) -> RepState:
    """Move the rep's credited revenue and margin of the position's periods (and
    set ``more`` fields in the same copy)."""
    if revenue == ZERO and margin == ZERO:
        return updated(state, **more) if more else state
    periods = (position.year, position.quarter, position.month)
    return updated(
        state,
        revenue=_add(state.revenue, periods, revenue),
        margins=_add(state.margins, periods, margin),
        **more,
    )


def _add(
    by_period: Mapping[str, Decimal], periods: Iterable[str], delta: Decimal
) -> dict[str, Decimal]:
    moved = dict(by_period)
    for period in periods:
        moved[period] = moved.get(period, ZERO) + delta
    return moved


def _rebook(
    state: RepState, position: Position, plan: Plan, source: Source, note: str
) -> tuple[RepState, tuple[LedgerLine, ...]]:
    targets = {} if position.cancelled else _by_key(position, plan)
    booked = dict(zip(*position.booked, strict=True))
    lines = []
    totals = dict(state.totals)
    sequence = state.sequence
    reversed_factors: dict[str, Decimal] | None = None
    for key in [*targets, *(k for k in booked if k not in targets)]:
        target = targets.get(key)
        before = booked.get(key, ZERO)
        amount = (target.amount if target is not None else ZERO) - before
        if amount == ZERO:
            continue
        sequence += 1
        where = (state.rep_id, position, key, sequence)
        line = _line(where, target, amount, before, source, note)
        if target is not None:
            factor = target.factor
        elif key.startswith("payable/"):  # a release reversed (rare): its factor
            if reversed_factors is None:
                reversed_factors = _release_factors(position, plan)
            factor = reversed_factors.get(key, ONE)
        else:
            factor = ONE
        if factor > ONE:
            premium = to_cents(amount * (factor - ONE) / factor)
            line = updated(line, premium=premium)
        lines.append(line)
        booked[key] = before + amount
        totals[line.kind] = totals.get(line.kind, ZERO) + amount
    if lines:
        kept = [(key, value) for key, value in booked.items() if value != ZERO]
        keys = tuple(intern(key) for key, _ in kept)
        # Every caller hands in a position it made for this booking: set, not copied.
        object.__setattr__(position, "booked", (keys, tuple(v for _, v in kept)))
    positions = state.positions.set(position.facts.deal_id, position)
    new_state = updated(
        state,
        positions=positions,
        totals=totals,
        sequence=sequence,
        credits=_credits_with(state, position),
    )
    return new_state, tuple(lines)


def _credits_with(
    state: RepState, position: Position
) -> Mapping[str, tuple[Decimal, ...]]:
    """The year's credits with ``position``'s as it now counts (the same mapping
    when it has not changed, exponent included)."""
    year = position.year
    credits = state.credits.get(year, ())
    index = bisect_left(state.order.get(year, ()), _key(position.facts))
    value = _counted(position)
    now = credits[index]  # every position stands in its year's order
    if now is value or (now == value and now.as_tuple() == value.as_tuple()):
        return state.credits
    changed = (*credits[:index], value, *credits[index + 1 :])
    return {**state.credits, year: changed}


def _release_factors(position: Position, plan: Plan) -> dict[str, Decimal]:
    """The payment-speed multiplier of each release of ``position`` as it was
    booked before it was cancelled or forfeited."""
    return {t.key: t.factor for t in position_targets(position.facts, plan)}


def _by_key(position: Position, plan: Plan) -> dict[str, Target]:
    return {t.key: t for t in position_targets(position.facts, plan)}


def _explained(target: Target | None, before: Decimal, note: str) -> Explained:
    """Formula and inputs of a booking that moves a key off ``before`` (no target:
    the key is no longer owed, and what was booked is reversed)."""
    formula, inputs = (
        (f"reversal of {money(before)} booked", ())
        if target is None
        else target.explain()
    )
    if target is not None and before != ZERO:
        formula = f"{formula} = {money(target.amount)}, was {money(before)}"
    return (f"{formula} — {note}" if note else formula), inputs


def _line(
    where: tuple[str, Position, str, int],
    target: Target | None,
    amount: Decimal,
    before: Decimal,
    source: Source,
    note: str,
) -> LedgerLine:
    rep_id, position, key, sequence = where
    facts = position.facts
    if target is None:
        kind, rule = cast(Kind, key.split("/", 1)[0]), "clawback"
    else:
        kind, rule = target.kind, target.rule
    return LedgerLine(
        line_id=f"{source.event_id}/{rep_id}/{facts.deal_id}/{key}",
        rep_id=rep_id,
        deal_id=facts.deal_id,
        kind=kind,
        rule=rule,
        plan_id=position.plan_id,
        plan_version=position.plan_version,
        amount=amount,
        currency="PTS" if kind == "points" else facts.currency,
        occurred_at=source.at,
        reason=Reason(partial(_explained, target, before, note)),
        source_event_ids=(source.event_id,),
        sequence=sequence,
    )
