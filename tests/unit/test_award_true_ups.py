"""SPEC §9: a closed period's awards follow the facts behind them. A late or
corrected fact makes them again and books the difference for every rep it moves,
with lines that say what changed (examples/plans/full.yaml's awards)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest

from domain import periodawards
from domain import replay as replay_module
from domain.batch import evolve_run
from domain.events import Event
from domain.ledger import LedgerLine
from domain.plan import Plan
from domain.rep import RepState
from tests.factories import envelope
from tests.unit.test_engine import event, fold, lines_of
from tests.unit.test_fold_period_close import (
    by_rule,
    close,
    hire,
    sale,
    team_quarter,
    tree,
    year_with_champions,
)

D = Decimal
Q1 = "2026-Q1"
AWARDED = ("annual_champion", "long_service", "dark_horse")


def cancel(n: int, at: str) -> Event:
    return event(envelope("DealCancelled", f"x-{n}", at, deal_id=f"D-{n}"))


def awards(lines: list[LedgerLine], rule: str) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for line in lines:
        if line.rule == rule:
            found[line.rep_id] = found.get(line.rep_id, D(0)) + line.amount
    return found


def test_a_late_deal_re_ranks_the_champions_and_moves_their_awards(
    full_plan: Plan,
) -> None:
    # N 350,000, then B and A at 150,000 (B first to reach it): 50k, 30k, 20k. A deal
    # of A's closed in 2026 and sent after the close lifts A to 550,000: first.
    late = sale(6, "400000.00", "A", "2026-11-01T09:00:00+08:00")
    _, steps = fold(full_plan, [*year_with_champions(), late])
    assert awards(lines_of(steps), "annual_champion") == {
        "A": D(50000), "N": D(30000), "B": D(20000),
    }  # fmt: skip
    moved = {line.rep_id: line for line in steps[-1].lines
             if line.rule == "annual_champion"}  # fmt: skip
    assert {rep: line.amount for rep, line in moved.items()} == {
        "A": D(30000), "B": D(-10000), "N": D(-20000),
    }  # fmt: skip
    assert all(line.source_event_ids == ("e-6",) for line in moved.values())
    assert moved["A"].formula.endswith(
        "— true-up of 2026's awards after DealClosed D-6"
    )
    assert ", was 20,000.00 — " in moved["A"].formula


def test_a_cancellation_after_the_quarter_closed_trues_up_bonus_and_team_pool(
    full_plan: Plan,
) -> None:
    events = [
        *team_quarter(),
        cancel(1, "2026-04-10T00:00:00+08:00"),
    ]
    _, steps = fold(full_plan, events)
    # Without A's 200,000 the team has 180,000 of 300,000 (60%): no pool, and the
    # leader's coefficient falls to 0.8; A (0%) loses the base bonus.
    after = list(steps[-1].lines)
    assert awards(after, "base_performance_bonus") == {"A": D("-15000.00")}
    assert awards(after, "team_pool") == {"A": D("-2580.65"), "L": D("-1419.35")}
    total = by_rule(lines_of(steps), "L")
    assert total["leader_bonus"] == D("12000.00")  # 15,000 × 1 × 0.8
    assert "team_pool" not in {k for k, v in total.items() if v}
    (gone,) = (
        line for line in after if line.rule == "team_pool" and line.rep_id == "L"
    )
    assert gone.formula.startswith("reversal of the team pool 1,419.35 — true-up of")


def test_a_proposal_dated_in_a_closed_period_is_paid_when_it_comes(
    full_plan: Plan,
) -> None:
    adopted = event(
        envelope("ProposalAdopted", "pa-1", "2026-04-05T00:00:00+08:00",
                 proposal_id="P-1", rep_id="A", period=Q1, measured_uplift="200000",
                 approved_by="CFO")
    )  # fmt: skip
    _, steps = fold(
        full_plan, [hire("A"), close(Q1, "2026-04-01T00:00:00+08:00"), adopted]
    )
    (paid,) = steps[-1].lines
    assert (paid.rep_id, paid.rule, paid.amount) == ("A", "innovation_award", D(10000))
    assert "true-up of 2026-Q1's awards after ProposalAdopted pa-1" in paid.formula


def test_the_facts_cache_empties_when_full_and_gives_the_same_awards(
    full_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The awards made again read each rep's facts through a bounded cache of a
    pure function: emptied when full, it gives the same lines."""
    late = sale(6, "400000.00", "A", "2026-11-01T09:00:00+08:00")
    _, steps = fold(full_plan, [*year_with_champions(), late])
    monkeypatch.setattr(periodawards, "_FACTS_KEPT", 1)
    _, again = fold(full_plan, [*year_with_champions(), late])
    assert [line.amount for line in again[-1].lines] == [
        line.amount for line in steps[-1].lines
    ]


def test_a_run_makes_a_periods_awards_again_once_for_all_its_late_facts(
    full_plan: Plan,
) -> None:
    """A run of events (a consumer's poll, or ``simulate``'s run of a file) makes a
    closed period's awards again once at its end: the same money as after every
    late fact, in one true-up per award that names the facts behind it."""
    late = [
        sale(6, "400000.00", "A", "2026-11-01T09:00:00+08:00"),
        sale(7, "300000.00", "B", "2026-11-02T09:00:00+08:00"),
    ]
    events = [*year_with_champions(), *late]
    _, each = fold(full_plan, events)
    world, _ = fold(full_plan, year_with_champions())
    _, steps = evolve_run(world, late)
    assert steps[0].lines[-1].rule != "annual_champion"  # nothing made yet
    once = [line for line in steps[-1].lines if line.rule == "annual_champion"]
    per_fact = [line for s in each[-2:] for line in s.lines
                if line.rule == "annual_champion"]  # fmt: skip
    assert len(once) < len(per_fact)
    moved = awards(per_fact, "annual_champion")
    assert awards(once, "annual_champion") == {r: a for r, a in moved.items() if a}
    assert all(line.source_event_ids == ("e-7",) for line in once)
    assert all(
        line.formula.endswith(
            "true-up of 2026's awards after DealClosed D-7"
            " (and before it DealClosed D-6)"
        )
        for line in once
    )


