"""The walking skeleton's slice through the real broker and ClickHouse engine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from projections.store import Store
from streams.infra.settings import Settings
from streams.infra.topics import DEALS, DLQ
from streams.log import deadletter
from streams.state.routing import owner_partition
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event
from tests.integration.conftest import (
    get_json,
    metrics_text,
    read_topic,
    send,
    unique,
    wait_for,
)

pytestmark = pytest.mark.integration


def _deal(rep: str, n: int, amount: str, **overrides: Any) -> dict[str, Any]:
    return deal_event(
        event_id=f"{rep}-e{n}",
        deal_id=f"{rep}-D{n}",
        rep_id=rep,
        amount=amount,
        margin="0.00",
        new_customer=False,
        splits=[{"rep_id": rep, "share": "1"}],
        **overrides,
    )


def _publish(producer: Producer, event: dict[str, Any]) -> None:
    send(producer, DEALS, event["deal_id"].encode(), orjson.dumps(event))


def _lines(store: Store, rep: str) -> list[tuple[Any, ...]]:
    return store.rows(
        "SELECT line_id, amount, formula FROM ledger_lines FINAL "
        "WHERE rep_id = {rep:String} ORDER BY version",
        {"rep": rep},
    )


def _deals_booked(store: Store, rep: str) -> int:
    return len({line_id.split("/")[0] for line_id, _, _ in _lines(store, rep)})


def test_deals_on_the_topic_book_54000_of_band_commission_in_clickhouse(
    worker: QuotaFlowApp, producer: Producer, store: Store, settings: Settings
) -> None:
    rep = unique("R")
    # Deals are keyed by deal_id, so two deals of one rep may sit in different
    # partitions and Kafka orders them only within one: publish each after the last
    # is booked, to know which band position each deal takes.
    for n, amount in enumerate(("400000.00", "300000.00", "500000.00"), start=1):
        _publish(producer, _deal(rep, n, amount))
        wait_for(lambda n=n: _deals_booked(store, rep) == n, what=f"deal {n} booked")
    lines = _lines(store, rep)
    assert len(lines) == 5
    assert sum(amount for _, amount, _ in lines) == Decimal("54000.00")
    assert lines[-1][2] == "200,000.00 of revenue in band 1,000,000.00–∞ × 7%"

    board = get_json(settings, "/api/leaderboard?limit=1000")
    mine = next(row for row in board if row["rep_id"] == rep)
    assert (mine["commission"], mine["deals"]) == ("54000.00", 3)
    statement = get_json(settings, f"/api/reps/{rep}/statement")
    assert [line["amount"] for line in statement] == [
        "12000.00", "3000.00", "10000.00", "15000.00", "14000.00",
    ]  # fmt: skip
    assert statement[0]["plan"] == "reference v1"
    assert statement[0]["source_event_ids"] == [f"{rep}-e1"]


def test_malformed_event_goes_to_the_dlq_and_the_next_valid_one_is_processed(
    worker: QuotaFlowApp, producer: Producer, store: Store, settings: Settings
) -> None:
    rep = unique("R")
    bad_key = unique("bad").encode()
    garbage = b'{"event_type": "DealClosed", "amount": 1.5, oops'
    send(producer, DEALS, bad_key, garbage)
    float_money = _deal(rep, 1, "1000.00")
    float_money["amount"] = 1000.0
    send(producer, DEALS, bad_key + b"-float", orjson.dumps(float_money))
    _publish(producer, _deal(rep, 2, "1000.00"))

    wait_for(lambda: _lines(store, rep), what=f"the valid deal of {rep} in ClickHouse")
    assert [amount for _, amount, _ in _lines(store, rep)] == [Decimal("30.00")]

    def dead_letters() -> dict[bytes, Any] | None:
        found = {
            m.key(): m for m in read_topic(settings, DLQ) if m.key().startswith(bad_key)
        }
        return found if len(found) == 2 else None

    found = wait_for(dead_letters, what="two dead letters")
    undecodable = found[bad_key]
    headers = deadletter.read_headers(undecodable.headers())
    assert undecodable.value() == garbage
    assert headers[deadletter.REASON] == "undecodable"
    assert headers[deadletter.SOURCE_TOPIC] == DEALS
    assert int(headers[deadletter.SOURCE_OFFSET]) >= 0
    floats = deadletter.read_headers(found[bad_key + b"-float"].headers())
    assert floats[deadletter.REASON] == "invalid"
    assert "amount" in floats[deadletter.DETAIL]
    assert "decimal string" in floats[deadletter.DETAIL]


def test_the_same_event_sent_twice_is_booked_once(
    worker: QuotaFlowApp, producer: Producer, store: Store
) -> None:
    rep = unique("R")
    twice = _deal(rep, 1, "100000.00")
    _publish(producer, twice)
    _publish(producer, twice)
    _publish(producer, _deal(rep, 2, "100000.00"))

    lines = wait_for(lambda: (rows := _lines(store, rep)) and len(rows) >= 2 and rows,
                     what=f"both deals of {rep}")  # fmt: skip
    assert [amount for _, amount, _ in lines] == [
        Decimal("3000.00"),
        Decimal("3000.00"),
    ]
    raw = store.rows(
        "SELECT count() FROM ledger_lines WHERE rep_id = {rep:String}", {"rep": rep}
    )
    assert raw == [(2,)]


def test_split_deal_books_each_credited_rep_their_share(
    worker: QuotaFlowApp, producer: Producer, store: Store
) -> None:
    lead, partner = unique("R"), unique("R")
    event = _deal(lead, 1, "200000.00")
    event["splits"] = [
        {"rep_id": lead, "share": "0.75"},
        {"rep_id": partner, "share": "0.25"},
    ]
    _publish(producer, event)
    wait_for(lambda: _lines(store, lead) and _lines(store, partner), what="both reps")
    assert [a for _, a, _ in _lines(store, lead)] == [Decimal("4500.00")]
    assert [a for _, a, _ in _lines(store, partner)] == [Decimal("1500.00")]


def test_health_and_metrics_report_what_the_worker_did(
    worker: QuotaFlowApp, producer: Producer, store: Store, settings: Settings
) -> None:
    rep = unique("R")
    send(producer, DEALS, b"k", b"not json")
    _publish(producer, _deal(rep, 1, "5000.00"))
    wait_for(lambda: _lines(store, rep), what="the deal in ClickHouse")

    assert get_json(settings, "/health") == {"live": True, "ready": True}

    def samples() -> dict[str, float]:
        text = metrics_text(settings)
        return {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line and not line.startswith("#")
        }

    # The lag gauges are refreshed every 5 s; the gauge of the rep topic's partition
    # that holds this rep shows up once measured (other partitions may not have had
    # a message yet).
    partition = owner_partition(rep, settings.topic_partitions)
    # The high-rate topics are consumed by the group <app>-hot (streams.hot).
    lag = f'kafka_consumergroup_lag{{consumergroup="{settings.app_id}-hot",'
    lag += f'partition="{partition}",topic="{settings.app_id}-rep-deals"}}'
    found = wait_for(lambda: (s := samples()) and lag in s and s, 30, "lag gauges")
    assert found[lag] >= 0
    assert found['quotaflow_events_total{outcome="applied",topic="deals"}'] >= 1
    assert (
        found['quotaflow_folded_events_total{outcome="applied",type="DealClosed"}'] >= 1
    )
    assert found['quotaflow_dead_letters_total{reason="undecodable"}'] >= 1
    assert found["quotaflow_processing_latency_seconds_count"] >= 1
    assert found["quotaflow_fold_seconds_count"] >= 1
    assert found["quotaflow_clickhouse_write_rows_count"] >= 1
    # No write is failing now (the outage test, earlier in the session, counted
    # its retried errors on this worker).
    assert found["quotaflow_clickhouse_failing"] == 0
    assert found["quotaflow_rebalances_total"] >= 1
