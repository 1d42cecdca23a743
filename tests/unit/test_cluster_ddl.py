"""The schema ON CLUSTER: replicated tables on every node, Distributed ones over
them, for every migration QuotaFlow ships."""

from __future__ import annotations

import pytest

from projections.cluster import UnsupportedStatement, on_cluster
from projections.migrations import migration_files, planned

CLUSTER = "qf_cluster"


def test_a_table_becomes_a_replicated_local_table_and_a_distributed_one() -> None:
    sql = dict(migration_files())["001_ledger_lines.sql"]
    local, distributed = planned(sql, CLUSTER)
    assert local.startswith(
        "CREATE TABLE IF NOT EXISTS ledger_lines_local ON CLUSTER qf_cluster\n("
    )
    assert (
        "ENGINE = ReplicatedReplacingMergeTree("
        "'/clickhouse/tables/{shard}/{database}/ledger_lines_local', '{replica}', "
        "version)"
    ) in local
    assert "ORDER BY (rep_id, line_id)" in local
    assert "line_id          String," in local  # the columns are kept as written
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS ledger_lines ON CLUSTER qf_cluster "
        "AS ledger_lines_local\n"
        "ENGINE = Distributed(qf_cluster, currentDatabase(), ledger_lines_local, "
        "cityHash64(rep_id))"
    )


def test_an_alter_changes_the_local_and_the_distributed_table() -> None:
    sql = dict(migration_files())["002_ledger_kind.sql"]
    assert planned(sql, CLUSTER) == [
        "ALTER TABLE ledger_lines_local ON CLUSTER qf_cluster ADD COLUMN IF NOT "
        "EXISTS kind LowCardinality(String) DEFAULT 'earned' AFTER deal_id",
        "ALTER TABLE ledger_lines ON CLUSTER qf_cluster ADD COLUMN IF NOT "
        "EXISTS kind LowCardinality(String) DEFAULT 'earned' AFTER deal_id",
    ]


def test_every_shipped_migration_can_run_on_a_cluster() -> None:
    for name, sql in migration_files():
        statements = planned(sql, CLUSTER)
        assert statements, name
        assert all(" ON CLUSTER qf_cluster" in s for s in statements), name


def test_without_a_cluster_the_statements_are_run_as_written() -> None:
    sql = dict(migration_files())["002_ledger_kind.sql"]
    (statement,) = planned(sql, None)
    assert statement.startswith("ALTER TABLE ledger_lines ADD COLUMN")


def test_the_bookkeeping_table_is_replicated_under_its_own_name() -> None:
    ddl = "CREATE TABLE IF NOT EXISTS schema_migrations (name String) " + (
        "ENGINE = ReplacingMergeTree ORDER BY name"
    )
    (statement,) = on_cluster(ddl, CLUSTER, distributed=False)
    assert statement.startswith("CREATE TABLE IF NOT EXISTS schema_migrations ON")
    assert (
        "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/"
        "schema_migrations', '{replica}')"
    ) in statement


@pytest.mark.parametrize(
    ("statement", "cluster", "reason"),
    [
        ("DROP TABLE ledger_lines", CLUSTER, "cannot apply on a cluster"),
        ("ALTER TABLE ledger_lines DELETE WHERE 1", "x; DROP", "cluster name"),
    ],
)
def test_what_cannot_be_made_on_cluster_is_refused_with_the_reason(
    statement: str, cluster: str, reason: str
) -> None:
    with pytest.raises(UnsupportedStatement, match=reason):
        on_cluster(statement, cluster)


def test_a_table_without_reps_is_sharded_by_where_its_rows_come_from() -> None:
    sql = dict(migration_files())["003_dead_letters.sql"]
    _, distributed = planned(sql, CLUSTER)
    assert distributed.endswith(
        "cityHash64(source_topic, source_partition, source_offset))"
    )


def test_a_storage_setting_changes_only_the_local_tables() -> None:
    statement = (
        "ALTER TABLE targets MODIFY SETTING non_replicated_deduplication_window = 9"
    )
    assert on_cluster(statement, "qf") == [
        "ALTER TABLE targets_local ON CLUSTER qf "
        "MODIFY SETTING non_replicated_deduplication_window = 9"
    ]
