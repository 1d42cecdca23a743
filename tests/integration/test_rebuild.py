"""`quotaflow rebuild` on the real broker and the real ClickHouse engine: the log
replayed into new tables equals the live projections row for row, and the swap
puts them in place and keeps the old ones until dropped."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from domain.plan import Plan
from projections.migrations import migrate
from projections.store import Store
from streams.bench.generator import sample_events
from streams.infra.embedded import BrokerProcess, free_port
from streams.infra.settings import BrokerMode, EmbeddedBroker, Settings
from streams.infra.topics import (
    ACTIVITIES,
    CONTROL,
    DEALS,
    ORG,
    TARGETS,
    ensure_topics,
    period_shares_topic,
    topic_specs,
)
from streams.log.history import end_offset
from streams.state.rebuild import (
    PROJECTED,
    RebuildError,
    compare,
    drop_previous,
    prepare,
    replay,
    sources,
    swap,
)
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.factories import envelope, hire_event, target_chain
from tests.integration.conftest import app_env, unique, wait_for
from tests.integration.test_stream_equals_simulate import booked, publish, simulated

pytestmark = pytest.mark.integration
QUOTAFLOW = str(Path(sys.executable).parent / "quotaflow")
AT = "2026-01-01T00:00:00+08:00"


@pytest.fixture
def noida(tmp_path: Path) -> Iterator[BrokerProcess]:
    # A broker of its own: the dead-letter topic is shared by every app on a broker.
    with BrokerProcess(EmbeddedBroker.NOIDA, tmp_path / "noida") as running:
        yield running


def _rows(store: Store, table: str) -> list[tuple[Any, ...]]:
    stamps = {"written_at", "set_aside_at"} | (
        {"version"} if table == "heat_cells" else set()
    )
    columns = [
        name
        for (name,) in store.rows(
            "SELECT name FROM system.columns WHERE database = {db:String} "
            "AND table = {t:String} ORDER BY position",
            {"db": store.database, "t": table},
        )
        if name not in stamps
    ]
    listed = ", ".join(f"`{c}`" for c in columns)
    return sorted(store.rows(f"SELECT {listed} FROM `{table}` FINAL"), key=repr)  # noqa: S608


def _org(rep: str) -> list[tuple[str, bytes, bytes]]:
    """A hire, a target chain down to the rep, the rep's acknowledgement of the plan,
    and two events that cannot be read (dead letters)."""
    company, line, region, team = (unique(x) for x in ("CO", "PL", "RG", "TM"))
    hire = hire_event(rep, team, "east", AT, hired_at="2025-01-01T00:00:00+08:00")
    out = [(ORG, rep.encode(), orjson.dumps(hire))]
    for quota in target_chain(
        (company, line, region, team, rep), "2026-Q1", "500000.00", AT
    ):
        out.append((TARGETS, quota["node_id"].encode(), orjson.dumps(quota)))
    # A step of the payout cycle: a row of payout_records, rebuilt like the rest.
    acknowledged = envelope("PlanAcknowledged", unique("ack"), AT, rep_id=rep,
                            plan_id="reference", version=1)  # fmt: skip
    out.append((ACTIVITIES, rep.encode(), orjson.dumps(acknowledged)))
    out += [(DEALS, b"bad-1", b"{not json"), (DEALS, b"bad-2", b'{"event_type": 1}')]
    return out


def test_a_rebuild_equals_the_live_projections_row_for_row_and_swaps_them_in(
    noida: BrokerProcess, store: Store, plan: Plan, tmp_path: Path
) -> None:
    own = Settings(
        broker_mode=BrokerMode.EXTERNAL,
        bootstrap_servers=noida.bootstrap_servers,
        data_dir=tmp_path / "worker",
        app_id=unique("qf-rebuild"),
        topic_partitions=2,
        web_port=free_port(),
        clickhouse_database=f"qf_rebuild_{uuid.uuid4().hex[:8]}",
        batch_size=300,
    )
    ensure_topics(AdminClient(own.confluent_config()), topic_specs(own.app_id, 2))
    live = store.in_database(own.clickhouse_database)
    migrate(live)
    prefix = unique("rb") + "-"
    events = sample_events(3_000, seed=31, prefix=prefix)
    expected = simulated(plan, events)
    producer = Producer(own.confluent_config())
    publish(producer, events[:1_500])
    with WorkerThread(lambda: QuotaFlowApp(own, live, plan)):
        wait_for(lambda: booked(live, prefix), 120, "the first half booked", 1)
    # The restarted worker restores its partitions (and counts their heatmap cells
    # again) before it folds the rest.
    publish(producer, events[1_500:])
    extra = _org(unique("R-RB"))
    publish(producer, extra)
    with WorkerThread(lambda: QuotaFlowApp(own, live, plan)):
        wait_for(lambda: booked(live, prefix) == expected, 240, "the live totals", 1)
        # The quarter closes after its deals: a deal after its period's close is
        # refused, so an earlier close would leave the totals to the stream's order.
        close = envelope("PeriodClosed", unique("pc"), "2026-04-01T00:00:00+08:00",
                         period="2026-Q1")  # fmt: skip
        publish(producer, [(CONTROL, b"2026-Q1", orjson.dumps(close))])

        shares = period_shares_topic(own.app_id)

        def reasons() -> set[str]:
            return {r for (r,) in live.rows("SELECT reason FROM dead_letters FINAL")}

        def settled() -> bool:
            counts = {t: len(_rows(live, t)) for t in PROJECTED}
            return (
                counts["targets"] == 5
                # The two unreadable events; the sample's order on the stream may
                # also set aside a payment that arrives after its deal's cancel.
                and reasons() >= {"undecodable", "unknown_event_type"}
                and all(counts.values())
                # every rep partition sent its share of the close
                and end_offset(own.confluent_config(), shares, 0) == 2
            )

        wait_for(settled, 120, "the hire, targets, dead letters and the close", 1)
    before = {table: _rows(live, table) for table in PROJECTED}

    rebuilt = prepare(live)
    replayed: list[int] = []
    replay(own, plan, rebuilt, sources(own), replayed.append)
    assert sum(replayed) > len(events)  # every message of the rep and share topics
    compared = {row.table: row for row in compare(live, rebuilt)}
    for table in PROJECTED:
        assert compared[table].identical, compared[table]
        assert compared[table].live == len(before[table]) > 0
    assert swap(live, rebuilt) == f"{own.clickhouse_database}__previous"
    for table in PROJECTED:
        assert _rows(live, table) == before[table], table
    previous = live.in_database(f"{own.clickhouse_database}__previous")
    assert _rows(previous, "ledger_lines") == before["ledger_lines"]
    with pytest.raises(RebuildError, match="drop them first"):
        prepare(live)
    assert drop_previous(live) is True
    assert drop_previous(live) is False


def test_the_rebuild_command_shows_progress_compares_and_keeps_the_old_tables(
    noida: BrokerProcess, tmp_path: Path
) -> None:
    env = app_env(noida, unique("qf-rbcli"), 2, tmp_path / "qf")

    def rebuild(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [QUOTAFLOW, "rebuild", *args], env=env, capture_output=True, text=True,
            timeout=180, check=False,
        )  # fmt: skip

    first = rebuild()
    assert first.returncode == 0, first.stderr
    assert "ledger_lines   live         0  rebuilt         0  identical" in first.stdout
    assert '"old_tables": "quotaflow__previous"' in first.stdout
    again = rebuild()
    assert again.returncode == 2
    assert "drop them first: quotaflow rebuild --drop-previous" in again.stderr
    dropped = rebuild("--drop-previous")
    assert dropped.stdout.strip() == "dropped the old tables"
    dry = rebuild("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: the rebuilt tables are in quotaflow__rebuild" in dry.stdout
