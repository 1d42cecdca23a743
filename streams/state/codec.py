"""How a partition's state entries are stored: the offset an entry reflects, then
its JSON, compressed unless it is small.

``streams.state.snapshots`` writes the rounds and reads them back; these are the
bytes of one entry, shared with the pieces of a rep's world
(``streams.state.pieces``).
"""

from __future__ import annotations

import struct
import sys
import zlib
from typing import TypeVar

import msgspec
from pydantic import BaseModel, TypeAdapter

from domain.pmap import PMap
from domain.world import WORLD, World

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

T = TypeVar("T")

OFFSET = struct.Struct(">q")
# Between an entry's name and what follows it when one entry is written as several
# (a large one's parts, a rep's pieces): a line break is in no identifier.
MARK = "\n"
# Below the 1 MiB message size brokers accept by default: larger goes in parts.
LIMIT = 900_000
# An entry's JSON shorter than this is stored as it is. zlib cost about 70 us a
# call whatever the size (its set-up: 70 us for 100 bytes, 86 for 2,000, 106 for
# 50,000 here), and a round writes an entry for every customer whose history
# changed, most of them a few hundred bytes: at 20,000 events, 39,000 such entries
# took 2.7 s of the 13 s the rounds cost.
RAW_BELOW = 2_048
# Larger JSON is compressed with Zstandard at level 1: against zlib at level 1 on a
# rep's world here, 40 KB of it came to 13.3 KB against 15.1, compressed in 84 us
# against 334 and decompressed in 36 us against 98 (and a restore decompresses the
# world of every rep its tail touches). Entries written with zlib are still read.
ZSTD_LEVEL = 1
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_JSON_STARTS = (b"{", b"[")


def encoded(offset: int, adapter: TypeAdapter[T], value: T) -> bytes:
    """An entry's value: the offset it reflects, then its JSON, compressed unless
    it is small (``RAW_BELOW``)."""
    return entry(offset, adapter.dump_json(value))


def entry(offset: int, json: bytes) -> bytes:
    return OFFSET.pack(offset) + (
        json if len(json) < RAW_BELOW else zstd.compress(json, ZSTD_LEVEL)
    )


def decoded(
    adapter: TypeAdapter[T] | msgspec.json.Decoder[T], value: bytes
) -> tuple[int, T]:
    """An entry's offset and value, read by pydantic or by a msgspec decoder."""
    (offset,) = OFFSET.unpack_from(value)
    body = body_json(value[OFFSET.size :])
    if isinstance(adapter, TypeAdapter):
        return offset, adapter.validate_json(body)
    return offset, adapter.decode(body)


def body_json(body: bytes) -> bytes:
    """The JSON of an entry's body (the entry without its offset)."""
    # JSON text starts with its object or array; a Zstandard frame with its magic
    # number, a zlib stream (written before) with 0x78.
    if body[:1] in _JSON_STARTS:
        return body
    if body[:4] == _ZSTD_MAGIC:
        return zstd.decompress(body)
    return zlib.decompress(body)


def _as_pydantic_dumps(value: object) -> object:
    """What msgspec does not encode itself, as pydantic dumps it."""
    if isinstance(value, PMap):
        return value.to_dict()
    if isinstance(value, BaseModel):
        # pydantic's own JSON, as it is: a base after 30,000 events of 1,000 reps
        # (its target book 2.2 MB of it) took 0.104 s through ``model_dump``, 0.075 s
        # so.
        return msgspec.Raw(type(value).__pydantic_serializer__.to_json(value))
    msg = f"a world holds a {type(value).__name__}, which a snapshot cannot hold"
    raise TypeError(msg)


# A world's JSON through msgspec: the bytes ``WORLD.dump_json`` gives (tested), in
# two thirds of the time (a partition of 200 reps after 20,000 events: 96 ms against
# 151 ms), and a round encodes every changed rep's world. ``WORLD`` reads it back.
WORLD_JSON = msgspec.json.Encoder(enc_hook=_as_pydantic_dumps, decimal_format="string")


def encode_snapshot(offset: int, world: World) -> bytes:
    return entry(offset, WORLD_JSON.encode(world))


def decode_snapshot(value: bytes) -> tuple[int, World]:
    return decoded(WORLD, value)
