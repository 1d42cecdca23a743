"""The worlds of a rep partition's reps, some of them still as their snapshots'
bytes.

A worker that takes a partition used to decode every rep's snapshot before it
folded the partition's next message: after 100,000 events of 1,000 reps, 4.2 s of
an 11.9 s restart went on decoding 1,000 worlds, most of which no message of the
first minutes touches. A restore now keeps each snapshot as it was read and
decodes it when something first asks for that rep's world (a message for the rep,
a period close, a checkpoint round that writes it). Decoding is pure, so a world
decoded late is the world decoded early.

A snapshot that cannot be decoded when it is asked for raises ``UnreadableWorld``,
which no message's verdict absorbs: the hot path stops with the batch in hand
unacknowledged, as it stopped before when a restore could not decode a snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping

from domain.world import World
from streams.state.collector import collector_paused
from streams.state.pieces import RepSnapshot, decode_rep

# Told of each world decoded late, with its rep (the heatmap counts its stakes).
Warmed = Callable[[str, World], None]


class UnreadableWorld(BaseException):
    """A rep's snapshot, kept encoded by a restore, could not be decoded. A
    ``BaseException``: it stops the hot path rather than dead-letter the message
    that asked for the world as if that message were at fault."""


class Worlds(MutableMapping[str, World]):
    """Rep id -> world, decoding a restored snapshot when it is first asked for."""

    def __init__(self, warmed: Warmed | None = None) -> None:
        self._live: dict[str, World] = {}
        self._encoded: dict[str, RepSnapshot] = {}
        self.warmed = warmed

    def keep_encoded(self, entries: Mapping[str, RepSnapshot]) -> None:
        """Hold these snapshots (rep id -> its pieces, or a whole world's entry)
        undecoded until asked for."""
        for rep_id, entry in entries.items():
            self._live.pop(rep_id, None)
            self._encoded[rep_id] = entry

    @property
    def encoded(self) -> int:
        """How many worlds are still held as their snapshots."""
        return len(self._encoded)

    def __getitem__(self, rep_id: str) -> World:
        world = self._live.get(rep_id)
        if world is None:
            world = self._decoded(rep_id)  # KeyError for a rep it does not hold
        return world

    def _decoded(self, rep_id: str) -> World:
        entry = self._encoded[rep_id]
        try:
            # As a rebuild decodes: the new world is left out of the collector's
            # scans (a restore's 1,000-message tail touching 618 of 1,000 kept
            # worlds, runs alternating: 1.7-2.4 s with this, 2.3-2.7 s without).
            with collector_paused():
                world = decode_rep(rep_id, entry)[1]
        except Exception as exc:
            msg = f"the snapshot of {rep_id} kept by the restore cannot be decoded"
            raise UnreadableWorld(msg) from exc
        del self._encoded[rep_id]
        self._live[rep_id] = world
        if self.warmed is not None:
            self.warmed(rep_id, world)
        return world

    def __setitem__(self, rep_id: str, world: World) -> None:
        self._encoded.pop(rep_id, None)
        self._live[rep_id] = world

    def __delitem__(self, rep_id: str) -> None:
        if self._encoded.pop(rep_id, None) is None:
            del self._live[rep_id]

    def __contains__(self, rep_id: object) -> bool:
        return rep_id in self._live or rep_id in self._encoded

    def __iter__(self) -> Iterator[str]:
        # A list: reading the values while iterating decodes, which moves them.
        return iter([*self._live, *self._encoded])

    def __len__(self) -> int:
        return len(self._live) + len(self._encoded)
