"""Snapshots of the rep partitions' worlds, kept in a changelog-backed faust Table.

A rep partition's state is the fold of its log; a snapshot bounds how much of the log
a worker that takes the partition must read again. Every ``snapshot_seconds`` each
partition writes, to the table's changelog partition of the same number, the worlds
of the reps that changed since its last round, then its base world, each with the
offset it reflects. The base comes last, so a round the worker did not finish leaves
the base at the previous round.

Recovery trusts nothing but the log: it starts from the base's offset (or from 0
without one) and folds what follows into each world whose snapshot is older than the
message. A rep written in an earlier round did not change until the base's round
(every change makes it part of the next round), so its snapshot counts as of the
base's offset. A snapshot that was lost costs reading more of the log, never a
wrong total.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Mapping

from domain.world import WORLD, World, own_part
from streams.state.routing import BROADCAST
from streams.state.tables import table_key

log = logging.getLogger(__name__)

_OFFSET = struct.Struct(">q")
# Below the 1 MiB message size brokers accept by default.
LIMIT = 900_000


def encode_snapshot(offset: int, world: World) -> bytes:
    return _OFFSET.pack(offset) + zlib.compress(WORLD.dump_json(world), 1)


def decode_snapshot(value: bytes) -> tuple[int, World]:
    (offset,) = _OFFSET.unpack_from(value)
    return offset, WORLD.validate_json(zlib.decompress(value[_OFFSET.size :]))


def snapshot_round(
    partition: int, offset: int, base: World, changed: Mapping[str, World]
) -> list[tuple[bytes, bytes]] | None:
    """The table entries of one round: the changed reps' own parts of their worlds,
    then the base (with the company facts);
    ``None`` when a world is too large for one message (the round is skipped)."""
    entries = []
    for rep_id, world in sorted(changed.items()):
        own = own_part(world)  # the company facts are the base's, written once
        entries.append((table_key(partition, rep_id), encode_snapshot(offset, own)))
    entries.append((table_key(partition, BROADCAST), encode_snapshot(offset, base)))
    too_large = [key.decode() for key, value in entries if len(value) > LIMIT]
    if too_large:
        log.warning("snapshot round of partition %d skipped: %s over %d bytes",
                    partition, ", ".join(too_large), LIMIT)  # fmt: skip
        return None
    return entries


class Restored:
    """The worlds a partition's snapshots hold, and from which offset each is due."""

    def __init__(self, entries: Mapping[str, bytes]) -> None:
        """From one partition's ``rep-worlds`` entries, by name."""
        found = {name: decode_snapshot(value) for name, value in entries.items()}
        base = found.pop(BROADCAST, None)
        self.base = base[1] if base is not None else None
        self.start = base[0] + 1 if base is not None else 0
        # Without a base round every snapshot is from an unfinished round: each
        # world still counts from its own offset.
        self.worlds = {rep: world for rep, (_, world) in found.items()}
        self.as_of = {
            rep: max(offset, self.start - 1) for rep, (offset, _) in found.items()
        }
        self.as_of[BROADCAST] = self.start - 1

    def is_due(self, rep_id: str, offset: int) -> bool:
        """Whether the world of ``rep_id`` still has to fold the message at
        ``offset`` (a rep without a snapshot starts from the base)."""
        return offset > self.as_of.get(rep_id, -1)
