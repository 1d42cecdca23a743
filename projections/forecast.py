"""业绩跟踪 偏差预警: a run-rate forecast per rep or team, against its target.

The forecast of a node for a period at ``as_of`` is its credited revenue so far
divided by the share of the period elapsed at ``as_of``: what the period ends at if
the pace so far holds. It alerts when that falls short of the node's target.

- Revenue so far is what attainment counts (``deal_credits`` of the period, not
  cancelled, as the credits stand now), of the deals closed at or before ``as_of``.
  A team's is its members' as the rep directory stands now.
- The period runs from its first moment to the first moment after it, both in
  ``as_of``'s UTC offset: pass ``as_of`` in the plan's offset (a deal's periods are
  in the deal's own offset).
- Before the period starts nothing has elapsed: no forecast, no alert. From its end
  on the whole period has elapsed, and the forecast is the revenue itself.
- A node without a target for the period has no shortfall and never alerts; a node
  with a target and no revenue yet forecasts zero and alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from domain.money import ZERO, to_cents
from domain.periods import period_end, previous_period
from domain.targets import valid_period
from projections.store import Store

ForecastLevel = Literal["rep", "team"]

_FORECAST = """
SELECT key, sum(revenue), max(target), max(has_target)
FROM (
    SELECT if({level:String} = 'rep', c.rep_id, d.team_id) AS key,
           c.credited AS revenue, CAST(0 AS Decimal(18, 2)) AS target,
           0 AS has_target
    FROM deal_credits AS c FINAL
    LEFT JOIN (SELECT rep_id, team_id FROM rep_directory FINAL) AS d
        ON d.rep_id = c.rep_id
    WHERE (c.year = {period:String} OR c.quarter = {period:String}
           OR c.month = {period:String})
      AND NOT c.cancelled
      AND toUnixTimestamp64Milli(c.closed_at) <= {as_of:Int64}
    UNION ALL
    SELECT node_id, CAST(0 AS Decimal(18, 2)), amount, 1
    FROM targets FINAL
    WHERE period = {period:String} AND level = {level:String}
)
WHERE key != '' AND (isNull({key:Nullable(String)}) OR key = {key:Nullable(String)})
GROUP BY key
ORDER BY key
"""


class Forecast(BaseModel):
    """One node's run-rate forecast for a period, and how it compares with target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    period: str
    revenue: Decimal  # credited so far
    elapsed: Decimal  # share of the period elapsed at as_of, 0 to 1
    forecast: Decimal | None  # None before the period starts
    target: Decimal | None
    shortfall: Decimal | None  # target - forecast if short, else 0 (None: no target)
    alert: bool


def elapsed_share(period: str, as_of: datetime) -> Decimal:
    """The share of ``period`` elapsed at ``as_of`` (in ``as_of``'s offset), from 0
    before it starts to 1 from its end on."""
    start = period_end(previous_period(period), as_of)
    end = period_end(period, as_of)
    done = min(max(as_of - start, timedelta(0)), end - start)
    tick = timedelta(microseconds=1)
    return Decimal(done // tick) / Decimal((end - start) // tick)


def forecast(
    store: Store,
    level: ForecastLevel,
    period: str,
    as_of: datetime,
    key: str | None = None,
) -> list[Forecast]:
    """Run-rate forecast of every rep or team (or only ``key``) with revenue so far
    or a target in ``period``, by key. ``period`` must be a year, quarter or month
    (``TargetError``, a ``ValueError``, otherwise) and ``as_of`` timezone-aware."""
    if level not in get_args(ForecastLevel):
        msg = f"level is rep or team, not {level!r}"
        raise ValueError(msg)
    valid_period(period)
    if as_of.tzinfo is None:
        msg = "as_of must carry its UTC offset"
        raise ValueError(msg)
    share = elapsed_share(period, as_of)
    as_of_ms = (as_of - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    rows = store.rows(
        _FORECAST,
        {"level": level, "period": period, "as_of": as_of_ms, "key": key},
    )
    return [
        _judged(node, period, Decimal(revenue), Decimal(goal) if has else None, share)
        for node, revenue, goal, has in rows
    ]


def _judged(
    key: str, period: str, revenue: Decimal, target: Decimal | None, share: Decimal
) -> Forecast:
    projected = to_cents(revenue / share) if share > ZERO else None
    shortfall = None
    if projected is not None and target is not None:
        shortfall = max(target - projected, ZERO)
    return Forecast(
        key=key,
        period=period,
        revenue=revenue,
        elapsed=share,
        forecast=projected,
        target=target,
        shortfall=shortfall,
        alert=bool(shortfall),
    )
