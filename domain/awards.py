"""Bonuses and awards (SPEC §3) computed when a period closes, from its facts.

Every rule is a pure, table-driven function of the closing period's facts and its plan
section; an absent section (``None``) switches the rule off. Amounts are rounded
half-even to the cent per line and a line worth 0.00 is not emitted. Attainment is a
ratio (1 = 100% of target); bands are *step* bands: the value's one band applies to
the whole base, unlike the marginal commission bands.

``period_awards`` runs the rules whose cadence matches the closing period, always in
this order, so the same facts give the same output, line for line:

1. 基础绩效奖金 per sales rep (a team lead gets the leader line when the leader
   coefficient is configured), by ``rep_id``;
2. support bonus, by ``rep_id``;
3. 团队捆绑激励, by ``team_id`` then ``rep_id``;
4. the cross-functional pool, by nominee;
5. 黑马新人, by ``rep_id``;
6. long service (year close only), by ``rep_id``;
7. 年度销售冠军 (year close only), by rank;
8. innovation awards of the proposals dated to the period, by ``proposal_id``.

Promotion candidates (破格晋升, quarter close only) come by ``rep_id``; what was
withheld, and why, comes in rule order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from domain.events import Role
from domain.money import ZERO, CurrencyCode, percent, to_cents
from domain.money import format_money as money

Cadence = Literal["month", "quarter", "year"]
AwardRule = Literal[
    "base_performance_bonus",
    "leader_bonus",
    "support_bonus",
    "team_pool",
    "cross_functional_pool",
    "dark_horse",
    "long_service",
    "annual_champion",
    "innovation_award",
]
Inputs = tuple[tuple[str, str], ...]
SALES_ROLES: tuple[Role, ...] = ("account_manager", "team_lead")
_PERIOD = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"


class AwardError(ValueError):
    """Period facts that cannot be awarded consistently; the message says why."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepBand(_Frozen):
    """A value in ``[lower, upper)`` (no upper: open) takes ``factor`` on the whole."""

    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    factor: Decimal = Field(ge=0)


def _step_table(bands: tuple[StepBand, ...]) -> tuple[StepBand, ...]:
    # Starting at 0, touching and ending open: every value ≥ 0 is in exactly one band.
    touching = all(a.upper == b.lower for a, b in pairwise(bands))
    rising = all(b.upper is None or b.upper > b.lower for b in bands)
    if not bands or bands[0].lower != 0 or bands[-1].upper is not None:
        msg = "step bands must start at 0 and end open-ended (no upper)"
        raise ValueError(msg)
    if not (touching and rising):
        msg = "step bands must be contiguous, each upper above its lower"
        raise ValueError(msg)
    return bands


StepBands = Annotated[tuple[StepBand, ...], AfterValidator(_step_table)]
NonNegative = Annotated[Decimal, Field(ge=0)]
GradeBases = Mapping[str, NonNegative]


class BasePerformanceBonus(_Frozen):
    """基础绩效奖金: ``base_by_grade`` × the share of the attainment's step band."""

    cadence: Cadence
    base_by_grade: GradeBases
    bands: StepBands


class TeamPool(_Frozen):
    """团队捆绑激励: attainment above ``team_above`` funds ``funding_rate`` × excess."""

    cadence: Cadence
    team_above: Decimal = Field(gt=0)
    funding_rate: Decimal = Field(ge=0, le=1)
    member_at_least: Decimal = Field(gt=0)


class LeaderCoefficient(_Frozen):
    """Team leader coefficient: step bands over the team's attainment."""

    bands: StepBands


class SupportBonus(_Frozen):
    """Support staff: ``base_by_grade`` × the factor of the satisfaction band."""

    cadence: Cadence
    base_by_grade: GradeBases
    bands: StepBands


class CrossFunctionalPool(_Frozen):
    """Cross-functional pool ``pool_id``: ``amount`` per period, unlocked by sales."""

    cadence: Cadence
    pool_id: str = Field(min_length=1)
    amount: Decimal = Field(ge=0)


