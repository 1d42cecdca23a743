"""积分制 on the read side: each rep's points balance, and what was redeemed.

Points are the ledger lines of kind ``points`` (every point has one). A redemption is
a points line with the rule ``points_redemption`` and a negative amount (the domain's
``redeem_points``, booked through ``points_draft``, which prefixes ``points_``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from projections.store import Store

REDEMPTION_RULE = "points_redemption"

_BALANCES = """
SELECT rep_id,
       sumIf(amount, rule != {redemption:String}) AS earned,
       -sumIf(amount, rule = {redemption:String}) AS redeemed,
       sum(amount) AS balance
FROM ledger_lines FINAL
WHERE kind = 'points'
  AND (isNull({rep:Nullable(String)}) OR rep_id = {rep:Nullable(String)})
GROUP BY rep_id
ORDER BY rep_id
"""
_REDEMPTIONS = """
SELECT line_id, occurred_at, -amount, formula, source_event_ids
FROM ledger_lines FINAL
WHERE rep_id = {rep:String} AND kind = 'points' AND rule = {redemption:String}
ORDER BY occurred_at, version
"""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PointsBalance(_Frozen):
    """A rep's points: earned (net of deductions and clawbacks), redeemed, and the
    balance the domain checks a redemption against (earned - redeemed)."""

    rep_id: str
    earned: Decimal
    redeemed: Decimal
    balance: Decimal


class Redemption(_Frozen):
    """One redemption: when, how many points (positive), for what."""

    line_id: str
    redeemed_at: AwareDatetime
    points: Decimal
    formula: str  # "redeemed 50 points for <reward>"
    source_event_ids: tuple[str, ...]


def points_balances(store: Store, rep_id: str | None = None) -> list[PointsBalance]:
    """Every rep's points balance by rep id, or only ``rep_id``'s (an empty list if
    that rep has no points lines)."""
    rows = store.rows(_BALANCES, {"rep": rep_id, "redemption": REDEMPTION_RULE})
    return [
        PointsBalance(
            rep_id=rep,
            earned=Decimal(earned),
            redeemed=Decimal(redeemed),
            balance=Decimal(balance),
        )
        for rep, earned, redeemed, balance in rows
    ]


def redemptions(store: Store, rep_id: str) -> list[Redemption]:
    """积分兑换: the rep's redemptions, oldest first."""
    rows = store.rows(_REDEMPTIONS, {"rep": rep_id, "redemption": REDEMPTION_RULE})
    return [
        Redemption(
            line_id=line_id,
            redeemed_at=_aware(at),
            points=Decimal(points),
            formula=formula,
            source_event_ids=tuple(sources),
        )
        for line_id, at, points, formula, sources in rows
    ]


def _aware(at: datetime) -> datetime:
    """clickhouse-connect returns a ``DateTime64(3, 'UTC')`` value naive; it is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
