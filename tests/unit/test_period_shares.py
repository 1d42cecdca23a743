"""Period awards made from shares (the stream's way) equal the awards of one world
that knows every rep (``simulate``'s way).

The split fold below keeps each rep's deals in that rep's own world, as the stream's
rep partitions do, and lets every world fold the events that concern everybody.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import get_args

import pytest

from domain.awards import AwardRule
from domain.engine import World, evolve, start
from domain.events import (
    ActivityLogged,
    DealClosed,
    Event,
    PeriodClosed,
    SatisfactionRecorded,
)
from domain.ledger import LedgerLine
from domain.payout import next_month
from domain.periodawards import (
    Awarded,
    PeriodShare,
    TeamScores,
    award_all,
    award_period,
    period_share,
)
from domain.plan import Plan
from streams.state.periods import PeriodAwarder, ShareReport
from streams.state.routing import Origin
from tests.factories import envelope
from tests.unit.test_engine import event
from tests.unit.test_fold_period_close import (
    AT,
    LATER,
    close,
    hire,
    sale,
    tree,
    year_with_champions,
)

D = Decimal
AWARD_RULES = set(get_args(AwardRule))


def score(n: int, value: str) -> Event:
    return event(envelope("SatisfactionRecorded", f"s-{n}", LATER, deal_id=f"D-{n}",
                          customer_id="C-88", score=value))  # fmt: skip


def mentee(n: int, rep: str) -> Event:
    return event(envelope("ActivityLogged", f"m-{n}", AT, activity_id=f"M-{n}",
                          rep_id=rep, kind="mentee_passed"))  # fmt: skip


def quarter_with_teams() -> list[Event]:
    q = "2026-Q1"
    return [
        hire("A"),
        hire("B"),
        hire("L", role="team_lead", grade="P6"),
        hire("S", role="support", grade="S3"),
        hire("X", team_id="T2"),
        *tree(q, "300000", {"A": "100000", "B": "100000", "L": "100000"}),
        sale(1, "200000.00", "A", "2026-02-01T09:00:00+08:00"),
        sale(2, "70000.00", "B", "2026-02-02T09:00:00+08:00"),
        sale(3, "110000.00", "L", "2026-02-03T09:00:00+08:00"),
        sale(4, "90000.00", "X", "2026-02-04T09:00:00+08:00"),
        score(1, "90"),
        score(2, "98"),
        score(4, "40"),
        mentee(1, "A"),
        close(q, "2026-04-01T00:00:00+08:00"),
    ]


def owner(rep_id: str, parts: int) -> int:
    return zlib.crc32(rep_id.encode()) % parts


def split_fold(
    plan: Plan, events: list[Event], parts: int
) -> tuple[list[LedgerLine], list[PeriodShare]]:
    """Fold as the stream does: a world per rep, global events into all of them;
    at the close, one share per part from the reps that part owns."""
    base, worlds = start([plan], awards_elsewhere=True), dict[str, World]()
    credited: dict[str, tuple[str, ...]] = {}
    lines: list[LedgerLine] = []
    shares: list[PeriodShare] = []

    def into(rep_id: str, item: Event) -> None:
        worlds[rep_id], step = evolve(worlds.get(rep_id) or base, item)
        lines.extend(line for line in step.lines if line.rep_id == rep_id)

    def share(base: World, closing: PeriodClosed, part: int) -> PeriodShare:
        return period_share(
            base,
            closing,
            owned=lambda rep: owner(rep, parts) == part,
            world_of=lambda rep: worlds.get(rep, base),
        )

    for item in events:
        if isinstance(item, DealClosed):
            credited[item.deal_id] = tuple(s.rep_id for s in item.splits)
            for rep_id in credited[item.deal_id]:
                into(rep_id, item)
        elif isinstance(item, SatisfactionRecorded):
            for rep_id in credited[item.deal_id]:
                into(rep_id, item)
        elif isinstance(item, ActivityLogged):
            into(item.rep_id, item)
        else:
            base, _ = evolve(base, item)
            for rep_id in list(worlds):
                into(rep_id, item)
            if isinstance(item, PeriodClosed):
                shares += (share(base, item, part) for part in range(parts))

    return lines, shares


def as_compared(lines: list[LedgerLine]) -> list[tuple[str, str, Decimal, str]]:
    return sorted((x.line_id, x.rule, x.amount, x.formula) for x in lines)


@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("scenario", [quarter_with_teams, year_with_champions])
def test_awards_from_every_parts_share_equal_the_awards_of_one_world(
    full_plan: Plan, scenario: object, parts: int
) -> None:
    events = scenario()  # type: ignore[operator]
    world = start([full_plan])
    whole: list[LedgerLine] = []
    for item in events:
        world, step = evolve(world, item)
        whole.extend(step.lines)
    awards = [line for line in whole if line.rule in AWARD_RULES]
    assert len(awards) >= 4  # the scenario pays several kinds of award

    lines, shares = split_fold(full_plan, events, parts)
    assert len(shares) == parts
    awarded = award_period(shares)
    assert as_compared(list(awarded.lines)) == as_compared(awards)
    # The parts' own lines (deals, attainment commission and points) are the rest.
    assert as_compared(lines) == as_compared(
        [line for line in whole if line.rule not in AWARD_RULES]
    )


def test_a_team_spread_over_parts_gets_its_satisfaction_mean_from_all_of_them(
    full_plan: Plan,
) -> None:
    _, shares = split_fold(full_plan, quarter_with_teams(), 3)
    by_part = [{t.team_id: (t.total, t.count) for t in s.scores} for s in shares]
    # A's and B's scores (90 and 98) count for T1 wherever A and B are owned.
    t1 = [found["T1"] for found in by_part if "T1" in found]
    assert sum(total for total, _ in t1) == D(188)
    assert sum(count for _, count in t1) == 2
    (support,) = (
        line for line in award_period(shares).lines if line.rule == "support_bonus"
    )
    assert support.rep_id == "S"
    assert support.amount == D("4800.00")  # mean 94: 0.8 of 6,000


def test_a_plan_without_awards_awards_nothing(reference_plan: Plan) -> None:
    world = start([reference_plan])
    for item in quarter_with_teams():
        world, _ = evolve(world, item)
    closing = close("2026-Q2", "2026-07-01T00:00:00+08:00")
    assert isinstance(closing, PeriodClosed)
    assert award_all(world, closing).lines == ()


def test_team_scores_count_what_they_saw() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        TeamScores(team_id="T1", total=D(0), count=-1)


def test_the_stream_awarder_keeps_award_lines_off_a_locked_month(
    full_plan: Plan,
) -> None:
    """A share made after its close's month was locked (a late close, or a late
    fact's new share) gives award lines on the next open month's statement."""
    _, shares = split_fold(full_plan, quarter_with_teams(), 2)
    month = award_period(shares).lines[0].statement_period
    awarder = PeriodAwarder()
    origin = Origin("control", 0, 0, 0.0)
    awarded = None
    for part, share in enumerate(shares):
        locked = share.model_copy(update={"locked": (month,)})
        awarded = awarder.take(ShareReport(part, len(shares), locked, b"{}", origin))
    assert isinstance(awarded, Awarded) and awarded.lines
    assert {line.statement_period for line in awarded.lines} == {next_month(month)}
