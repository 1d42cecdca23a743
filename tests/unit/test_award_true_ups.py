"""SPEC §9: a closed period's awards follow the facts behind them. A late or
corrected fact makes them again and books the difference for every rep it moves,
with lines that say what changed (examples/plans/full.yaml's awards)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain import periodawards
from domain.events import Event
from domain.ledger import LedgerLine
from domain.plan import Plan
from tests.factories import envelope
from tests.unit.test_engine import event, fold, lines_of
from tests.unit.test_fold_period_close import (
    by_rule,
    close,
    hire,
    sale,
    tree,
    year_with_champions,
)

D = Decimal
Q1 = "2026-Q1"


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
        hire("A"),
        hire("B"),
        hire("L", role="team_lead", grade="P6"),
        *tree(Q1, "300000", {"A": "100000", "B": "100000", "L": "100000"}),
        sale(1, "200000.00", "A", "2026-02-01T09:00:00+08:00"),
        sale(2, "70000.00", "B", "2026-02-02T09:00:00+08:00"),
        sale(3, "110000.00", "L", "2026-02-03T09:00:00+08:00"),
        close(Q1, "2026-04-01T00:00:00+08:00"),
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
