"""What one company fact costs once the fold knows many reps and targets: a RepHired
and a QuotaAssigned, in one world (``simulate``) and in a rep partition of the
stream, where every rep has a world of its own. Printed by ``quotaflow bench fold``."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from itertools import islice

import orjson

from domain.engine import evolve, start
from domain.events import decode_event
from domain.plan import Plan
from streams.bench.year import BenchYear
from streams.infra.topics import DEALS, ORG, TARGETS
from streams.state.partitions import RepPartition
from streams.state.routing import BROADCAST, Forward, Origin

ROUNDS = 7
AT = "2026-06-01T09:00:00+08:00"


def _forward(rep_id: str, value: bytes) -> Forward:
    return Forward(rep_id, value, Origin(ORG, 0, 0, 0.0, b""), primary=True)


def _median_us(apply: Callable[[bytes], object], values: list[bytes]) -> float:
    took = []
    for value in values:
        began = time.perf_counter()
        apply(value)
        took.append(time.perf_counter() - began)
    return statistics.median(took) * 1e6


def _probes() -> tuple[list[bytes], list[bytes]]:
    """New hires, and a target for each under the first rep's team, one per round."""
    hires, quotas = [], []
    for n in range(ROUNDS):
        rep = f"R-new-{n}"
        hires.append(orjson.dumps({
            "event_id": f"probe-hire-{n}", "event_type": "RepHired",
            "schema_version": 1, "occurred_at": AT, "source": "bench",
            "rep_id": rep, "team_id": "T-east-0000", "region": "east",
            "role": "account_manager", "grade": "P5", "hired_at": AT,
        }))  # fmt: skip
        quotas.append(orjson.dumps({
            "event_id": f"probe-quota-{n}", "event_type": "QuotaAssigned",
            "schema_version": 1, "occurred_at": AT, "source": "bench",
            "node_id": rep, "level": "rep", "parent_id": "T-east-0000",
            "period": "2026", "amount": "0", "currency": "CNY",
        }))  # fmt: skip
    return hires, quotas


def _accepted(refusals: list[str]) -> None:
    """A refused probe costs next to nothing and would prove nothing."""
    if refusals:
        msg = f"a probe was refused: {refusals}"
        raise RuntimeError(msg)


def broadcast_costs(plan: Plan, reps: int, seed: int = 11) -> dict[str, float]:
    """Median µs of a RepHired and a QuotaAssigned after ``reps`` hires, the year's
    target tree and one deal per rep, in one world and in one rep partition."""
    year = BenchYear(20 * reps, reps, seed)
    setup = [m for m in islice(year.messages(), 40 * reps) if m[0] in (ORG, TARGETS)]
    first_deals: dict[str, bytes] = {}
    for topic, _, value in islice(year.messages(), 60 * reps):
        if topic == DEALS and b'"DealClosed"' in value:
            first_deals.setdefault(orjson.loads(value)["rep_id"], value)
    world = start([plan])
    partition = RepPartition.starting((plan,), 0, 1)
    for _, _, value in setup:
        world, _ = evolve(world, decode_event(value))
        partition.apply(_forward(BROADCAST, value))
    for rep_id, value in first_deals.items():
        world, _ = evolve(world, decode_event(value))
        partition.apply(_forward(rep_id, value))

    def fold(value: bytes) -> None:
        nonlocal world
        world, step = evolve(world, decode_event(value))
        _accepted([r.reason for r in step.rejected])

    def broadcast(value: bytes) -> None:
        _accepted(
            [r.reason for r in partition.apply(_forward(BROADCAST, value)).refused]
        )

    hires, quotas = _probes()
    return {
        "targets": sum(len(periods) for periods in world.targets.targets.values()),
        "rep_worlds": len(partition.worlds),
        "rep_hired_us": _median_us(fold, hires),
        "quota_assigned_us": _median_us(fold, quotas),
        "stream_rep_hired_us": _median_us(broadcast, hires),
        "stream_quota_assigned_us": _median_us(broadcast, quotas),
    }