class ChampionAward(_Frozen):
    """年度销售冠军: ``amounts[0]`` for rank 1, ``amounts[1]`` for rank 2, ..."""

    amounts: tuple[NonNegative, ...] = Field(min_length=1)


class DarkHorseAward(_Frozen):
    """黑马新人: tenure under ``tenure_under_years``, growth above ``growth_above``."""

    cadence: Cadence
    tenure_under_years: int = Field(ge=1)
    growth_above: Decimal = Field(ge=0)
    amount: Decimal = Field(ge=0)


class LongServiceTier(_Frozen):
    years: int = Field(ge=1)
    amount: Decimal = Field(ge=0)


class LongServiceAward(_Frozen):
    """Long service: the highest tier whose ``years`` the target-met streak reaches."""

    tiers: tuple[LongServiceTier, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _rising(self) -> Self:
        if any(a.years >= b.years for a, b in pairwise(self.tiers)):
            msg = "long service tiers must list strictly increasing years"
            raise ValueError(msg)
        return self


class PromotionSignal(_Frozen):
    """破格晋升: ``quarters`` quarters above ``attainment_above``, mentees passed."""

    quarters: int = Field(ge=1)
    attainment_above: Decimal = Field(ge=0)
    mentees_passed: int = Field(ge=0)


class InnovationAward(_Frozen):
    """Innovation award: ``share_of_uplift`` of an adopted proposal's uplift."""

    share_of_uplift: Decimal = Field(ge=0, le=1)


class AwardRules(_Frozen):
    """The plan's period awards; an absent section is switched off."""

    base_performance: BasePerformanceBonus | None = None
    team_pool: TeamPool | None = None
    leader_coefficient: LeaderCoefficient | None = None
    support: SupportBonus | None = None
    cross_functional: CrossFunctionalPool | None = None
    champion: ChampionAward | None = None
    dark_horse: DarkHorseAward | None = None
    long_service: LongServiceAward | None = None
    promotion: PromotionSignal | None = None
    innovation: InnovationAward | None = None

    @model_validator(mode="after")
    def _leader_needs_base(self) -> Self:
        if self.leader_coefficient is not None and self.base_performance is None:
            msg = "leader_coefficient multiplies base_performance, which is missing"
            raise ValueError(msg)
        return self


class RepPeriodFacts(_Frozen):
    """One rep's facts for the closing period (revenue is the period's credited)."""

    rep_id: str = Field(min_length=1)
    team_id: str = Field(min_length=1)
    role: Role
    grade: str
    hired_at: AwareDatetime
    revenue: Decimal = Field(ge=0)
    target: Decimal = Field(default=ZERO, ge=0)
    previous_revenue: Decimal = Field(default=ZERO, ge=0)
    quarterly_attainments: tuple[NonNegative, ...] = ()
    years_target_met_streak: int = Field(default=0, ge=0)
    mentees_passed: int = Field(default=0, ge=0)
    service_satisfaction: Decimal | None = Field(default=None, ge=0, le=100)
    reached_revenue_at: AwareDatetime | None = None
    # The revenue by the team the rep sat in at each deal's close (SPEC §9): what
    # the teams' attainment counts; none given, all of it is ``team_id``'s.
    team_revenue: tuple[tuple[str, NonNegative], ...] = ()

    @property
    def attainment(self) -> Decimal | None:
        """Revenue / target, unrounded; no target, no attainment."""
        return self.revenue / self.target if self.target > 0 else None


class TeamPeriodFacts(_Frozen):
    team_id: str = Field(min_length=1)
    revenue: Decimal = Field(ge=0)
    target: Decimal = Field(gt=0)

    @property
    def attainment(self) -> Decimal:
        return self.revenue / self.target


class Nomination(_Frozen):
    """A ``NominationMade``: ``nominated_by`` nominates ``nominee_id`` for ``pool``."""

    nomination_id: str
    nominee_id: str
    nominated_by: str
    pool: str
    period: str = Field(pattern=_PERIOD)


class InnovationProposal(_Frozen):
    proposal_id: str = Field(min_length=1)
    rep_id: str = Field(min_length=1)
    period: str = Field(pattern=_PERIOD)
    measured_uplift: Decimal = Field(ge=0)
    adopted: bool
    approved_by: str | None = Field(default=None, min_length=1)


class ClosedPeriod(_Frozen):
    """The period being closed and its end (exclusive: the next period's start)."""

    period: str = Field(pattern=_PERIOD)
    ends_at: AwareDatetime

    @property
    def cadence(self) -> Cadence:
        if "-Q" in self.period:
            return "quarter"
        return "month" if "-" in self.period else "year"


class AwardLine(_Frozen):
    """An award amount with the explanation a rep sees; ``key`` is unique per rep."""

    rep_id: str
    rule: AwardRule
    key: str
    amount: Decimal
    currency: CurrencyCode
    formula: str
    inputs: Inputs


class PromotionCandidate(_Frozen):
    """破格晋升: a signal for HR, no money."""

    rep_id: str
    formula: str
    inputs: Inputs


class Withheld(_Frozen):
    """A rule that paid nothing although it was asked to, and why."""

    rule: AwardRule
    rep_id: str | None
    reason: str


class PeriodAwards(_Frozen):
    lines: tuple[AwardLine, ...] = ()
    candidates: tuple[PromotionCandidate, ...] = ()
    withheld: tuple[Withheld, ...] = ()


def _ratio(value: Decimal) -> str:
    return f"{to_cents(value * 100)}%"


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _band(value: Decimal, bands: Sequence[StepBand]) -> StepBand:
    return next(b for b in bands if b.upper is None or value < b.upper)


def _edges(band: StepBand, show: Callable[[Decimal], str]) -> str:
    return f"{show(band.lower)}–{'∞' if band.upper is None else show(band.upper)}"


def _line(
    rep_id: str,
    rule: AwardRule,
    amount: Decimal,
    currency: str,
    formula: str,
    inputs: Mapping[str, object],
    of: str = "",
) -> AwardLine | None:
    """The line for ``amount`` rounded to cents; nothing when that is 0.00."""
    cents = to_cents(amount)
    if cents == ZERO:
        return None
    return AwardLine(
        rep_id=rep_id,
        rule=rule,
        key=f"award/{rule}/{of}" if of else f"award/{rule}",
        amount=cents,
        currency=currency,
        formula=f"{formula} = {money(cents)}",
        inputs=tuple((k, "" if v is None else str(v)) for k, v in inputs.items()),
    )


def _kept(lines: Iterable[AwardLine | None]) -> tuple[AwardLine, ...]:
    return tuple(line for line in lines if line is not None)


def base_performance_bonus(
    facts: RepPeriodFacts, rule: BasePerformanceBonus, currency: str
) -> AwardLine | None:
    """基础绩效奖金: the grade's base × the share of the rep's attainment step band.

    Sales roles only (support has its own bonus); a grade without a base in the plan
    or a rep without a target earns nothing here.
    """
    return _base_bonus(facts, rule, currency, None)


def leader_bonus(
    facts: RepPeriodFacts,
    team: TeamPeriodFacts,
    base: BasePerformanceBonus,
    coefficient: LeaderCoefficient,
    currency: str,
) -> AwardLine | None:
    """Team leader coefficient: the leader's 基础绩效奖金 (by the leader's own
    attainment) × the coefficient of the team attainment's step band."""
    return _base_bonus(facts, base, currency, (team, coefficient))


def _base_bonus(
    facts: RepPeriodFacts,
    rule: BasePerformanceBonus,
    currency: str,
    leader: tuple[TeamPeriodFacts, LeaderCoefficient] | None,
) -> AwardLine | None:
    base, attainment = rule.base_by_grade.get(facts.grade), facts.attainment
    if facts.role not in SALES_ROLES or base is None or attainment is None:
        return None
    band = _band(attainment, rule.bands)
    formula = f"base {money(base)} × {percent(band.factor)} (attainment "
    formula += f"{_ratio(attainment)} in band {_edges(band, percent)})"
    inputs = {"grade": facts.grade, "base": base, "attainment": attainment}
    inputs["share"] = band.factor
    if leader is None:
        amount = base * band.factor
        return _line(
            facts.rep_id, "base_performance_bonus", amount, currency, formula, inputs
        )
    team, coefficient = leader
    step = _band(team.attainment, coefficient.bands)
    formula += f" × {_plain(step.factor)} (team {team.team_id} attainment "
    formula += f"{_ratio(team.attainment)} in band {_edges(step, percent)})"
    inputs |= {"team_attainment": team.attainment, "coefficient": step.factor}
    amount = base * band.factor * step.factor
    return _line(facts.rep_id, "leader_bonus", amount, currency, formula, inputs)


def support_bonus(
    facts: RepPeriodFacts, rule: SupportBonus, currency: str
) -> AwardLine | None:
    """Support staff bonus: the grade's base × the factor of the rep's service
    satisfaction band (score 0-100). Support roles only; no score, no bonus."""
    base, score = rule.base_by_grade.get(facts.grade), facts.service_satisfaction
    if facts.role != "support" or base is None or score is None:
        return None
    band = _band(score, rule.bands)
    formula = f"base {money(base)} × {_plain(band.factor)} (service satisfaction "
    formula += f"{_plain(score)} in band {_edges(band, _plain)})"
    inputs = {"grade": facts.grade, "base": base, "service_satisfaction": score}
    inputs["factor"] = band.factor
    amount = base * band.factor
    return _line(facts.rep_id, "support_bonus", amount, currency, formula, inputs)


def team_pool(
    team: TeamPeriodFacts,
    members: Iterable[RepPeriodFacts],
    rule: TeamPool,
    currency: str,
) -> tuple[AwardLine, ...]:
    """团队捆绑激励: a team whose attainment is above ``team_above`` funds a pool of
    ``funding_rate`` × its whole revenue above target (100%), rounded to the cent.

    The pool is split by contribution share (the member's revenue / the revenue of
    the sharing members), only among the team's members, of any role, team lead
    included, whose own attainment is at least ``member_at_least`` (个人贡献达标).
    Each share is rounded on its own, so the shares add up to the pool within half a
    cent per member; with nobody sharing, nothing is paid.
    """
    if team.attainment <= rule.team_above:
        return ()
    excess = team.revenue - team.target
    pool = to_cents(rule.funding_rate * excess)
    floor = rule.member_at_least
    sharing = [m for m in members if m.team_id == team.team_id and _meets(m, floor)]
    total = sum((m.revenue for m in sharing), ZERO)
    head = f"team {team.team_id} pool {money(pool)} ({percent(rule.funding_rate)} of "
    head += f"{money(excess)} above target, team attainment "
    head += f"{_ratio(team.attainment)} above {_ratio(rule.team_above)}) × "
    tail = f" of {money(total)} from members at or above {_ratio(floor)} attainment)"
    lines = []
    for member in sorted(sharing, key=lambda m: m.rep_id):
        share = member.revenue / total
        formula = f"{head}{_ratio(share)} contribution ({money(member.revenue)}{tail}"
        inputs = {"team_attainment": team.attainment, "pool": pool}
        inputs |= {"revenue": member.revenue, "sharing_revenue": total}
        line = _line(
            member.rep_id,
            "team_pool",
            pool * share,
            currency,
            formula,
            inputs,
            team.team_id,
        )
        lines.append(line)
    return _kept(lines)


def _meets(facts: RepPeriodFacts, floor: Decimal) -> bool:
    return facts.attainment is not None and facts.attainment >= floor


def cross_functional_pool(
    period: str,
    nominations: Iterable[Nomination],
    reps: Iterable[RepPeriodFacts],
    rule: CrossFunctionalPool,
    currency: str,
) -> tuple[AwardLine, ...] | Withheld:
    """Cross-functional pool: unlocked only by a nomination from sales
    (需销售部门提名方可解锁).

    A nomination counts when it names this pool and ``period`` and its nominator is a
    sales rep or team lead among ``reps`` other than the nominee. The pool's
    ``amount`` is shared equally by the distinct nominees. Without a counting
    nomination nothing is paid, and the ``Withheld`` result says why.
    """
    sales = {r.rep_id for r in reps if r.role in SALES_ROLES}
    mine = [n for n in nominations if n.pool == rule.pool_id and n.period == period]
    by: dict[str, list[Nomination]] = {}
    for n in mine:
        if n.nominated_by in sales and n.nominated_by != n.nominee_id:
            by.setdefault(n.nominee_id, []).append(n)
    if not by:
        reason = f"pool {rule.pool_id} for {period} not unlocked: no nomination from "
        reason += f"sales (需销售部门提名方可解锁); {len(mine)} other nomination(s)"
        return Withheld(rule="cross_functional_pool", rep_id=None, reason=reason)
    each, lines = rule.amount / len(by), []
    for nominee in sorted(by):
        names = ", ".join(sorted({n.nominated_by for n in by[nominee]}))
        formula = f"pool {rule.pool_id} {money(rule.amount)} shared by {len(by)} "
        formula += f"nominee(s) (nominated by {names})"
        inputs = {"pool": rule.amount, "nominees": len(by), "nominated_by": names}
        inputs["nominations"] = ",".join(sorted(n.nomination_id for n in by[nominee]))
        line = _line(
            nominee,
            "cross_functional_pool",
            each,
            currency,
            formula,
            inputs,
            rule.pool_id,
        )
        lines.append(line)
    return _kept(lines)


def _champion_order(facts: RepPeriodFacts) -> tuple[Decimal, bool, datetime, str]:
    reached = facts.reached_revenue_at
    never = datetime.max.replace(tzinfo=UTC)
    return -facts.revenue, reached is None, reached or never, facts.rep_id


def champions(
    facts: Iterable[RepPeriodFacts], rule: ChampionAward, currency: str
) -> tuple[AwardLine, ...]:
    """年度销售冠军: the top ``len(amounts)`` reps by the year's revenue, rank 1 first.

    Ties are broken, in this order, by: higher revenue; the earlier moment the rep
    reached that revenue (``reached_revenue_at``; unknown counts as latest);
    ``rep_id`` ascending. Ranks are never shared. Reps without revenue are not ranked.
    """
    ranked = sorted((f for f in facts if f.revenue > 0), key=_champion_order)
    lines = []
    for rank, (rep, amount) in enumerate(zip(ranked, rule.amounts, strict=False), 1):
        formula = f"rank {rank} by revenue {money(rep.revenue)} (ties: higher revenue, "
        formula += f"then earlier time reaching it, then rep id): award {money(amount)}"
        inputs = {"rank": rank, "revenue": rep.revenue}
        reached = rep.reached_revenue_at
        inputs["reached_revenue_at"] = reached.isoformat() if reached else None
        line = _line(rep.rep_id, "annual_champion", amount, currency, formula, inputs)
        lines.append(line)
    return _kept(lines)


def _years_after(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year + years)
    except ValueError:  # 29 February: the anniversary falls on 1 March
        return at.replace(year=at.year + years, month=3, day=1)


def dark_horse(
    facts: RepPeriodFacts, rule: DarkHorseAward, period_end: datetime, currency: str
) -> AwardLine | None:
    """黑马新人: tenure under ``tenure_under_years`` at ``period_end`` and revenue
    growth above ``growth_above``, growth = (revenue - previous revenue) / previous
    revenue. A rep without revenue in the previous period has no growth: not eligible.
    """
    anniversary = _years_after(facts.hired_at, rule.tenure_under_years)
    previous = facts.previous_revenue
    if period_end >= anniversary or previous == ZERO:
        return None
    growth = (facts.revenue - previous) / previous
    if growth <= rule.growth_above:
        return None
    formula = f"dark horse: hired {facts.hired_at.date()} (under "
    formula += f"{rule.tenure_under_years} year(s)), revenue {money(facts.revenue)} vs "
    formula += f"{money(previous)}: growth {_ratio(growth)} above "
    formula += f"{_ratio(rule.growth_above)}: award {money(rule.amount)}"
    inputs = {"hired_at": facts.hired_at.isoformat(), "revenue": facts.revenue}
    inputs |= {"previous_revenue": previous, "growth": growth}
    return _line(facts.rep_id, "dark_horse", rule.amount, currency, formula, inputs)


def long_service(
    facts: RepPeriodFacts, rule: LongServiceAward, currency: str
) -> AwardLine | None:
    """Long service: targets met in consecutive years (the streak includes the closing
    year) → the year-end bonus of the highest tier the streak reaches."""
    streak = facts.years_target_met_streak
    reached = [t for t in rule.tiers if streak >= t.years]
    if not reached:
        return None
    tier = reached[-1]
    formula = f"targets met {streak} consecutive years (tier {tier.years}+ years): "
    formula += f"award {money(tier.amount)}"
    inputs = {"streak_years": streak, "tier_years": tier.years}
    return _line(facts.rep_id, "long_service", tier.amount, currency, formula, inputs)


def promotion_signal(
    facts: RepPeriodFacts, rule: PromotionSignal
) -> PromotionCandidate | None:
    """破格晋升: the latest ``quarters`` quarters (oldest first, the closing quarter
    last) each above ``attainment_above``, and at least ``mentees_passed`` mentees who
    passed. A signal for HR, no money."""
    recent = facts.quarterly_attainments[-rule.quarters :]
    if (
        len(recent) < rule.quarters
        or any(a <= rule.attainment_above for a in recent)
        or facts.mentees_passed < rule.mentees_passed
    ):
        return None
    formula = f"last {rule.quarters} quarter(s) {', '.join(map(_ratio, recent))} all "
    formula += f"above {_ratio(rule.attainment_above)}, {facts.mentees_passed} "
    formula += f"mentee(s) passed (needs {rule.mentees_passed})"
    inputs = (
        ("quarterly_attainments", ",".join(map(str, recent))),
        ("mentees_passed", str(facts.mentees_passed)),
    )
    return PromotionCandidate(rep_id=facts.rep_id, formula=formula, inputs=inputs)


def innovation_award(
    proposal: InnovationProposal, rule: InnovationAward, currency: str
) -> AwardLine | Withheld | None:
    """Innovation award: ``share_of_uplift`` (plan: 5%) of the measured uplift of an
    adopted proposal, a manual award paid only once an approver is named."""
    who, uplift = proposal.proposal_id, proposal.measured_uplift
    if not proposal.adopted or proposal.approved_by is None:
        why = "awaiting manual approval" if proposal.adopted else "not adopted"
        reason = f"innovation proposal {who}: {why}"
        return Withheld(rule="innovation_award", rep_id=proposal.rep_id, reason=reason)
    formula = f"{percent(rule.share_of_uplift)} of measured uplift {money(uplift)} "
    formula += f"(proposal {who}, approved by {proposal.approved_by})"
    inputs = {"measured_uplift": uplift, "approved_by": proposal.approved_by}
    amount = rule.share_of_uplift * uplift
    return _line(
        proposal.rep_id, "innovation_award", amount, currency, formula, inputs, who
    )


def _check_unique(name: str, ids: list[str]) -> None:
    twice = sorted(i for i, n in Counter(ids).items() if n > 1)
    if twice:
        msg = f"{name} facts given more than once: {', '.join(twice)}"
        raise AwardError(msg)


def _bonuses(
    kind: Cadence,
    people: list[RepPeriodFacts],
    by_team: Mapping[str, TeamPeriodFacts],
    rules: AwardRules,
    currency: str,
) -> list[AwardLine | Withheld | None]:
    """基础绩效奖金 (or the leader's line), then the support bonus, rep by rep."""
    lines: list[AwardLine | Withheld | None] = []
    base, coefficient = rules.base_performance, rules.leader_coefficient
    support = rules.support
    if base is not None and base.cadence == kind:
        for rep in people:
            if rep.role != "team_lead" or coefficient is None:
                lines.append(base_performance_bonus(rep, base, currency))
            elif rep.team_id in by_team:
                team = by_team[rep.team_id]
                lines.append(leader_bonus(rep, team, base, coefficient, currency))
            else:  # one lead's missing team target does not stop everyone's awards
                why = f"team lead {rep.rep_id}: no target for team {rep.team_id}"
                why += " in the period, so no coefficient to weigh the bonus by"
                lines.append(
                    Withheld(rule="leader_bonus", rep_id=rep.rep_id, reason=why)
                )
    if support is not None and support.cadence == kind:
        lines += (support_bonus(rep, support, currency) for rep in people)
    return lines


def period_awards(
    period: ClosedPeriod,
    reps: Iterable[RepPeriodFacts],
    teams: Iterable[TeamPeriodFacts],
    rules: AwardRules,
    currency: str,
    *,
    nominations: Iterable[Nomination] = (),
    proposals: Iterable[InnovationProposal] = (),
) -> PeriodAwards:
    """Every award of SPEC §3 that falls due when ``period`` closes, in the fixed
    order of this module's docstring.

    Sections with a ``cadence`` run at the close of a period of that kind; champion
    and long service at a year's close; the promotion signal at a quarter's close; an
    innovation proposal at the close of its own ``period``.
    """
    people = sorted(reps, key=lambda r: r.rep_id)
    team_facts = sorted(teams, key=lambda t: t.team_id)
    _check_unique("rep", [r.rep_id for r in people])
    _check_unique("team", [t.team_id for t in team_facts])
    kind = period.cadence
    found = _bonuses(kind, people, {t.team_id: t for t in team_facts}, rules, currency)
    if rules.team_pool is not None and rules.team_pool.cadence == kind:
        for team in team_facts:
            found += team_pool(team, people, rules.team_pool, currency)
    pool, horse = rules.cross_functional, rules.dark_horse
    if pool is not None and pool.cadence == kind:
        shared = cross_functional_pool(
            period.period, nominations, people, pool, currency
        )
        found += [shared] if isinstance(shared, Withheld) else shared
    if horse is not None and horse.cadence == kind:
        found += (dark_horse(r, horse, period.ends_at, currency) for r in people)
    if kind == "year" and rules.long_service is not None:
        found += (long_service(r, rules.long_service, currency) for r in people)
    if kind == "year" and rules.champion is not None:
        found += champions(people, rules.champion, currency)
    if rules.innovation is not None:
        due = [p for p in proposals if p.period == period.period]
        due.sort(key=lambda p: p.proposal_id)
        found += (innovation_award(p, rules.innovation, currency) for p in due)
    candidates: list[PromotionCandidate | None] = []
    if kind == "quarter" and rules.promotion is not None:
        candidates += (promotion_signal(r, rules.promotion) for r in people)
    return PeriodAwards(
        lines=tuple(f for f in found if isinstance(f, AwardLine)),
        candidates=tuple(c for c in candidates if c is not None),
        withheld=tuple(f for f in found if isinstance(f, Withheld)),
    )
