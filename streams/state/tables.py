"""Keys of the faust tables that hold partition state (``deal-routes``,
``rep-worlds``): ``<partition>/<name>``, so a worker finds one partition's entries."""

from __future__ import annotations

from collections.abc import Iterable


def table_key(partition: int, name: str) -> bytes:
    return f"{partition}/{name}".encode()


def partition_entries(
    entries: Iterable[tuple[bytes, bytes]], partition: int
) -> dict[str, bytes]:
    """The entries of ``partition``, by name (the key without its partition)."""
    prefix = f"{partition}/"
    return {
        name[len(prefix) :]: value
        for key, value in entries
        if (name := key.decode()).startswith(prefix)
    }
