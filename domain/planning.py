"""Events that set the rules: plan versions, SPIFF windows, and the target tree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from domain import credits
from domain.deals import reprice
from domain.events import (
    PlanPublished,
    QuotaAdjusted,
    QuotaAssigned,
    SpiffAnnounced,
    TargetsConfirmed,
)
from domain.frozen import updated
from domain.money import ZERO, format_money
from domain.plan import Plan, SpiffWindow
from domain.rep import Source
from domain.targets import (
    ParentMissing,
    TargetError,
    TargetNode,
    TargetRules,
    adjust,
    assign,
    attainment,
    confirm,
)
from domain.world import Lines, Refused, Rejection, Step, World


def announce(world: World, event: SpiffAnnounced) -> tuple[World, Lines]:
    window = SpiffWindow(
        spiff_id=event.spiff_id,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        multiplier=event.multiplier,
        product_lines=event.product_lines,
        regions=event.regions,
    )
    world = updated(world, spiffs=(*world.spiffs, window))
    source = Source(event.event_id, event.occurred_at)
    return reprice(world, source, f"SPIFF {event.spiff_id} announced after the deal")


def publish(world: World, event: PlanPublished) -> tuple[World, Lines]:
    document: dict[str, Any] = {
        **event.plan,
        "plan_id": event.plan_id,
        "version": event.version,
        "effective_from": event.effective_from,
        "effective_to": event.effective_to,
    }
    try:
        plan = Plan.model_validate(document)
    except ValidationError as exc:
        raise Refused("invalid_plan", f"plan document is invalid: {exc}") from exc
    for known in world.plans:
        if (known.plan_id, known.version) == (plan.plan_id, plan.version):
            if known == plan:
                return world, ()
            msg = (
                f"plan {plan.plan_id} v{plan.version} was published with other content"
            )
            raise Refused("conflict", msg)
    world = updated(world, plans=(*world.plans, plan))
    why = f"plan {plan.plan_id} v{plan.version} published after the deal"
    return reprice(world, Source(event.event_id, event.occurred_at), why)


def assign_target(world: World, event: QuotaAssigned) -> tuple[World, Step]:
    """目标分解: a target for a node; a child arriving before its parent waits for it,
    and is placed (or refused, with its own event named) when the parent comes."""
    known = world.targets.get(event.node_id, event.period)
    if known is not None and _same_target(known, event):
        return world, Step()  # the same target from another source counts once
    world, refused = _place(world, event)
    if refused is not None:
        raise Refused(refused.code, refused.reason)
    return _release_orphans(world, event)


def _same_target(known: TargetNode, event: QuotaAssigned) -> bool:
    return (known.level, known.parent_id, known.assigned, known.currency) == (
        event.level,
        event.parent_id,
        event.amount,
        event.currency,
    )


def _place(world: World, event: QuotaAssigned) -> tuple[World, Rejection | None]:
    """``event``'s node in the tree, or waiting for its parent, or its refusal."""
    try:
        node = TargetNode(
            node_id=event.node_id,
            level=event.level,
            parent_id=event.parent_id,
            period=event.period,
            amount=event.amount,
            currency=event.currency,
        )
        book = assign(
            world.targets, node, event_id=event.event_id, occurred_at=event.occurred_at
        )
    except ParentMissing:
        key = f"{event.parent_id}@{event.period}"
        waiting = (*world.orphans.get(key, ()), event)
        return updated(world, orphans=world.orphans.set(key, waiting)), None
    except TargetError as exc:
        return world, Rejection(event.event_id, exc.code, str(exc), event)
    return updated(world, targets=book), None


def _release_orphans(world: World, event: QuotaAssigned) -> tuple[World, Step]:
    """The children that waited for ``event``'s node, and theirs, placed in the order
    they came; one that no longer fits is refused under its own event id."""
    refused: list[Rejection] = []
    pending = [f"{event.node_id}@{event.period}"]
    while pending:
        key = pending.pop(0)
        waited = world.orphans.get(key, ())
        if not waited:
            continue
        world = updated(world, orphans=world.orphans.delete(key))
        for child in waited:
            world, rejection = _place(world, child)
            if rejection is None:
                pending.append(f"{child.node_id}@{child.period}")
            else:
                refused.append(rejection)
    return world, Step(rejected=tuple(refused))


