"""A rep partition's heatmap cells: a stake's shares replace what it added before,
and a restore counts every stake again."""

from __future__ import annotations

from decimal import Decimal

from domain.credits import HeatShare
from domain.plan import Plan
from projections.heatcells import HeatCells, HeatSum
from tests.unit.test_engine import deal, fold

D = Decimal


def _shares(revenue: str, deals: int, region: str = "east") -> tuple[HeatShare, ...]:
    return tuple(
        HeatShare(period=p, region=region, product_line="cloud",
                  revenue=D(revenue), deals=deals)
        for p in ("2026", "2026-Q1")
    )  # fmt: skip


def _sums(cells: list[HeatSum]) -> dict[str, tuple[Decimal, int, int]]:
    return {c.period: (c.revenue, c.deals, c.version) for c in cells}


def test_a_stakes_new_shares_replace_what_it_added_and_zero_is_written_too() -> None:
    heat = HeatCells()
    heat.update("R-a", "D-1", _shares("100.00", 1), offset=5)
    heat.update("R-b", "D-2", _shares("50.00", 1), offset=6)
    assert _sums(heat.take()) == {
        "2026": (D("150.00"), 2, 6),
        "2026-Q1": (D("150.00"), 2, 6),
    }
    assert heat.take() == []  # nothing changed since
    heat.update("R-a", "D-1", _shares("80.00", 1), offset=9)  # amended
    assert _sums(heat.take())["2026"] == (D("130.00"), 2, 9)
    heat.update("R-a", "D-1", (), offset=11)  # cancelled
    heat.update("R-b", "D-2", (), offset=12)
    assert _sums(heat.take())["2026-Q1"] == (D("0.00"), 0, 12)
    heat.update("R-b", "D-2", (), offset=13)  # the same again changes nothing
    assert heat.take() == []


def test_a_recount_rebuilds_the_sums_from_the_worlds_and_rewrites_every_cell(
    reference_plan: Plan,
) -> None:
    world, _ = fold(reference_plan, [deal(1, "1000.00", rep="R-a"),
                                     deal(2, "500.00", rep="R-a")])  # fmt: skip
    heat = HeatCells()
    # A stake the worlds no longer have (the last owner's), in a cell of its own.
    heat.update("R-a", "D-gone", _shares("7.00", 1, region="atlantis"), offset=3)
    heat.recount({"R-a": world, "R-nobody": world}, offset=40)
    cells = heat.take()
    assert {c.version for c in cells} == {40}
    by_period = {(c.period, c.region): (c.revenue, c.deals) for c in cells}
    assert by_period[("2026", "atlantis")] == (D("0.00"), 0)  # zeroed, rewritten
    (region,) = {c.region for c in cells if c.revenue}
    assert by_period[("2026", region)] == (D("1500.00"), 2)
