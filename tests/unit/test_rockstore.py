"""The RocksDB table store closes what it opened: a partition opened again after a
rebalance, and every table of a stopped worker (streams/rockstore.py)."""

from __future__ import annotations

from pathlib import Path

import faust
import faust.stores
from rocksdict import Rdict

from streams.rockstore import CollectingStore, close_stores, store_url


def _table(tmp_path: Path) -> tuple[faust.App, CollectingStore]:
    app = faust.App("rockstore-test", store=store_url("rocksdb://"), datadir=tmp_path)
    table = app.Table("rep-worlds", partitions=2, key_type=bytes, value_type=bytes)
    store = table.data
    assert isinstance(store, CollectingStore)
    return app, store


def test_rocksdb_urls_are_served_by_the_collecting_store() -> None:
    assert faust.stores.by_url(store_url("rocksdb://")) is CollectingStore
    assert store_url("memory://") == "memory://"


def test_a_partition_dropped_on_a_rebalance_opens_again_while_its_handle_lives(
    tmp_path: Path,
) -> None:
    _, store = _table(tmp_path)
    first = store._db_for_partition(1)
    first[b"k"] = b"v"
    store._dbs.pop(1)  # what faust's revoke does, without closing it
    # ``first`` still holds the handle: faust's own store would find it locked.
    again = store._db_for_partition(1)
    assert again is not first
    assert again[b"k"] == b"v"


def test_a_stopped_workers_tables_are_closed_for_the_next_in_the_process(
    tmp_path: Path,
) -> None:
    app, store = _table(tmp_path)
    held = store._db_for_partition(0)
    held[b"k"] = b"v"
    close_stores(app)
    assert store._dbs == {}
    reopened = Rdict(str(store.partition_path(0)))
    assert reopened[b"k"] == b"v"
    reopened.close()
