"""The Grafana board's ClickHouse queries run on the real engine against the table
the worker writes, and show what it booked."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from domain.credits import DealCredit
from projections.dimensions import write_dimensions
from projections.store import Store
from streams.worker.app import QuotaFlowApp
from tests.integration.conftest import earned, unique, wait_for
from tests.integration.test_deal_to_clickhouse import _deal, _publish

pytestmark = pytest.mark.integration
BOARD = Path(__file__).parents[2] / "deploy/grafana/dashboards/quotaflow-board.json"
# What Grafana's ClickHouse plugin puts for $__timeFilter(column): the board's range.
TIME_FILTER = re.compile(r"\$__timeFilter\((\w+)\)")
RANGE = (
    r"\1 >= toDateTime64('2000-01-01 00:00:00', 3) "
    r"AND \1 <= toDateTime64('2100-01-01 00:00:00', 3)"
)
HEATMAP = "Credited revenue by region and product line"


def _board(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every panel's rows, by title, as Grafana would fetch them."""
    results = {}
    for panel in json.loads(BOARD.read_text())["panels"]:
        (target,) = panel["targets"]
        sql = TIME_FILTER.sub(RANGE, target["rawSql"])
        assert "$__" not in sql, f"{panel['title']}: a Grafana macro is not expanded"
        results[panel["title"]] = store.rows(sql)
    return results


def test_the_board_ranks_the_top_earner_first_and_sums_by_rule_and_day(
    worker: QuotaFlowApp, producer: Producer, store: Store
) -> None:
    rep = unique("TOP")
    _publish(producer, _deal(rep, 1, "900000000.00"))
    wait_for(lambda: earned(store, rep) > 0, 60, "the deal's commission")
    results = _board(store)
    leader, *_ = results["Leaderboard: earned commission"]
    assert leader[0] == rep
    assert Decimal(leader[1]) == earned(store, rep)
    days = results["Earned commission per day"]
    assert sum(Decimal(total) for _, total in days) >= earned(store, rep)
    # The reference plan books no bonus or points: that panel's query only has to
    # run, which it did above; its kinds are checked when it has rows.
    assert all(
        kind in {"bonus", "points"}
        for _, kind, _, _ in results["Bonuses and points by rule"]
    )


def test_the_board_heatmap_sums_credits_as_they_stand_by_region_and_product_line(
    store: Store,
) -> None:
    region, line = unique("north"), unique("cloud")
    first = DealCredit(
        deal_id=unique("D"), rep_id=unique("HM"), customer_id=unique("C"),
        product_line=line, region=region,
        closed_at=datetime(2031, 5, 6, 2, 0, tzinfo=UTC), year="2031",
        quarter="2031-Q2", month="2031-05", credited=Decimal("1000.00"),
        margin=Decimal("100.00"), cancelled=False,
    )  # fmt: skip
    amended = replace(first, credited=Decimal("1500.00"))
    lost = replace(first, deal_id=unique("D"), credited=Decimal("7000.00"))
    elsewhere = replace(first, deal_id=unique("D"), product_line=unique("iot"))
    # Batch by batch, as the worker writes them; the last batch is a replay's rewrite.
    batches = [
        [(1, first), (2, lost), (3, elsewhere)],
        [(4, amended), (5, replace(lost, cancelled=True))],
        [(4, amended)],
    ]
    for batch in batches:
        write_dimensions(store, batch, (), ())
    cells = {
        (cell_region, cell_line): (Decimal(revenue), deals)
        for cell_region, cell_line, revenue, deals in _board(store)[HEATMAP]
    }
    assert cells[(region, line)] == (Decimal("1500.00"), 1)
    assert cells[(region, elsewhere.product_line)] == (Decimal("1000.00"), 1)