def test_simulate_books_the_same_money_as_a_fold_event_by_event(
    full_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Late deals and cancellations of a closed year, in runs of two: ``replay``
    owes every rep what the fold of each event alone owes."""
    late = [
        sale(6, "400000.00", "A", "2026-11-01T09:00:00+08:00"),
        sale(7, "300000.00", "B", "2026-11-02T09:00:00+08:00"),
        cancel(6, "2027-01-20T00:00:00+08:00"),
        sale(8, "90000.00", "N", "2026-12-01T09:00:00+08:00"),
        cancel(7, "2027-01-21T00:00:00+08:00"),
    ]
    events = [*year_with_champions(), *late]
    world, _ = fold(full_plan, events)
    monkeypatch.setattr(replay_module, "RUN", 2)
    flow = [e.model_dump_json().encode() for e in events]
    ran = replay_module.replay([full_plan], flow)
    assert ran.rejected == ()

    def owed(reps: Mapping[str, RepState]) -> dict[str, list[Decimal]]:
        kinds = ("earned", "payable", "bonus", "points")
        return {rep_id: [rep.total(k) for k in kinds] for rep_id, rep in reps.items()}

    assert owed(ran.world.reps) == owed(world.reps)
    assert any("(and before it" in line.formula for line in ran.lines)


def test_a_years_awards_count_in_that_years_budget_however_late(
    full_plan: Plan,
) -> None:
    """The close of 2026 comes on 2027-01-01 and a late deal trues its awards up:
    both count in 2026's budget, the year they are for."""
    late = sale(6, "400000.00", "A", "2026-11-01T09:00:00+08:00")
    world, steps = fold(full_plan, [*year_with_champions(), late])
    awarded = [line for s in steps for line in s.lines if line.rule in AWARDED]
    # Booked at the close (2027) and at the late deal (2026), for 2026.
    assert {line.occurred_at.year for line in awarded} == {2026, 2027}
    assert all(("period", "2026") in line.inputs for line in awarded)
    assert "full/2027" not in world.budgets


def test_a_move_dated_in_a_closed_quarter_makes_its_awards_again(
    full_plan: Plan,
) -> None:
    """SPEC §9: a move is an input of the period's awards. A's move to T2, dated
    before A's deal, arrives after the quarter closed: T1 loses A's 200,000 and its
    pool, as when the move came first."""
    moved = event(
        envelope("RepMoved", "m-A", "2026-01-15T00:00:00+08:00", rep_id="A",
                 team_id="T2", region="east", role="account_manager", grade="P5",
                 hired_at="2025-01-01T00:00:00+08:00")
    )  # fmt: skip
    events = [
        hire("A"),
        hire("B"),
        hire("L", role="team_lead", grade="P6"),
        *tree(Q1, "300000", {"A": "100000", "B": "100000", "L": "100000"}),
        sale(1, "200000.00", "A", "2026-02-01T09:00:00+08:00"),
        sale(2, "70000.00", "B", "2026-02-02T09:00:00+08:00"),
        sale(3, "110000.00", "L", "2026-02-03T09:00:00+08:00"),
    ]
    closing = close(Q1, "2026-04-01T00:00:00+08:00")
    first, _ = fold(full_plan, [*events, moved, closing])
    late, steps = fold(full_plan, [*events, closing, moved])
    assert awards(list(steps[-1].lines), "team_pool") == {
        "A": D("-2580.65"), "L": D("-1419.35"),
    }  # fmt: skip
    assert (
        steps[-1]
        .lines[0]
        .formula.endswith("true-up of 2026-Q1's awards after RepMoved A")
    )
    for rep in ("A", "B", "L"):
        assert late.reps[rep].total("bonus") == first.reps[rep].total("bonus"), rep


def test_award_true_ups_made_after_a_lock_go_to_the_next_open_month(
    full_plan: Plan,
) -> None:
    """April closed and locked, then an April cancellation (dated the 10th) trues up
    Q1's awards: event by event or settled at a run's end, the true-up lines are on
    May's statement, never on locked April's."""
    april = "2026-05-01T00:00:00+08:00"
    events = [
        *team_quarter(),
        close("2026-04", april),
        event(
            envelope(
                "PeriodLocked", "lk-04", april, period="2026-04", locked_by="finance"
            )
        ),
    ]
    late = cancel(1, "2026-04-10T00:00:00+08:00")
    _, each = fold(full_plan, [*events, late])
    world, _ = fold(full_plan, events)
    _, run = evolve_run(world, [late])
    for lines in (list(each[-1].lines), [ln for s in run for ln in s.lines]):
        trued = [
            ln for ln in lines if ln.rule in ("team_pool", "base_performance_bonus")
        ]
        assert awards(trued, "base_performance_bonus") == {"A": D("-15000.00")}
        assert {ln.occurred_at.month for ln in trued} == {4}
        assert {ln.statement_period for ln in lines} == {"2026-05"}
