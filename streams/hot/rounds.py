"""Checkpoint rounds of the high-rate path: each partition whose state changed and
whose last round is older than ``snapshot_seconds`` writes the entries that changed,
with the offsets they reflect (``streams.state.checkpoints``). A round runs after a
batch's rows and sends, so a checkpoint never runs ahead of them."""

from __future__ import annotations

import time
from collections.abc import Callable

from streams.hot.stages import Stages
from streams.infra.metrics import Metrics
from streams.state.checkpoints import Checkpoints, checkpoint_key
from streams.state.partitions import RepPartition
from streams.state.snapshots import BaseEntry, snapshot_round

ROUTES, CLAIMS, WORLDS = "routes", "claims", "worlds"
# Where in the interval each kind's clock starts, before the partition's own share.
_KIND_PHASE = {ROUTES: 0.0, CLAIMS: 1 / 3, WORLDS: 2 / 3}
_GOLDEN = 0.6180339887498949


def phase(key: tuple[str, int]) -> float:
    """The share of the interval, in [0, 1), by which ``key``'s first round comes
    early. The partitions of a worker meet their state in the same first seconds;
    with one clock each started then, every round of every partition would fall due
    in the same batch, and that batch would stall for all of them. Steps of the
    golden ratio spread any number of partitions evenly across the interval."""
    kind, partition = key
    return (_KIND_PHASE.get(kind, 0.0) + partition * _GOLDEN) % 1.0


class Rounds:
    """When each partition last wrote its checkpoint, and the writing of one."""

    def __init__(
        self,
        checkpoints: Checkpoints,
        stages: Stages,
        metrics: Metrics,
        seconds: float,
        flush: Callable[[], None],
    ) -> None:
        self._checkpoints = checkpoints
        self._stages = stages
        self._metrics = metrics
        self._flush = flush
        self._clocks = Clocks(seconds)
        # Each partition's base as its last round encoded it.
        self._bases: dict[int, BaseEntry] = {}

    def run(self, *, due_only: bool) -> None:
        """Write the changed state of each partition whose checkpoint is due (every
        changed one unless ``due_only``), then wait for the broker to confirm it."""
        stages = self._stages
        now = time.monotonic()
        wrote = False
        for partition in sorted(stages.dirty_routers):
            if due_only and not self._clocks.due((ROUTES, partition), now):
                continue
            router = stages.routers[partition]
            self._write(ROUTES, partition, _named(router.table_entries(partition)))
            stages.dirty_routers.discard(partition)
            wrote = True
        claims = stages.claims
        claims_due = not due_only or self._clocks.due((CLAIMS, 0), now)
        if claims is not None and claims.dirty and claims_due:
            self._write(CLAIMS, 0, claims.entries())
            wrote = True
        for partition, state in sorted(stages.reps.items()):
            due = not due_only or self._clocks.due((WORLDS, partition), now)
            if (state.dirty or state.base_dirty) and due:
                self._reps(partition, state)
                wrote = True
        if wrote:
            self._flush()
            self._checkpoints.confirm()

    def _reps(self, partition: int, state: RepPartition) -> None:
        changed = {rep: state.worlds[rep] for rep in state.dirty}
        if state.restored_base is not None:
            self._bases[partition] = BaseEntry.restored(*state.restored_base)
            state.restored_base = None
        kept = self._bases.setdefault(partition, BaseEntry())
        entries = snapshot_round(
            partition, state.applied, state.base, changed, state.customers_dirty, kept,
            state.heat.sums, pieces=state.pieces,
        )  # fmt: skip
        state.dirty, state.base_dirty, state.customers_dirty = set(), False, set()
        size = self._write(WORLDS, partition, _named(entries))
        self._metrics.snapshots.labels("written").inc()
        self._metrics.snapshot_bytes.inc(size)

    def _write(
        self, kind: str, partition: int, entries: list[tuple[str, bytes]]
    ) -> int:
        keyed = [
            (checkpoint_key(kind, partition, name), value) for name, value in entries
        ]
        return self._checkpoints.write(partition, keyed)


class Clocks:
    """When each key's (a kind of state of one partition) round is next due: every
    ``seconds``, each key on a grid of its own (``phase``)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._last: dict[tuple[str, int], float] = {}

    def due(self, key: tuple[str, int], now: float) -> bool:
        """Whether ``key``'s round is due at ``now`` (if so, it counts as run)."""
        last = self._last.get(key)
        if last is None:  # the key met now: its grid starts ``phase`` early
            last = self._last[key] = now - self._seconds * phase(key)
        if now - last < self._seconds:
            return False
        # Back on the key's grid, however late the batch that ran it: the keys'
        # rounds keep their spread instead of drifting into the same batch.
        self._last[key] = now - (now - last) % self._seconds
        return True


def _named(entries: list[tuple[bytes, bytes]]) -> list[tuple[str, bytes]]:
    """Entries keyed ``<partition>/<name>`` by their names."""
    return [(key.decode().split("/", 1)[1], value) for key, value in entries]
