"""Offline replay: fold a file's worth of raw events, as ``quotaflow simulate`` does."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from domain.commission import Kind
from domain.engine import Deferred, Step, World, evolve, settle, start
from domain.events import InvalidEvent, QuotaAssigned, decode_event
from domain.ledger import LedgerLine, PayoutRecord
from domain.money import CENT, ZERO
from domain.plan import Plan

MONEY_KINDS: tuple[Kind, ...] = ("earned", "payable", "bonus")


class Rejected(NamedTuple):
    line: int
    reason: str


class Replay(NamedTuple):
    world: World
    lines: tuple[LedgerLine, ...]
    rejected: tuple[Rejected, ...]
    # What people must hear of besides the lines: budget alerts, promotion
    # candidates and awards withheld, with the line of the event that raised them.
    notices: tuple[tuple[int, str, dict[str, object]], ...] = ()
    # Steps of the payout cycle (approvals, locks, adjustments, inquiries).
    records: tuple[PayoutRecord, ...] = ()


RUN = 1_000
"""Events folded between two settlements of deferred awards, as one poll of a
consumer would bring them: a closed period's awards are made again once per run,
whatever number of its late facts the run holds."""


def replay(plans: Iterable[Plan], raw_lines: Iterable[bytes]) -> Replay:
    """Fold raw JSON lines in order; a bad line is reported with its number, never
    raised. Blank lines are skipped."""
    world, deferred = start(plans), Deferred()
    found = _Found()
    folded = number = 0
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            event = decode_event(raw)
        except InvalidEvent as exc:
            found.rejected.append(Rejected(number, str(exc)))
            continue
        if isinstance(event, QuotaAssigned):
            found.waited[event.event_id] = number
        try:
            world, step = evolve(world, event, deferred)
        except Exception as exc:  # a bug: shown as the line's verdict, not raised
            found.rejected.append(Rejected(number, f"internal: {type(exc).__name__}"))
            continue
        found.take(number, step)
        folded += 1
        if folded % RUN == 0:
            world, step = settle(world, deferred)
            found.take(number, step)
    world, step = settle(world, deferred)
    found.take(number, step)
    return Replay(
        world,
        tuple(found.lines),
        tuple(found.rejected),
        tuple(found.notices),
        tuple(found.records),
    )


class _Found:
    """What a replay has produced so far."""

    def __init__(self) -> None:
        self.lines: list[LedgerLine] = []
        self.rejected: list[Rejected] = []
        self.notices: list[tuple[int, str, dict[str, object]]] = []
        self.records: list[PayoutRecord] = []
        # The line of each target that may wait for its parent: refused later (at
        # the parent or the close), it is reported on its own line.
        self.waited: dict[str, int] = {}

    def take(self, number: int, step: Step) -> None:
        self.lines.extend(step.lines)
        self.records.extend(step.records)
        self.rejected.extend(
            Rejected(
                number if r.event is None else self.waited.get(r.event_id, number),
                f"{r.code}: {r.reason}",
            )
            for r in step.rejected
        )
        for kind, found in (
            ("alerts", step.alerts),
            ("promotion_candidates", step.candidates),
            ("withheld", step.withheld),
        ):
            self.notices.extend(
                (number, kind, item.model_dump(mode="json")) for item in found
            )


def summary(result: Replay) -> dict[str, object]:
    """The ``simulate`` report: per-rep totals as decimal strings, rejections, and
    the budget alerts, promotion candidates and withheld awards, each with the line
    of the event that raised it."""
    reps = {}
    for rep_id in sorted(result.world.reps):
        rep = result.world.reps[rep_id]
        figures = {
            f"{kind}_commission" if kind != "bonus" else kind: _cents(rep.total(kind))
            for kind in MONEY_KINDS
        }
        figures["points"] = _points(rep.total("points"))
        reps[rep_id] = figures
    report: dict[str, object] = {
        "reps": reps,
        "rejected": [{"line": r.line, "reason": r.reason} for r in result.rejected],
    }
    for kind in ("alerts", "promotion_candidates", "withheld"):
        report[kind] = [
            {"line": number, **item}
            for number, found, item in result.notices
            if found == kind
        ]
    return report


def _cents(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _points(value: Decimal) -> str:
    # Plain notation: 40 points print as "40", never as Decimal's "4E+1".
    return f"{value.normalize():f}" if value != ZERO else "0"
