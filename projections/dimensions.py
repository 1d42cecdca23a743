"""Deal credits, the rep directory and the target tree in ClickHouse, and what is
read from them: attainment per rep, team, region and product line by period, and the
region × product-line heatmap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from domain.credits import LEVELS, DealCredit
from domain.targets import TargetChange, TargetNode
from domain.world import Person
from projections.heatcells import HeatSum
from projections.store import Store
from projections.writer import Span, insert

Level = Literal["rep", "team", "region", "product_line"]

_CREDIT_COLUMNS = (
    "rep_id", "deal_id", "customer_id", "product_line", "region", "closed_at", "year",
    "quarter", "month", "credited", "margin", "cancelled", "team_id", "rep_region",
    "version",
)  # fmt: skip
_PERSON_COLUMNS = (
    "rep_id", "team_id", "region", "role", "grade", "hired_at", "left_at", "version",
)  # fmt: skip
_TARGET_COLUMNS = (
    "node_id", "period", "level", "parent_id", "amount", "currency", "version",
)  # fmt: skip


def write_dimensions(
    store: Store,
    credits: Sequence[tuple[int, DealCredit]],
    people: Sequence[tuple[int, Person]],
    targets: Sequence[tuple[int, TargetNode]],
    source: Sequence[Span] = (),
    changes: Sequence[tuple[int, TargetChange]] = (),
) -> None:
    """Each row with the version (rep-topic offset) it was produced at."""
    change_rows = [_change(v, c) for v, c in changes]
    insert(store, "target_changes", change_rows, _CHANGE_COLUMNS, source)
    credit_rows = [_credit(v, c) for v, c in credits]
    insert(store, "deal_credits", credit_rows, _CREDIT_COLUMNS, source)
    people_rows = [_person(v, p) for v, p in people]
    insert(store, "rep_directory", people_rows, _PERSON_COLUMNS, source)
    target_rows = [_target(v, t) for v, t in targets]
    insert(store, "targets", target_rows, _TARGET_COLUMNS, source)


def _credit(version: int, c: DealCredit) -> list[Any]:
    return [
        c.rep_id, c.deal_id, c.customer_id, c.product_line, c.region,
        c.closed_at.astimezone(UTC), c.year, c.quarter, c.month, c.credited,
        c.margin, c.cancelled, c.team_id, c.rep_region, version,
    ]  # fmt: skip


def _person(version: int, p: Person) -> list[Any]:
    left = p.left_at.astimezone(UTC) if p.left_at is not None else None
    return [
        p.rep_id, p.team_id, p.region, p.role, p.grade, p.hired_at.astimezone(UTC),
        left, version,
    ]  # fmt: skip


_CHANGE_COLUMNS = (
    "node_id", "period", "kind", "before", "after", "event_id", "occurred_at",
    "approved_by", "reason", "version",
)  # fmt: skip


def _change(version: int, c: TargetChange) -> list[Any]:
    at = c.occurred_at.astimezone(UTC) if c.occurred_at is not None else None
    return [
        c.node_id, c.period, c.kind, c.before, c.after, c.event_id, at,
        c.approved_by, c.reason, version,
    ]  # fmt: skip


class TargetAudit(BaseModel):
    """One accepted change of a target, as the audit view shows it."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    period: str
    kind: str
    before: Decimal | None
    after: Decimal
    event_id: str
    occurred_at: datetime | None
    approved_by: str | None
    reason: str


_CHANGES = """
SELECT node_id, period, kind, before, after, event_id, occurred_at, approved_by,
       reason
FROM target_changes FINAL
WHERE ({period:String} = '' OR period = {period:String})
  AND ({node:String} = '' OR node_id = {node:String})
ORDER BY occurred_at DESC, node_id, event_id
LIMIT {limit:UInt32}
"""


def target_audit(
    store: Store, period: str = "", node: str = "", limit: int = 200
) -> list[TargetAudit]:
    """Every accepted target change (who, when, why, before, after), newest first,
    of one period and one node when given."""
    rows = store.rows(_CHANGES, {"period": period, "node": node, "limit": limit})
    names = TargetAudit.model_fields
    return [
        TargetAudit.model_validate(dict(zip(names, row, strict=True))) for row in rows
    ]


def _target(version: int, t: TargetNode) -> list[Any]:
    return [t.node_id, t.period, t.level, t.parent_id, t.amount, t.currency, version]


