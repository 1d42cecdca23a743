"""The golden scenario: sample deals with their payments, scores, amendments and
cancellations, in file order and in a Kafka arrival order, then hires, a target
tree, month, quarter and year closes (attainment, awards) and a close long after
the year that forfeits what stayed unpaid. ``python -m tests.golden.scenario DIR``
writes the ledgers; ``tests/unit/test_golden_lines.py`` compares the fold with them.
"""

from __future__ import annotations

import gzip
import sys
import zlib
from pathlib import Path
from typing import Any

import orjson
import yaml

from domain.engine import evolve, start
from domain.events import decode_event
from domain.ledger import line_as_json
from domain.plan import Plan
from streams.bench.generator import SampleWorld, sample_events
from tests.factories import envelope, hire_event, target_chain

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PLANS = ("reference", "full")
ORDERS = ("file", "kafka")
# The sample deals above, and a year of ``quotaflow bench fold``'s generator (60 reps,
# hires, targets, activities, every month, quarter and the year closed), whose events
# are kept here as they were generated, in file and in Kafka arrival order.
SCENARIOS = ("sample", "year")
AT = "2026-01-01T08:00:00+08:00"


def plan_named(name: str) -> Plan:
    path = ROOT / "examples" / "plans" / f"{name}.yaml"
    return Plan.model_validate(yaml.safe_load(path.read_text()))


def _arrival(values: list[tuple[str, bytes, bytes]]) -> list[bytes]:
    """Each topic's partition keeps its order; partitions take turns, 50 at a time."""
    queues: dict[tuple[str, int], list[bytes]] = {}
    for topic, key, value in values:
        queues.setdefault((topic, zlib.crc32(key) % 6), []).append(value)
    out: list[bytes] = []
    while any(queues.values()):
        for queue in queues.values():
            out += queue[:50]
            del queue[:50]
    return out


def _dump(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


def events(order: str) -> list[bytes]:
    reps = SampleWorld(seed=9).reps
    hires = [
        _dump(hire_event(r.rep_id, r.team_id, r.region, AT, "2025-03-01T00:00:00Z"))
        for r in reps
    ]
    first = reps[0]
    chain = ("acme", "cloud", first.region, first.team_id, first.rep_id)
    targets = [
        _dump(event)
        for period in ("2026-01", "2026-Q1", "2026")
        for event in target_chain(chain, period, "900000", AT)
    ]
    deals = sample_events(1200, seed=9)
    flow = [value for _, _, value in deals] if order == "file" else _arrival(deals)
    closes = [
        _dump(envelope("PeriodClosed", f"close-{period}", at, period=period))
        for period, at in (
            ("2026-01", "2026-02-01T01:00:00+08:00"),
            ("2026-Q1", "2026-04-01T01:00:00+08:00"),
            ("2026", "2027-01-01T01:00:00+08:00"),
            ("2027-12", "2028-01-01T01:00:00+08:00"),
        )
    ]
    return [*hires, *targets, *flow, *closes]


def year_events(order: str) -> list[bytes]:
    path = HERE / f"year-input-{order}.jsonl.gz"
    return gzip.decompress(path.read_bytes()).splitlines()


def ledger(plan: Plan, order: str, scenario: str = "sample") -> list[dict[str, Any]]:
    world, lines = start([plan]), []
    flow = events(order) if scenario == "sample" else year_events(order)
    for value in flow:
        world, step = evolve(world, decode_event(value))
        lines += (line_as_json(line) for line in step.lines)
    return lines


def path_of(directory: Path, plan: str, order: str, scenario: str) -> Path:
    prefix = "lines" if scenario == "sample" else f"lines-{scenario}"
    return directory / f"{prefix}-{plan}-{order}.jsonl.gz"


def write(directory: Path) -> None:
    for scenario in SCENARIOS:
        for plan in PLANS:
            for order in ORDERS:
                rows = ledger(plan_named(plan), order, scenario)
                text = b"".join(orjson.dumps(row) + b"\n" for row in rows)
                path = path_of(directory, plan, order, scenario)
                path.write_bytes(gzip.compress(text, mtime=0))
                print(scenario, plan, order, len(rows), "lines")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
