"""业绩跟踪 and 配套保障 on the read side: earned commission per team and region by
period, and the incentive budget's accrual against its reserve.

Which period a ledger line counts in (its ``span``, the most specific period it
belongs to) is decided in one place, ``_LINES``:
- a line of a deal counts in that deal's plan month as attainment counts it
  (``deal_credits.month``, in the deal's own UTC offset), so a clawback or a
  forfeiture lands in the period its deal was credited in, not the one it was
  booked in;
- a line of no deal (a period close) counts in the period its inputs name;
- any other line counts in the UTC month of its ``occurred_at``.
A line then counts in its span and in every period that contains it: a month in its
quarter and year, a quarter in its year. A quarterly close line counts in its quarter
and year but in no month.

Every value reaches ClickHouse as a server-side parameter; the SQL is composed only
of this module's constant fragments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from domain.budget import (
    AlertKind,
    BudgetRules,
    BudgetState,
    non_reserve_budget,
    remaining_non_reserve,
)
from domain.money import ZERO
from projections.dimensions import attainment
from projections.store import Store

GroupLevel = Literal["team", "region"]
BudgetStatus = Literal["within", "drawing_reserve", "reserve_exhausted"]

# What the domain accrues against the budget (domain.accrual.ACCRUING_KINDS): money
# earned or awarded, and a payable line's payment-speed premium (its release of
# what was earned is not accrued again); points are not money. Kept as SQL here;
# tests check it against the domain's set.
ACCRUING_KINDS = ("earned", "bonus")

_LINES = """
SELECT l.rep_id AS rep_id, l.kind AS kind, l.plan_id AS plan_id, l.amount AS amount,
       l.premium AS premium, l.currency AS currency,
       c.team_id AS team_at_close, c.rep_region AS region_at_close,
       multiIf(c.month != '', c.month,
               JSONExtractString(l.inputs, 'period') != '',
               JSONExtractString(l.inputs, 'period'),
               formatDateTime(l.occurred_at, '%Y-%m')) AS span
FROM ledger_lines AS l FINAL
LEFT JOIN (SELECT rep_id, deal_id, month, team_id, rep_region FROM deal_credits FINAL)
    AS c
    ON c.rep_id = l.rep_id AND c.deal_id = l.deal_id
"""
# The span is the period asked for, or a month or quarter inside it.
_IN_PERIOD = """(
    span = {period:String}
    OR (length({period:String}) = 4 AND startsWith(span, {period:String}))
    OR (length(span) = 7 AND substring(span, 6, 1) != 'Q'
        AND concat(substring(span, 1, 4), '-Q',
                   toString(intDiv(toInt32OrZero(substring(span, 6, 2)) + 2, 3)))
            = {period:String})
)"""
# S608 below: the SQL is composed of this module's constant fragments only.
_GROUPS = f"""
SELECT if({{level:String}} = 'team',
          if(l.team_at_close != '', l.team_at_close, d.team_id),
          if(l.region_at_close != '', l.region_at_close, d.region)) AS key,
       sum(l.amount) AS commission, l.currency, uniqExact(l.rep_id)
FROM ({_LINES}) AS l
LEFT JOIN (SELECT rep_id, team_id, region FROM rep_directory FINAL) AS d
    ON d.rep_id = l.rep_id
