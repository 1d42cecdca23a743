"""SPEC §9, targets: sums that cannot be exceeded, confirmation of a decomposition,
a target whose parent never comes, one assignment per node and period, and the
cumulative adjustment limit; each refusal names its numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from domain.engine import Step
from domain.events import Event
from domain.plan import Plan
from domain.replay import replay
from domain.targets import TargetRules
from tests.factories import envelope
from tests.unit.test_engine import deal, event, fold
from tests.unit.test_fold_period_close import close

D = Decimal
AT = "2026-01-02T00:00:00+08:00"


def quota(n: int, node: str, level: str, parent: str | None, amount: str,
          period: str = "2026", **fields: Any) -> Event:  # fmt: skip
    return event(
        envelope("QuotaAssigned", f"q-{n}", AT, node_id=node, level=level,
                 parent_id=parent, period=period, amount=amount, currency="CNY",
                 **fields)
    )  # fmt: skip


def confirmed(n: int, node: str, period: str = "2026") -> Event:
    return event(envelope("TargetsConfirmed", f"c-{n}", AT, node_id=node,
                          period=period, confirmed_by="CFO"))  # fmt: skip


def test_product_lines_above_the_company_are_refused_with_the_excess(
    reference_plan: Plan,
) -> None:
    world, steps = fold(
        reference_plan,
        [quota(1, "ACME", "company", None, "1000000"),
         quota(2, "cloud", "product_line", "ACME", "600000"),
         quota(3, "edge", "product_line", "ACME", "600000")],
    )  # fmt: skip
    (refused,) = steps[2].rejected
    assert (refused.code, refused.reason) == (
        "target_sum",
        "edge 2026 at 600,000.00 with its siblings comes to 1,200,000.00, "
        "200,000.00 above ACME 2026's 1,000,000.00",
    )
    assert world.targets.get("edge", "2026") is None


def test_quarters_above_their_year_are_refused(reference_plan: Plan) -> None:
    quarters = [quota(n, "ACME", "company", None, "300000", f"2026-Q{n}")
                for n in range(1, 5)]  # fmt: skip
    _, steps = fold(
        reference_plan, [quota(0, "ACME", "company", None, "1000000"), *quarters]
    )
    assert [s.rejected[0].code if s.rejected else None for s in steps] == [
        None, None, None, None, "target_sum",
    ]  # fmt: skip
    assert "1,200,000.00, 200,000.00 above ACME 2026's" in steps[4].rejected[0].reason


def test_a_year_below_its_quarters_is_refused(reference_plan: Plan) -> None:
    _, steps = fold(
        reference_plan,
        [quota(1, "ACME", "company", None, "600000", "2026-Q1"),
         quota(2, "ACME", "company", None, "500000", "2026")],
    )  # fmt: skip
    assert steps[1].rejected[0].reason == (
        "ACME 2026 at 500,000.00 is below what its periods already hold "
        "(600,000.00): 100,000.00 short"
    )


def test_the_same_assignment_from_another_source_counts_once(
    reference_plan: Plan,
) -> None:
    first = quota(1, "ACME", "company", None, "1000000")
    again = first.model_copy(update={"event_id": "q-again", "source": "excel"})
    other = quota(3, "ACME", "company", None, "1100000")
    world, steps = fold(reference_plan, [first, again, other])
    assert steps[1] == Step()
    (refused,) = steps[2].rejected
    assert refused.code == "already_assigned"
    assert "send QuotaAdjusted" in refused.reason
    assert len(world.targets.history) == 1


def test_a_child_that_no_longer_fits_when_its_parent_comes_is_refused_apart(
    reference_plan: Plan,
) -> None:
    """Children wait for their parent; when it comes, those that fit are placed in
    the order they came and one that would exceed it is refused under its own id."""
    _, steps = fold(
        reference_plan,
        [quota(2, "cloud", "product_line", "ACME", "700000"),
         quota(3, "edge", "product_line", "ACME", "400000"),
         quota(1, "ACME", "company", None, "1000000")],
    )  # fmt: skip
    assert steps[0] == steps[1] == Step()
    (refused,) = steps[2].rejected
    assert (refused.event_id, refused.code) == ("q-3", "target_sum")
    assert refused.event is not None
    assert not steps[2].refused  # the company's own target is placed


def test_a_target_whose_parent_never_came_is_refused_when_its_period_closes(
    reference_plan: Plan,
) -> None:
    world, steps = fold(
        reference_plan,
        [quota(1, "east", "region", "cloud", "500000", "2026-03"),
         quota(2, "T-1", "team", "east", "200000", "2026-03"),
         quota(3, "T-1", "team", "east", "200000", "2026-04"),
         close("2026-03", "2026-04-01T00:00:00+08:00")],
    )  # fmt: skip
    steps = [*steps[:2], steps[3]]
    assert [(r.event_id, r.code) for r in steps[2].rejected] == [
        ("q-1", "parent_unknown"),
        ("q-2", "parent_unknown"),
    ]
    assert steps[2].rejected[0].reason == (
        "region east 2026-03 (500,000.00) waited for its parent cloud, which has no "
        "2026-03 target when 2026-03 closed"
    )
    assert not steps[2].refused
    assert list(world.orphans) == ["east@2026-04"]  # April has not closed


def test_simulate_reports_a_target_refused_at_the_close_on_its_own_line(
    reference_plan: Plan,
) -> None:
    lines = [
        envelope("QuotaAssigned", "q-1", AT, node_id="east", level="region",
                 parent_id="cloud", period="2026-03", amount="500000",
                 currency="CNY"),
        envelope("PeriodClosed", "pc-1", "2026-04-01T00:00:00+08:00",
                 period="2026-03"),
    ]  # fmt: skip
    folded = replay([reference_plan], [orjson.dumps(line) for line in lines])
    assert [(r.line, r.reason.split(":")[0]) for r in folded.rejected] == [
        (1, "parent_unknown")
    ]


def test_a_confirmed_decomposition_must_add_up_exactly(reference_plan: Plan) -> None:
    tree = [quota(1, "ACME", "company", None, "1000000"),
            quota(2, "cloud", "product_line", "ACME", "600000")]  # fmt: skip
    world, steps = fold(
        reference_plan,
        [*tree, confirmed(1, "ACME"),
         quota(3, "edge", "product_line", "ACME", "400000"), confirmed(2, "ACME"),
         quota(4, "east", "region", "edge", "400000"), confirmed(3, "edge")],
    )  # fmt: skip
    assert not steps[6].rejected
    assert steps[2].rejected[0].reason == (
        "children of ACME 2026 sum to 600,000.00, 400,000.00 short of 1,000,000.00"
    )
    assert not steps[4].rejected
    node = world.targets.get("ACME", "2026")
    assert node is not None
    assert node.confirmed_by == "CFO"
    assert world.targets.history[-1].kind == "confirmed"


def test_new_products_carry_their_share_of_a_confirmed_company(
    reference_plan: Plan,
) -> None:
    rules = TargetRules(new_product_lines=("edge",), new_product_min_share=D("0.3"))
    plan = reference_plan.model_copy(update={"targets": rules})
    tree = [quota(1, "ACME", "company", None, "1000000"),
            quota(2, "cloud", "product_line", "ACME", "800000"),
            quota(3, "edge", "product_line", "ACME", "200000")]  # fmt: skip
    _, steps = fold(plan, [*tree, confirmed(1, "ACME")])
    (refused,) = steps[3].rejected
    assert refused.code == "new_product_share"
    assert "new products carry 20.00% of ACME 2026" in refused.reason


def test_a_refused_target_leaves_the_deals_commission_alone(
    reference_plan: Plan,
) -> None:
    _, steps = fold(
        reference_plan,
        [quota(1, "ACME", "company", None, "100"),
         quota(2, "cloud", "product_line", "ACME", "200"), deal(1, "100000.00")],
    )  # fmt: skip
    assert steps[1].rejected[0].code == "target_sum"
    assert steps[2].lines[0].amount == D("3000.00")
