"""faust's RocksDB table store, with a collection before an open is tried again.

On a rebalance faust's store drops a partition's database and leaves closing it to
the garbage collector, then opens it again for the new assignment, retrying for 30 s
while the old handle still holds the lock. A handle kept alive by a reference cycle
is only freed by a cyclic collection, which an idle retry loop may not trigger: the
partition stays locked by its own process and faust crashes the app (seen under load
in tests/integration/test_stream_recovery.py). Collecting before each retry frees it.
"""

from __future__ import annotations

import gc
from typing import Any

import faust.stores
from faust.stores.rocksdb import Store as RocksDBStore

SCHEME = "quotaflow-rocksdb"


class CollectingStore(RocksDBStore):
    def _open_for_partition(self, partition: int) -> Any:
        try:
            return super()._open_for_partition(partition)
        except Exception as exc:
            if "lock" in repr(exc):
                gc.collect()
            raise


def store_url(url: str) -> str:
    """The store faust is given for ``QUOTAFLOW_STORE``: ``rocksdb://`` is served by
    ``CollectingStore``, anything else as it is."""
    if not url.startswith("rocksdb://"):
        return url
    faust.stores.STORES.aliases.setdefault(SCHEME, f"{__name__}:CollectingStore")
    return SCHEME + url[len("rocksdb") :]
