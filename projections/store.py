"""One ClickHouse connection, embedded (chDB) or server, shareable between threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import clickhouse_connect

# ClickHouse 26.x turns async_insert on by default; QuotaFlow wants an insert to be
# visible (and deduplicated) when the call returns.
INSERT_SETTINGS: dict[str, Any] = {"async_insert": 0}


class Store:
    """A clickhouse-connect client behind a lock (chDB is not re-entrant), used in
    one database. Stores of other databases can share the client
    (``in_database``): each call names its store's database."""

    def __init__(
        self, client: Any, database: str, lock: threading.Lock | None = None
    ) -> None:
        self._client = client
        self._lock = lock or threading.Lock()
        self.database = database
        with self._lock:
            client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            client.database = database

    def in_database(self, database: str) -> Store:
        """A store of ``database`` (created if missing) on the same client."""
        return Store(self._client, database, self._lock)

    @classmethod
    def embedded(cls, directory: Path, database: str) -> Store:
        directory.mkdir(parents=True, exist_ok=True)
        client = clickhouse_connect.get_client(dsn=f"chdb://{directory.resolve()}")
        return cls(client, database)

    @classmethod
    def server(
        cls,
        *,
        host: str,
        port: int,
        user: str,
        password: str,
        database: str,
        secure: bool,
    ) -> Store:
        client = clickhouse_connect.get_client(
            host=host, port=port, username=user, password=password, secure=secure
        )
        return cls(client, database)

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        with self._lock:
            self._client.database = self.database
            return self._client.command(sql, parameters=parameters)

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        columns: Sequence[str],
        token: str | None = None,
    ) -> None:
        """One insert; with a ``token``, ClickHouse drops a repeat of it
        (``projections.writer``)."""
        settings = dict(INSERT_SETTINGS)
        if token is not None:
            settings["insert_deduplication_token"] = token
        with self._lock:
            self._client.database = self.database
            self._client.insert(
                table, rows, column_names=list(columns), settings=settings
            )

    def rows(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        with self._lock:
            self._client.database = self.database
            return list(self._client.query(sql, parameters=parameters).result_rows)

    def close(self) -> None:
        with self._lock:
            self._client.close()
