"""Which target nodes an assignment puts in the tree (the read side writes them)."""

from __future__ import annotations

from domain.engine import evolve, start
from domain.events import QuotaAssigned
from domain.plan import Plan
from domain.planning import placed_targets
from tests.unit.test_fold_period_close import quota


def test_a_parent_places_itself_and_the_children_that_waited_for_it(
    reference_plan: Plan,
) -> None:
    world = start([reference_plan])
    rep = quota("R-1", "rep", "T-1", "2026-Q1", "100")
    team = quota("T-1", "team", "E-1", "2026-Q1", "300")
    region = quota("E-1", "region", "P-1", "2026-Q1", "900")
    line = quota("P-1", "product_line", "C-1", "2026-Q1", "900")
    company = quota("C-1", "company", None, "2026-Q1", "900")
    placed: list[list[str]] = []
    for item in (rep, team, region, line, company):
        assert isinstance(item, QuotaAssigned)
        before = world
        world, step = evolve(world, item)
        assert step.rejected == ()
        placed.append(sorted(n.node_id for n in placed_targets(before, world, item)))
    # Each waits for its parent; the company places the whole chain.
    assert placed == [[], [], [], [], ["C-1", "E-1", "P-1", "R-1", "T-1"]]
    # A later node places just itself.
    other = quota("R-2", "rep", "T-1", "2026-Q1", "120")
    assert isinstance(other, QuotaAssigned)
    after, _ = evolve(world, other)
    assert [n.amount for n in placed_targets(world, after, other)] == [120]