class Attainment(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    revenue: Decimal
    target: Decimal | None
    attainment: Decimal | None  # revenue / target; None without a target


class HeatCell(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str
    product_line: str
    revenue: Decimal
    deals: int
    # The region's target under that product line for the period, and attainment
    # (revenue / target); None where the tree has no such target.
    target: Decimal | None = None
    attainment: Decimal | None = None


# The node a credit counts for at each level is the domain's (``LEVELS``); a row
# written before a credit kept its team and region reads the directory's.
_BEFORE_KEPT = {"team_id": "d.team_id", "rep_region": "d.region"}


def _column(name: str) -> str:
    kept = _BEFORE_KEPT.get(name)
    return f"c.{name}" if kept is None else f"if(c.{name} = '', {kept}, c.{name})"


_KEY = "multiIf({})".format(
    ", ".join(
        f"{{level:String}} = '{level}', {_column(name)}"
        for level, name in LEVELS.items()
    )
    + ", ''"
)
# A period names a year, a quarter or a month ("2026", "2026-Q1", "2026-03"): the forms
# differ, so one parameter matches exactly one of a credit's periods.
_ATTAINMENT = f"""
SELECT r.key, r.revenue, t.amount
FROM (
    SELECT {_KEY} AS key,
           sum(c.credited) AS revenue
    FROM deal_credits AS c FINAL
    LEFT JOIN (SELECT rep_id, team_id, region FROM rep_directory FINAL) AS d
        ON d.rep_id = c.rep_id
    WHERE (c.year = {{period:String}} OR c.quarter = {{period:String}}
           OR c.month = {{period:String}})
      AND NOT c.cancelled
    GROUP BY key
) AS r
LEFT JOIN (
    SELECT node_id, amount FROM targets FINAL
    WHERE period = {{period:String}} AND level = {{level:String}}
) AS t ON t.node_id = r.key
ORDER BY r.revenue DESC, r.key
"""  # noqa: S608 - composed of this module's constants; values are parameters
# A cell's target is its region's node under its product line (the tree goes
# company → product_line → region → ...) for the same period.
_HEATMAP = """
SELECT h.region, h.product_line, h.revenue, h.deals, t.amount
FROM (
    SELECT region, product_line, sum(revenue) AS revenue, sum(deals) AS deals
    FROM heat_cells FINAL
    WHERE period = {period:String}
    GROUP BY region, product_line
    HAVING revenue != 0 OR deals != 0
) AS h
LEFT JOIN (
    SELECT node_id, parent_id, amount FROM targets FINAL
    WHERE period = {period:String} AND level = 'region'
) AS t ON t.node_id = h.region AND t.parent_id = h.product_line
ORDER BY h.region, h.product_line
"""


def attainment(store: Store, level: Level, period: str) -> list[Attainment]:
    """Credited revenue of ``period`` per rep, team, region or product line, against
    that node's target: the domain's definition (``domain.credits.LEVELS``), a
    deal's team and region being its rep's as of the close (a row written before
    they were kept: the directory's)."""
    rows = store.rows(_ATTAINMENT, {"period": period, "level": level})
    found = []
    for key, revenue, target in rows:
        goal = Decimal(target) if target else None
        found.append(
            Attainment(
                key=key,
                revenue=Decimal(revenue),
                target=goal,
                attainment=Decimal(revenue) / goal if goal else None,
            )
        )
    return found


def heatmap(store: Store, period: str) -> list[HeatCell]:
    """Attainment of ``period`` by region × product line (SPEC §7, §9): the deals'
    credited revenue per cell (the sums the rep partitions keep, ``heat_cells``)
    over the target of the cell's region node under its product line."""
    rows = store.rows(_HEATMAP, {"period": period})
    found = []
    for region, line, revenue, deals, target in rows:
        goal = Decimal(target) if target else None
        found.append(
            HeatCell(
                region=region,
                product_line=line,
                revenue=Decimal(revenue),
                deals=deals,
                target=goal,
                attainment=Decimal(revenue) / goal if goal else None,
            )
        )
    return found


_HEAT_COLUMNS = (
    "period", "region", "product_line", "partition", "revenue", "deals", "version",
)  # fmt: skip


def write_heat(
    store: Store,
    cells: Mapping[int, Sequence[HeatSum]],
    source: Sequence[Span] = (),
) -> int:
    """The changed heatmap cells of each rep partition, each with its version, in
    one insert (one per partition cost 6.5 ms each on chDB here)."""
    rows = [
        [c.period, c.region, c.product_line, partition, c.revenue, c.deals, c.version]
        for partition, changed in sorted(cells.items())
        for c in changed
    ]
    return insert(store, "heat_cells", rows, _HEAT_COLUMNS, source)


def team_of(store: Store, rep_id: str) -> str | None:
    """The rep's team as the directory stands, or None for a rep it does not know."""
    rows = store.rows(
        "SELECT team_id FROM rep_directory FINAL WHERE rep_id = {rep:String}",
        {"rep": rep_id},
    )
    return str(rows[0][0]) if rows else None
