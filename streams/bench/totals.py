"""``python -m streams.bench.totals DIR``: the earned totals booked in the embedded
ClickHouse under ``DIR`` (a stopped worker's), as JSON on stdout.

A process of its own: chDB opens one data directory per process, and the process
asking (``quotaflow bench kill``, or a test session) may hold another already."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from projections.store import Store
from streams.bench.stream import booked_totals


def main(directory: str) -> None:
    store = Store.embedded(Path(directory), "quotaflow")
    try:
        sys.stdout.buffer.write(orjson.dumps(booked_totals(store, "")))
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv[1])
