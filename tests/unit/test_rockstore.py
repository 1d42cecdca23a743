"""The RocksDB table store frees a partition's database held only by a reference
cycle before it tries to open the partition again (streams/rockstore.py)."""

from __future__ import annotations

import gc
from pathlib import Path

import faust.stores
import pytest
from rocksdict import Rdict

from streams.rockstore import CollectingStore, store_url


def test_rocksdb_urls_are_served_by_the_collecting_store() -> None:
    assert faust.stores.by_url(store_url("rocksdb://")) is CollectingStore
    assert store_url("memory://") == "memory://"


def test_a_handle_held_by_a_cycle_locks_its_database_until_a_collection(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "rep-worlds-1.db")
    gc.disable()
    try:
        held: list[object] = [Rdict(path)]
        held.append(held)  # a cycle: only the cyclic collector frees the handle
        del held
        with pytest.raises(Exception, match="lock"):
            Rdict(path)
        gc.collect()
        again = Rdict(path)
        again.close()
    finally:
        gc.enable()