def parent_unknown(world: World, period: str) -> tuple[World, tuple[Rejection, ...]]:
    """SPEC §9: targets of ``period`` still waiting for their parent when the period
    closes are refused (``parent_unknown``), under their own event ids."""
    refused, orphans = [], world.orphans
    for key in sorted(world.orphans):
        parent_id, at = key.rsplit("@", 1)
        if at != period:
            continue
        orphans = orphans.delete(key)
        for child in world.orphans[key]:
            reason = (
                f"{child.level} {child.node_id} {period} "
                f"({format_money(child.amount)}) waited for its parent {parent_id}, "
                f"which has no {period} target when {period} closed"
            )
            refused.append(Rejection(child.event_id, "parent_unknown", reason, child))
    if not refused:
        return world, ()
    return updated(world, orphans=orphans), tuple(refused)


def confirm_targets(world: World, event: TargetsConfirmed) -> tuple[World, Lines]:
    """目标责任书: a node's decomposition for a period is confirmed; it must add up."""
    rules = _rules_at(world, event)
    try:
        book = confirm(
            world.targets,
            event.node_id,
            event.period,
            rules=rules,
            confirmed_by=event.confirmed_by,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
        )
    except TargetError as exc:
        raise Refused(exc.code, str(exc)) from exc
    return updated(world, targets=book), ()


def _rules_at(world: World, event: QuotaAdjusted | TargetsConfirmed) -> TargetRules:
    in_force = [p for p in world.plans if p.in_force(event.occurred_at)]
    return next((p.targets for p in reversed(in_force) if p.targets), TargetRules())


def adjust_target(world: World, event: QuotaAdjusted) -> tuple[World, Lines]:
    """保留不超过20%的指标调整权限: the plan in force limits mid-period changes."""
    rules = _rules_at(world, event)
    try:
        book = adjust(
            world.targets,
            event.node_id,
            event.period,
            event.amount,
            reason=event.reason,
            approved_by=event.approved_by,
            occurred_at=event.occurred_at,
            event_id=event.event_id,
            rules=rules,
        )
    except TargetError as exc:
        raise Refused(exc.code, str(exc)) from exc
    return updated(world, targets=book), ()


def node_revenue(world: World, node_id: str, period: str) -> Decimal:
    """Credited revenue of a target node for ``period``, by its level
    (``domain.credits.LEVELS``): a node the period's tree does not have is a rep's."""
    node = world.targets.get(node_id, period)
    level = "rep" if node is None else node.level
    return credits.node_revenue(world, level, node_id, period)


def node_attainment(world: World, node_id: str, period: str) -> Decimal | None:
    """达成率 per rep, team, region, product line or company: credited revenue over
    the node's target for the period; no target, no attainment."""
    target = world.targets.get(node_id, period)
    if target is None or target.amount == ZERO:
        return None
    return attainment(node_revenue(world, node_id, period), target.amount)


def rep_attainment(world: World, rep_id: str, period: str) -> Decimal | None:
    """达成率 of one rep (``node_attainment`` of the rep's node)."""
    return node_attainment(world, rep_id, period)


def placed_targets(
    before: World, after: World, event: QuotaAssigned
) -> list[TargetNode]:
    """The target nodes ``event`` put in the tree: its own (new or changed) and the
    children that waited for it, and theirs, as they now stand."""
    placed, pending = [], [event.node_id]
    while pending:
        node_id = pending.pop()
        node = after.targets.get(node_id, event.period)
        if node is None:
            continue
        placed.append(node)
        waited = before.orphans.get(f"{node_id}@{event.period}", ())
        pending += (child.node_id for child in waited)
    return placed
