"""faust's RocksDB table store, with every database it opens closed when it is done.

faust's store never closes a partition's database (its ``close()`` calls are
commented out): on a rebalance it drops the handle and opens the partition again,
and on stop it drops them all, leaving the closing to the garbage collector. A
handle still referenced keeps the database locked by its own process: faust then
retries the open for 30 s and crashes the app, and a worker restarted in the same
process cannot open its tables (seen in CI, test_stream_recovery.py, where a stop
bounded by ``streams.worker.STOP_SECONDS`` left the first worker's handles open).
``CollectingStore`` closes the handle it opened before opening a partition again,
collects if the lock is still held, and ``close_stores`` closes every handle of an
app's tables when the worker is done with it.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Any

import faust.stores
from faust.stores.rocksdb import Store as RocksDBStore

SCHEME = "quotaflow-rocksdb"


class CollectingStore(RocksDBStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._opened: dict[int, Any] = {}

    def _open_for_partition(self, partition: int) -> Any:
        # faust opens a partition only when it holds no handle for it: one this store
        # opened before is stale (dropped on a rebalance) and is closed first.
        _close(self._opened.pop(partition, None))
        try:
            db = super()._open_for_partition(partition)
        except Exception as exc:
            if "lock" in repr(exc):
                gc.collect()
            raise
        self._opened[partition] = db
        return db

    def close_all(self) -> None:
        """Close every database this store opened; the store holds none after."""
        for db in self._opened.values():
            _close(db)
        self._opened.clear()
        self._dbs.clear()


def _close(db: Any) -> None:
    if db is not None:
        with contextlib.suppress(Exception):  # already closed, or never opened whole
            db.close()


def close_stores(app: faust.App) -> None:
    """Close the databases of every RocksDB table of ``app`` (after it stopped, or
    gave up stopping)."""
    for table in app.tables.values():
        store = getattr(table, "_data", None)
        if isinstance(store, CollectingStore):
            store.close_all()


def store_url(url: str) -> str:
    """The store faust is given for ``QUOTAFLOW_STORE``: ``rocksdb://`` is served by
    ``CollectingStore``, anything else as it is."""
    if not url.startswith("rocksdb://"):
        return url
    faust.stores.STORES.aliases.setdefault(SCHEME, f"{__name__}:CollectingStore")
    return SCHEME + url[len("rocksdb") :]
