"""Versioned schema: numbered SQL files applied once each, in order, idempotently."""

from __future__ import annotations

from importlib import resources

from projections.cluster import on_cluster
from projections.store import Store

_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations
(name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
ENGINE = ReplacingMergeTree ORDER BY name
"""


def migration_files() -> list[tuple[str, str]]:
    """(name, sql) of every migration shipped with the package, in order."""
    folder = resources.files("projections") / "sql"
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )


def migrate(store: Store, cluster: str | None = None) -> list[str]:
    """Apply the migrations not yet applied; return the names applied now. With a
    ``cluster``, every statement is applied ``ON CLUSTER`` (``projections.cluster``)."""
    for statement in _prepared(_MIGRATIONS_DDL, cluster, distributed=False):
        store.command(statement)
    done = {row[0] for row in store.rows("SELECT name FROM schema_migrations FINAL")}
    applied = []
    for name, sql in migration_files():
        if name in done:
            continue
        for statement in planned(sql, cluster):
            store.command(statement)
        store.insert("schema_migrations", [[name]], ["name"])
        applied.append(name)
    return applied


def planned(sql: str, cluster: str | None) -> list[str]:
    """The statements of one migration, as run on one server or on ``cluster``."""
    return [
        prepared
        for statement in _statements(sql)
        for prepared in _prepared(statement, cluster)
    ]


def _prepared(
    statement: str, cluster: str | None, distributed: bool = True
) -> list[str]:
    if cluster is None:
        return [statement]
    return on_cluster(statement, cluster, distributed=distributed)


def _statements(sql: str) -> list[str]:
    body = "\n".join(
        line for line in sql.splitlines() if not line.lstrip().startswith("--")
    )
    return [part.strip() for part in body.split(";") if part.strip()]
