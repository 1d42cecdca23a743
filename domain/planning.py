"""Events that set the rules: plan versions, SPIFF windows, and the target tree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from domain.deals import reprice
from domain.events import PlanPublished, QuotaAdjusted, QuotaAssigned, SpiffAnnounced
from domain.frozen import updated
from domain.money import ZERO
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
)
from domain.world import Lines, Refused, World


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


def assign_target(world: World, event: QuotaAssigned) -> tuple[World, Lines]:
    """目标分解: a target for a node; a child arriving before its parent waits."""
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
        return updated(world, orphans=world.orphans.set(key, waiting)), ()
    except (TargetError, ValidationError) as exc:
        raise Refused("target", str(exc)) from exc
    world = updated(world, targets=book)
    key = f"{event.node_id}@{event.period}"
    for child in world.orphans.get(key, ()):
        world = updated(world, orphans=world.orphans.delete(key))
        world, _ = assign_target(world, child)
    return world, ()


def adjust_target(world: World, event: QuotaAdjusted) -> tuple[World, Lines]:
    """保留不超过20%的指标调整权限: the plan in force limits mid-period changes."""
    in_force = [p for p in world.plans if p.in_force(event.occurred_at)]
    rules = next((p.targets for p in reversed(in_force) if p.targets), TargetRules())
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
        raise Refused("target", str(exc)) from exc
    return updated(world, targets=book), ()


def node_revenue(world: World, node_id: str, period: str) -> Decimal:
    """Credited revenue of a target node: a rep's own, any other node's the sum of its
    children's for the same period (the tree says who belongs where)."""
    node = world.targets.get(node_id, period)
    if node is None or node.level == "rep":
        rep = world.reps.get(node_id)
        return rep.revenue_in(period) if rep else ZERO
    children = world.targets.children(node_id, period)
    return sum((node_revenue(world, c.node_id, period) for c in children), ZERO)


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
