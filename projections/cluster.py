"""The schema on a ClickHouse cluster: every migration statement written for one
server, made ``ON CLUSTER``.

With a cluster name set, a table ``t`` of a migration becomes two:
- ``t_local`` on every node, a ``Replicated…MergeTree`` (the engine of the migration,
  replicated; its ZooKeeper/Keeper path names the shard, the database and the table,
  and each replica names itself through the ``{shard}`` and ``{replica}`` macros);
- ``t`` itself, a ``Distributed`` table over the ``t_local`` of every shard, sharded by
  ``cityHash64(rep_id)``: one rep's lines are on one shard, so a rep's statement
  and a rep's totals are read from one place.

Readers and writers keep using ``t``; an ``ALTER TABLE t`` changes both, except
``MODIFY SETTING``, which is a setting of the storage: it changes ``t_local`` only.
"""

from __future__ import annotations

import re

LOCAL = "_local"
SHARDING_KEY = "cityHash64(rep_id)"
# Tables without a rep: sharded by where their rows come from.
SHARDING_KEYS = {
    "dead_letters": "cityHash64(source_topic, source_partition, source_offset)",
    "targets": "cityHash64(node_id)",
    "target_changes": "cityHash64(node_id)",
    "heat_cells": "cityHash64(period, region, product_line)",
}

_CREATE = re.compile(
    r"^CREATE TABLE IF NOT EXISTS (?P<name>\w+)\s*(?P<body>\(.*\))\s*"
    r"ENGINE\s*=\s*(?P<engine>\w*MergeTree)(?:\((?P<args>[^)]*)\))?\s*(?P<rest>.*)$",
    re.DOTALL,
)
_ALTER = re.compile(r"^ALTER TABLE (?P<name>\w+)\s+(?P<rest>.*)$", re.DOTALL)


class UnsupportedStatement(ValueError):
    """A migration statement this module cannot make ``ON CLUSTER``."""


def on_cluster(statement: str, cluster: str, *, distributed: bool = True) -> list[str]:
    """The statements that apply ``statement`` to every node of ``cluster``.
    Without ``distributed`` a table is only replicated, under its own name (the
    migrations' bookkeeping, which has no rep to shard by)."""
    _check_name(cluster)
    text = statement.strip()
    if created := _CREATE.match(text):
        name, body = created["name"], created["body"]
        local = name + LOCAL if distributed else name
        path = f"'/clickhouse/tables/{{shard}}/{{database}}/{local}'"
        args = ", ".join(a for a in (path, "'{replica}'", created["args"]) if a)
        replicated = (
            f"CREATE TABLE IF NOT EXISTS {local} ON CLUSTER {cluster}\n{body}\n"
            f"ENGINE = Replicated{created['engine']}({args})\n{created['rest']}"
        )
        if not distributed:
            return [replicated]
        return [
            replicated,
            f"CREATE TABLE IF NOT EXISTS {name} ON CLUSTER {cluster} AS {local}\n"
            f"ENGINE = Distributed({cluster}, currentDatabase(), {local}, "
            f"{SHARDING_KEYS.get(name, SHARDING_KEY)})",
        ]
    if altered := _ALTER.match(text):
        name, rest = altered["name"], altered["rest"]
        local = f"ALTER TABLE {name}{LOCAL} ON CLUSTER {cluster} {rest}"
        if rest.lstrip().upper().startswith("MODIFY SETTING"):
            return [local]
        return [local, f"ALTER TABLE {name} ON CLUSTER {cluster} {rest}"]
    msg = f"cannot apply on a cluster: {text.splitlines()[0][:80]}"
    raise UnsupportedStatement(msg)


def _check_name(cluster: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", cluster):
        msg = f"a cluster name is letters, digits and underscores, not {cluster!r}"
        raise UnsupportedStatement(msg)
