"""目标分解: the target tree and its split in time, mid-period adjustments, attainment,
and the two commission rules that read a target (attainment bands, profit share).

A ``TargetBook`` is immutable: ``assign`` and ``adjust`` return a new book or raise
``TargetError`` with the reason, so a rejected change leaves nothing half-applied.
Sums are checked on demand (``check_*``), not on every assignment: a tree is built one
node at a time and only adds up once all of a parent's children are in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from domain.bands import BandSlice, RateBand, check_marginal_bands, slice_across_bands
from domain.events import TargetLevel
from domain.money import ZERO, CurrencyCode, format_money, to_cents
from domain.pmap import PMap

LEVELS: tuple[TargetLevel, ...] = ("company", "product_line", "region", "team", "rep")
_PERIOD = re.compile(r"([0-9]{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?")


class TargetError(ValueError):
    """A target change or check that fails; the message says why, with the numbers,
    and ``code`` names the rule (the refusal's code)."""

    code = "target"


class ParentMissing(TargetError):
    """A child's target arrived before its parent's target for the same period."""

    code = "parent_unknown"


class SumExceeded(TargetError):
    """Children would exceed their parent, or sub-periods their period; or a
    confirmed decomposition does not add up."""

    code = "target_sum"


class AlreadyAssigned(TargetError):
    """A second ``QuotaAssigned`` for a node and period: a change is an adjustment."""

    code = "already_assigned"


class AdjustmentLimit(TargetError):
    """An adjustment beyond the plan's limit, counted from the first assignment."""

    code = "adjustment_limit"


class NewProductShare(TargetError):
    """New product lines carry less of a confirmed company target than required."""

    code = "new_product_share"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _percent(ratio: Decimal) -> str:
    return f"{to_cents(ratio * 100)}%"


def _beyond(ratio: Decimal, limit: Decimal) -> str:
    """``ratio`` as a percentage, with more places where cents would show it equal to
    ``limit`` (20.001% beyond 20%, not "20.00% exceeds the 20.00% allowed")."""
    shown = _percent(ratio)
    if shown != _percent(limit):
        return shown
    exact = (ratio * 100).quantize(Decimal("0.000001"))
    return f"{exact.normalize():f}%"


def _parse(period: str) -> tuple[str, str | None, str | None]:
    match = _PERIOD.fullmatch(period)
    if match is None:
        msg = (
            f"period {period!r} is not a year (2026), a quarter (2026-Q1) "
            "or a month (2026-03)"
        )
        raise TargetError(msg)
    return match[1], match[2], match[3]


def valid_period(period: str) -> str:
    """``period`` itself if it is a year, quarter or month; else ``TargetError``."""
    _parse(period)
    return period


def parent_period(period: str) -> str | None:
    """The quarter of a month, the year of a quarter; a year has none."""
    year, quarter, month = _parse(period)
    if month is not None:
        return f"{year}-Q{(int(month) - 1) // 3 + 1}"
    return year if quarter is not None else None


def child_periods(period: str) -> tuple[str, ...]:
    """The four quarters of a year, the three months of a quarter; a month has none."""
    year, quarter, month = _parse(period)
    if month is not None:
        return ()
    if quarter is None:
        return tuple(f"{year}-Q{q}" for q in range(1, 5))
    first = (int(quarter) - 1) * 3 + 1
    return tuple(f"{year}-{m:02d}" for m in range(first, first + 3))


Period = Annotated[str, AfterValidator(valid_period)]


class TargetRules(_Frozen):
    """指标调整权限 and 新品占比: how far a target may move, what new products carry."""

    max_adjustment: Decimal = Field(default=Decimal("0.20"), ge=0)
    new_product_lines: tuple[str, ...] = ()
    new_product_min_share: Decimal = Field(default=Decimal("0.30"), ge=0, le=1)


class AttainmentBands(_Frozen):
    """基础线-冲刺线-超越线: marginal rates by attainment (1 = 100% of target)."""

    bands: tuple[RateBand, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _contiguous(self) -> Self:
        check_marginal_bands(self.bands, "attainment bands")
        return self


class ProfitShareTier(RateBand):
    """A tier of the profit above target: ``[lower, upper)`` of the excess, a rate."""


class ProfitShareRule(_Frozen):
    """超额利润分享: the profit above target, shared in marginal tiers."""

    tiers: tuple[ProfitShareTier, ...] = Field(min_length=1)
    min_rate: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)
    max_rate: Decimal = Field(default=Decimal("0.20"), ge=0, le=1)

    @model_validator(mode="after")
    def _tiers(self) -> Self:
        check_marginal_bands(self.tiers, "profit share tiers")
        for tier in self.tiers:
            if not self.min_rate <= tier.rate <= self.max_rate:
                msg = (
                    f"profit share tier from {tier.lower} pays {_percent(tier.rate)}, "
                    f"outside {_percent(self.min_rate)}–{_percent(self.max_rate)}"
                )
                raise ValueError(msg)
        return self


class TargetNode(_Frozen):
    """One node of the target tree (company → … → rep) for one period."""

    node_id: str = Field(min_length=1)
    level: TargetLevel
    parent_id: str | None = None
    period: Period
    amount: Decimal = Field(ge=0)
    currency: CurrencyCode
    # The amount first assigned: adjustments are limited against it, cumulatively.
    assigned: Decimal | None = None
    # Who confirmed the node's decomposition (``TargetsConfirmed``), if anyone has.
    confirmed_by: str | None = None


class TargetChange(_Frozen):
    """One accepted change of a target: what it was, what it became, who, when, why."""

    kind: Literal["assigned", "adjusted", "confirmed"]
    node_id: str
    period: str
    before: Decimal | None
    after: Decimal
    event_id: str
    occurred_at: AwareDatetime | None = None
    approved_by: str | None = None
    reason: str = ""


class TargetBook(_Frozen):
    """Every target by node and period, and its history. Replaced, never mutated.

    Persistent maps, so a change costs O(log n) whatever the size of the tree: a
    110,000-node tree is built in linear time, and a world that shares the book with
    another copies nothing. ``kids`` indexes each node's children by period
    (``parent@period``), in the order they were first placed."""

    targets: PMap[str, PMap[str, TargetNode]] = Field(default_factory=PMap)
    kids: PMap[str, tuple[str, ...]] = Field(default_factory=PMap)
    changes: PMap[int, TargetChange] = Field(default_factory=PMap)

    @property
    def history(self) -> tuple[TargetChange, ...]:
        """Every accepted change, oldest first."""
        return tuple(self.changes[n] for n in range(len(self.changes)))

    def get(self, node_id: str, period: str) -> TargetNode | None:
        periods = self.targets.get(node_id)
        return None if periods is None else periods.get(period)

    def children(self, parent_id: str, period: str) -> tuple[TargetNode, ...]:
        under = self.kids.get(f"{parent_id}@{period}", ())
        found = (self.get(node_id, period) for node_id in under)
        return tuple(n for n in found if n is not None and n.parent_id == parent_id)


def _total(nodes: Iterable[TargetNode | None]) -> Decimal:
    return sum((n.amount for n in nodes if n is not None), ZERO)


def _require(book: TargetBook, node_id: str, period: str) -> TargetNode:
    node = book.get(node_id, period)
    if node is None:
        msg = f"no target for {node_id} {period}"
        raise TargetError(msg)
    return node


def _put(book: TargetBook, node: TargetNode, change: TargetChange) -> TargetBook:
    periods = book.targets.get(node.node_id) or PMap[str, TargetNode]()
    kids = book.kids
    if node.parent_id is not None:
        under = f"{node.parent_id}@{node.period}"
        known = kids.get(under, ())
        if node.node_id not in known:
            kids = kids.set(under, (*known, node.node_id))
    return book.model_copy(
        update={
            "targets": book.targets.set(node.node_id, periods.set(node.period, node)),
            "kids": kids,
            "changes": book.changes.set(len(book.changes), change),
        }
    )


def _check_place(book: TargetBook, node: TargetNode) -> None:
    known = book.targets.get(node.node_id)
    if known:
        first = next(iter(known.values()))
        if (first.level, first.currency) != (node.level, node.currency):
            msg = (
                f"{node.node_id} is a {first.level} target in {first.currency}, "
                f"not a {node.level} in {node.currency}"
            )
            raise TargetError(msg)
    is_top = node.level == LEVELS[0]
    if is_top != (node.parent_id is None):
        rule = "a company target has no parent" if is_top else "needs a parent"
        msg = f"{node.level} {node.node_id}: {rule}"
        raise TargetError(msg)
    if node.parent_id is None:
        return
    parent = book.get(node.parent_id, node.period)
    if parent is None:
        msg = f"parent {node.parent_id} of {node.node_id} has no {node.period} target"
        raise ParentMissing(msg)
    if LEVELS.index(node.level) != LEVELS.index(parent.level) + 1:
        msg = (
            f"a {node.level} ({node.node_id}) cannot go under a {parent.level} "
            f"({parent.node_id}): the order is {' → '.join(LEVELS)}"
        )
        raise TargetError(msg)
    if parent.currency != node.currency:
        msg = (
            f"{node.node_id} in {node.currency} cannot go under "
            f"{parent.node_id} in {parent.currency}"
        )
        raise TargetError(msg)


def assign(
    book: TargetBook,
    node: TargetNode,
    *,
    event_id: str,
    occurred_at: datetime | None = None,
) -> TargetBook:
    """目标分解: set a node's target for a period (QuotaAssigned).

    The tree grows top-down: a company has no parent; any other node goes directly under
    a node one level up (company → product_line → region → team → rep) that already has
    a target for the same period, in the same currency; else ``ParentMissing``. A node
    keeps its level and currency in every period; its parent may differ by period (a
    rep who moved team). A node and period are assigned once (``AlreadyAssigned``;
    a change is an adjustment). A target that would make its siblings exceed their
    parent, or its node's periods exceed the period around them (months their
    quarter, quarters their year), or that is below what its own sub-periods already
    hold, is refused with the excess (``SumExceeded``).
    """
    known = book.get(node.node_id, node.period)
    if known is not None:
        msg = (
            f"{node.node_id} {node.period} already has a target of "
            f"{format_money(known.amount)}; send QuotaAdjusted to change it"
        )
        raise AlreadyAssigned(msg)
    _check_place(book, node)
    node = node.model_copy(update={"assigned": node.amount})
    _check_within(book, node, node.amount)
    change = TargetChange(
        kind="assigned",
        node_id=node.node_id,
        period=node.period,
        before=None,
        after=node.amount,
        event_id=event_id,
        occurred_at=occurred_at,
    )
    return _put(book, node, change)


def _check_within(book: TargetBook, node: TargetNode, amount: Decimal) -> None:
    """``node`` at ``amount`` fits under its parent beside its siblings, within the
    period around its period beside the other sub-periods, and above its own
    children and sub-periods."""
    where = f"{node.node_id} {node.period} at {format_money(amount)}"
    if node.parent_id is not None:  # placed: the parent is in the book
        parent = _require(book, node.parent_id, node.period)
        siblings = (c for c in book.children(parent.node_id, node.period)
                    if c.node_id != node.node_id)  # fmt: skip
        _check_fits(where, _total(siblings) + amount, parent, "its siblings")
    around = parent_period(node.period)
    if around is not None:
        outer = book.get(node.node_id, around)
        if outer is not None:
            others = (book.get(node.node_id, p) for p in child_periods(around)
                      if p != node.period)  # fmt: skip
            _check_fits(where, _total(others) + amount, outer, "the other periods")
    inside = [
        ("its children", _total(book.children(node.node_id, node.period))),
        ("its periods", _total(book.get(node.node_id, p)
                               for p in child_periods(node.period))),
    ]  # fmt: skip
    for what, held in inside:
        if held > amount:
            msg = (
                f"{where} is below what {what} already hold "
                f"({format_money(held)}): {format_money(held - amount)} short"
            )
            raise SumExceeded(msg)


def _check_fits(where: str, total: Decimal, outer: TargetNode, beside: str) -> None:
    if total > outer.amount:
        msg = (
            f"{where} with {beside} comes to {format_money(total)}, "
            f"{format_money(total - outer.amount)} above {outer.node_id} "
            f"{outer.period}'s {format_money(outer.amount)}"
        )
        raise SumExceeded(msg)


def adjust(  # noqa: PLR0913 - an adjustment: which target, to what, who, when, why
    book: TargetBook,
    node_id: str,
    period: str,
    new_amount: Decimal,
    *,
    reason: str,
    approved_by: str,
    occurred_at: datetime,
    event_id: str,
    rules: TargetRules,
) -> TargetBook:
    """保留不超过20%的指标调整权限: a target stays within ``rules.max_adjustment``
    of the amount first assigned, however many adjustments it takes (three +20%
    steps are +72.8%: the second is already refused). The moved target must still
    fit its parent and its period, and hold its children and sub-periods
    (``SumExceeded``): moving one quarter up may need its year moved first.
    """
    where = f"{node_id} {period}"
    node = _require(book, node_id, period)
    if not reason.strip() or not approved_by.strip():
        msg = f"adjustment of {where} needs a reason and who approved it"
        raise TargetError(msg)
    if new_amount < ZERO:
        amount = format_money(new_amount)
        msg = f"adjustment of {where} to {amount}: a target is never < 0"
        raise TargetError(msg)
    first = node.assigned if node.assigned is not None else node.amount
    change = abs(new_amount - first)
    if change > rules.max_adjustment * first:
        by = (
            f"by {_beyond(change / first, rules.max_adjustment)}"
            if first
            else ("from zero")
        )
        now = f", now {format_money(node.amount)}," if node.amount != first else ""
        msg = (
            f"adjustment of {where} {by} exceeds the "
            f"{_percent(rules.max_adjustment)} allowed ({format_money(first)}"
            f"{' first assigned' if now else ''}{now} to {format_money(new_amount)})"
        )
        raise AdjustmentLimit(msg)
    _check_within(book, node, new_amount)
    record = TargetChange(
        kind="adjusted",
        node_id=node_id,
        period=period,
        before=node.amount,
        after=new_amount,
        event_id=event_id,
        occurred_at=occurred_at,
        approved_by=approved_by,
        reason=reason,
    )
    return _put(book, node.model_copy(update={"amount": new_amount}), record)


def _check_sum(what: str, total: Decimal, expected: Decimal) -> None:
    if total != expected:
        gap = expected - total
        side = "short of" if gap > ZERO else "above"
        msg = (
            f"{what} sum to {format_money(total)}, "
            f"{format_money(abs(gap))} {side} {format_money(expected)}"
        )
        raise SumExceeded(msg)


def check_decomposition(book: TargetBook, parent_id: str, period: str) -> None:
    """目标分解: a node's children for a period add up exactly to its target."""
    parent = _require(book, parent_id, period)
    total = _total(book.children(parent_id, period))
    _check_sum(f"children of {parent_id} {period}", total, parent.amount)


def check_time_decomposition(book: TargetBook, node_id: str, period: str) -> None:
    """目标分解 in time: a year is the sum of its quarters, a quarter of its months.

    A missing sub-period counts as zero. For a year, each quarter that has any month
    assigned is checked against its months too, so year = 12 months once all are in.
    """
    node = _require(book, node_id, period)
    subs = child_periods(period)
    if not subs:
        return
    total = _total(book.get(node_id, sub) for sub in subs)
    _check_sum(f"periods of {node_id} {period}", total, node.amount)
    for sub in subs:
        if any(book.get(node_id, m) is not None for m in child_periods(sub)):
            check_time_decomposition(book, node_id, sub)


def check_new_product_share(
    book: TargetBook, company_id: str, period: str, rules: TargetRules
) -> None:
    """新品占比不低于30%: new product lines carry at least their share of the company.

    A plan that names no new product lines has nothing to check.
    """
    company = _require(book, company_id, period)
    if not rules.new_product_lines:
        return
    lines = book.children(company_id, period)
    new = _total(c for c in lines if c.node_id in rules.new_product_lines)
    if new < rules.new_product_min_share * company.amount:
        msg = (
            f"new products carry {_percent(new / company.amount)} of {company_id} "
            f"{period} ({format_money(new)} of {format_money(company.amount)}), "
            "below the "
            f"{_percent(rules.new_product_min_share)} required"
        )
        raise NewProductShare(msg)


def confirm(
    book: TargetBook,
    node_id: str,
    period: str,
    *,
    rules: TargetRules,
    confirmed_by: str,
    event_id: str,
    occurred_at: datetime,
) -> TargetBook:
    """目标责任书: a node's decomposition for a period is confirmed (TargetsConfirmed):
    its children sum to it exactly and, for a company, new product lines carry their
    share; else refused with the gap."""
    node = _require(book, node_id, period)
    check_decomposition(book, node_id, period)
    if node.level == LEVELS[0]:
        check_new_product_share(book, node_id, period, rules)
    change = TargetChange(
        kind="confirmed",
        node_id=node_id,
        period=period,
        before=node.amount,
        after=node.amount,
        event_id=event_id,
        occurred_at=occurred_at,
        approved_by=confirmed_by,
    )
    return _put(book, node.model_copy(update={"confirmed_by": confirmed_by}), change)


def _positive(target: Decimal) -> Decimal:
    if target <= ZERO:
        msg = f"attainment needs a target above zero, not {format_money(target)}"
        raise TargetError(msg)
    return target


def attainment(credited: Decimal, target: Decimal) -> Decimal:
    """达成率: credited revenue / target (1 = 100%), unrounded."""
    return credited / _positive(target)


def attainment_commission(
    target: Decimal, sales: Decimal, bands: AttainmentBands
) -> tuple[BandSlice, ...]:
    """基础线-冲刺线-超越线: sales sliced at the bands' attainment edges × target.

    Each slice carries its sales range in money and the rate of its attainment band
    (``band_index`` names the band); nothing for sales ≤ 0.
    """
    scale = _positive(target)
    in_money = [
        RateBand(
            lower=b.lower * scale,
            upper=None if b.upper is None else b.upper * scale,
            rate=b.rate,
        )
        for b in bands.bands
    ]
    return slice_across_bands(ZERO, sales, in_money)


def profit_share(
    profit: Decimal, target_profit: Decimal, rule: ProfitShareRule
) -> tuple[BandSlice, ...]:
    """超额利润分享: only profit above target is shared, tier by tier (marginal)."""
    excess = profit - target_profit
    if excess <= ZERO:
        return ()
    return slice_across_bands(ZERO, excess, rule.tiers)


def earned_total(slices: tuple[BandSlice, ...]) -> Decimal:
    """What the slices earn together, unrounded (a ledger line rounds to the cent)."""
    return sum((s.earned for s in slices), ZERO)