WHERE l.kind = 'earned' AND {_IN_PERIOD} AND key != ''
GROUP BY key, l.currency
ORDER BY commission DESC, key
LIMIT {{limit:UInt32}}
"""  # noqa: S608
_ACCRUED = f"""
SELECT sum(if(kind IN {{kinds:Array(String)}}, amount, 0) + premium) FROM ({_LINES})
WHERE plan_id = {{plan:String}} AND ({{every:Bool}} OR {_IN_PERIOD})
"""  # noqa: S608


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupRank(_Frozen):
    """A team's or a region's place by earned commission in a period."""

    rank: int
    key: str
    commission: Decimal
    currency: str
    reps: int  # reps of the group with earned lines in the period


def group_leaderboard(
    store: Store, level: GroupLevel, period: str, limit: int = 10
) -> list[GroupRank]:
    """Teams or regions ranked by the earned commission (ledger kind ``earned``,
    clawbacks included) of ``period``, highest first, ties by key. A deal's line
    counts for its rep's team and region as of the deal's close (SPEC §9, as
    attainment counts it: ``deal_credits``); a line of no deal, or of a credit
    written before placements were kept, for the rep's as the directory stands
    now. A line placed nowhere counts for no group. Amounts in different
    currencies are ranked as separate rows. A period that is no year, quarter or
    month matches nothing."""
    if level not in get_args(GroupLevel):
        msg = f"level is team or region, not {level!r}"
        raise ValueError(msg)
    if limit < 1:
        msg = f"limit is at least 1, not {limit}"
        raise ValueError(msg)
    rows = store.rows(_GROUPS, {"level": level, "period": period, "limit": limit})
    return [
        GroupRank(
            rank=i, key=key, commission=Decimal(amount), currency=currency, reps=reps
        )
        for i, (key, amount, currency, reps) in enumerate(rows, start=1)
    ]


def team_leaderboard(store: Store, period: str, limit: int = 10) -> list[GroupRank]:
    """Teams ranked by earned commission in ``period`` (``group_leaderboard``)."""
    return group_leaderboard(store, "team", period, limit)


def region_leaderboard(store: Store, period: str, limit: int = 10) -> list[GroupRank]:
    """Regions ranked by earned commission in ``period`` (``group_leaderboard``)."""
    return group_leaderboard(store, "region", period, limit)


class BudgetAccrual(_Frozen):
    """Where a plan's incentive budget stands: accrued against the total, the
    non-reserve limit and the reserve (预留总激励预算的15%作为机动资金)."""

    plan_id: str
    period: str | None
    currency: str
    accrued: Decimal
    total: Decimal
    non_reserve_limit: Decimal
    reserve: Decimal
    remaining_non_reserve: Decimal  # negative by how far the reserve is drawn
    remaining: Decimal  # of the total; negative once beyond it
    status: BudgetStatus
    alert: bool  # accrued is above the non-reserve limit
    alerts: tuple[AlertKind, ...]


def budget_accrual(
    store: Store, rules: BudgetRules, plan_id: str, period: str | None = None
) -> BudgetAccrual:
    """配套保障: what plan ``plan_id`` has accrued, judged against ``rules`` as the
    domain judges it (``domain.budget``). An accrual is the amount of a ledger line
    of kind earned or bonus of the plan, any plan version, clawbacks included, and
    the payment-speed premium of a payable line (SPEC §9). With
    no ``period`` every such line counts, as in the worker's live budget; with a
    period, only the lines that count in it. A limit is passed when the accrual is
    above it; reaching it exactly is not passing it."""
    rows = store.rows(
        _ACCRUED,
        {
            "plan": plan_id,
            "kinds": list(ACCRUING_KINDS),
            "every": period is None,
            "period": period or "",
        },
    )
    accrued = Decimal(rows[0][0])
    limit = non_reserve_budget(rules)
    alerts: list[AlertKind] = []
    if accrued > limit:
        alerts.append("non_reserve_exceeded")
    if accrued > rules.total:
        alerts.append("reserve_exhausted")
    status: BudgetStatus = (
        "reserve_exhausted"
        if accrued > rules.total
        else "drawing_reserve"
        if accrued > limit
        else "within"
    )
    return BudgetAccrual(
        plan_id=plan_id,
        period=period,
        currency=rules.currency,
        accrued=accrued,
        total=rules.total,
        non_reserve_limit=limit,
        reserve=rules.total - limit,
        remaining_non_reserve=remaining_non_reserve(
            BudgetState(accrued=accrued), rules
        ),
        remaining=rules.total - accrued,
        status=status,
        alert=bool(alerts),
        alerts=tuple(alerts),
    )


Measure = Literal["revenue", "attainment", "commission", "points"]
RankLevel = Literal["rep", "team", "region"]

# S608 below: the SQL is composed of this module's constant fragments only.
_EARNED_AND_POINTS = f"""
SELECT multiIf({{level:String}} = 'rep', l.rep_id,
               {{level:String}} = 'team', d.team_id, d.region) AS key,
       sumIf(l.amount, l.kind = 'earned') AS commission,
       sumIf(l.amount, l.kind = 'points') AS points
FROM ({_LINES}) AS l
LEFT JOIN (SELECT rep_id, team_id, region FROM rep_directory FINAL) AS d
    ON d.rep_id = l.rep_id
WHERE {_IN_PERIOD} AND key != ''
GROUP BY key
"""  # noqa: S608


class Ranked(_Frozen):
    """A rep's, team's or region's place in a period by the chosen measure, with
    every measure shown (SPEC §7, §9: leaderboards rank by a chosen measure)."""

    rank: int
    key: str
    revenue: Decimal
    target: Decimal | None
    attainment: Decimal | None  # credited revenue / target
    commission: Decimal  # earned lines, clawbacks included
    points: Decimal


def ranking(
    store: Store, level: RankLevel, period: str, measure: Measure, limit: int = 10
) -> list[Ranked]:
    """Reps, teams or regions of ``period`` ranked by ``measure``, highest first,
    ties by key; by attainment, those without a target come last. Revenue and
    attainment are ``projections.dimensions.attainment``'s; commission and points
    count the ledger lines of the period as ``group_leaderboard`` does."""
    if level not in get_args(RankLevel) or measure not in get_args(Measure):
        msg = f"level is rep, team or region and measure one of {get_args(Measure)}"
        raise ValueError(msg)
    rows: dict[str, dict[str, object]] = {}
    for found in attainment(store, level, period):
        rows[found.key] = {
            "revenue": found.revenue,
            "target": found.target,
            "attainment": found.attainment,
        }
    money = store.rows(_EARNED_AND_POINTS, {"level": level, "period": period})
    for key, commission, points in money:
        row = rows.setdefault(
            key, {"revenue": ZERO, "target": None, "attainment": None}
        )
        row["commission"], row["points"] = Decimal(commission), Decimal(points)
    entries = [
        {"key": key, "commission": ZERO, "points": ZERO, **row}
        for key, row in rows.items()
    ]

    def order(entry: dict[str, object]) -> tuple[bool, Decimal, str]:
        value = entry[measure]
        known = isinstance(value, Decimal)
        return (not known, -value if isinstance(value, Decimal) else ZERO,
                str(entry["key"]))  # fmt: skip

    entries.sort(key=order)
    return [
        Ranked.model_validate({"rank": n, **entry})
        for n, entry in enumerate(entries[:limit], start=1)
    ]
