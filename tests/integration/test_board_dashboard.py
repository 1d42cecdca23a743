"""The Grafana board's ClickHouse queries run on the real engine against the table
the worker writes, and show what it booked."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from confluent_kafka import Producer

from projections.store import Store
from streams.app import QuotaFlowApp
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


def test_the_board_ranks_the_top_earner_first_and_sums_by_rule_and_day(
    worker: QuotaFlowApp, producer: Producer, store: Store
) -> None:
    rep = unique("TOP")
    _publish(producer, _deal(rep, 1, "900000000.00"))
    wait_for(lambda: earned(store, rep) > 0, 60, "the deal's commission")
    panels = {p["title"]: p for p in json.loads(BOARD.read_text())["panels"]}
    results = {}
    for title, panel in panels.items():
        (target,) = panel["targets"]
        sql = TIME_FILTER.sub(RANGE, target["rawSql"])
        assert "$__" not in sql, f"{title}: a Grafana macro is not expanded here"
        results[title] = store.rows(sql)
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
