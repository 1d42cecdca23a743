"""One ClickHouse connection, embedded (chDB) or server, shareable between threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import clickhouse_connect

# ClickHouse 26.x turns async_insert on by default; QuotaFlow wants an insert to be
# visible (and deduplicated) when the call returns.
INSERT_SETTINGS: dict[str, Any] = {"async_insert": 0}


class Store:
    """A clickhouse-connect client behind a lock (chDB is not re-entrant), used in
    one database. Stores of other databases can share the client
    (``in_database``): each call names its store's database. ``connect`` makes
    another client of the same engine (``reader``)."""

    def __init__(
        self,
        client: Any,
        database: str,
        lock: threading.Lock | None = None,
        connect: Callable[[], Any] | None = None,
    ) -> None:
        self._client = client
        self._lock = lock or threading.Lock()
        self._connect = connect
        self.database = database
        with self._lock:
            client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            client.database = database

    def in_database(self, database: str) -> Store:
        """A store of ``database`` (created if missing) on the same client."""
        return Store(self._client, database, self._lock)

    def reader(self) -> Store:
        """The same database on a client and lock of its own, so that queries run
        beside this store's inserts instead of waiting behind them (two chDB
        clients of one directory query and insert at once in one process); this
        store itself where it cannot make another client."""
        if self._connect is None:
            return self
        return Store(self._connect(), self.database)

    @classmethod
    def embedded(cls, directory: Path, database: str) -> Store:
        directory.mkdir(parents=True, exist_ok=True)
        dsn = f"chdb://{directory.resolve()}"
        connect = partial(clickhouse_connect.get_client, dsn=dsn)
        return cls(connect(), database, connect=connect)

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
        connect = partial(
            clickhouse_connect.get_client,
            host=host,
            port=port,
            username=user,
            password=password,
            secure=secure,
        )
        return cls(connect(), database, connect=connect)

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
            context = self._client.create_insert_context(
                table, column_names=list(columns), settings=settings, data=rows
            )
            try:
                self._client.insert(context=context)
            finally:
                _release(context)

    def rows(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        with self._lock:
            self._client.database = self.database
            return list(self._client.query(sql, parameters=parameters).result_rows)

    def close(self) -> None:
        with self._lock:
            self._client.close()


def _release(context: Any) -> None:
    """Let an insert's rows go when the insert returns. clickhouse-connect's insert
    context keeps a bound method of itself (``_next_block_data``), a reference
    cycle: the rows of every insert otherwise wait for Python's cyclic collector,
    and each of its young collections walks them meanwhile (a ``bench stream`` of
    20,000 events ended with 40,490 row lists held by such cycles)."""
    vars(context).pop("_next_block_data", None)
