"""World snapshots: what a round writes, and from where recovery folds the log."""

from __future__ import annotations

import zlib
from contextlib import suppress
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import cast

import orjson
import pytest

from domain.engine import evolve, start
from domain.events import InvalidEvent, decode_event
from domain.frozen import updated
from domain.plan import Plan
from domain.pmap import PMap
from domain.world import WORLD, Buyer, World, own_part
from streams.bench.generator import sample_events
from streams.bench.year import BenchYear
from streams.state import codec, snapshots
from streams.state.partitions import RepPartition
from streams.state.routing import BROADCAST, Forward, Origin
from streams.state.snapshots import (
    BUYERS,
    BaseEntry,
    Restored,
    decode_buyers,
    decode_snapshot,
    encode_buyers,
    encode_snapshot,
    snapshot_round,
)
from streams.state.tables import partition_entries, table_key
from tests.unit.test_customers_on_partitions import Stream, _deal


def _world(plan: Plan, count: int) -> object:
    world = start([plan], awards_elsewhere=True)
    for _, _, value in sample_events(count, seed=3, prefix="snap-"):
        world, _ = evolve(world, decode_event(value))
    return world


def test_a_snapshot_gives_back_the_world_and_its_offset(reference_plan: Plan) -> None:
    world = _world(reference_plan, 300)
    offset, back = decode_snapshot(encode_snapshot(41, world))  # type: ignore[arg-type]
    assert offset == 41
    assert back == world


@pytest.mark.parametrize("plan_name", ["reference_plan", "full_plan"])
def test_a_snapshot_holds_the_bytes_pydantic_would_write(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    """Worlds are encoded with msgspec and read with pydantic: the JSON is the same
    byte for byte, for a world of every reps and their company facts (plans,
    targets, people, awards), for its own part, and for a partition's base."""
    plan = request.getfixturevalue(plan_name)
    whole = start([plan])
    for _, _, value in BenchYear(1_500, 24, seed=4).messages():
        with suppress(InvalidEvent):
            whole, _ = evolve(whole, decode_event(value))
    partition = RepPartition.starting((plan,), 0, 1)
    for n, (topic, _, value) in enumerate(sample_events(600, seed=9, prefix="pj-")):
        rep = getattr(decode_event(value), "rep_id", None) or BROADCAST
        origin = Origin(topic, 0, n, 0.0, b"")
        partition.apply(Forward(rep_id=rep, value=value, origin=origin, primary=True))
    worlds = [whole, own_part(whole), partition.base]
    worlds += [own_part(w) for w in partition.worlds.values()]
    assert len(worlds) > 5
    assert len(whole.targets.targets) > 0 and len(whole.people) > 0
    for world in worlds:
        entry = encode_snapshot(1, world)
        assert codec.body_json(entry[8:]) == WORLD.dump_json(world)


def test_a_small_entry_is_stored_as_json_and_a_large_one_compressed(
    reference_plan: Plan,
) -> None:
    small, large = start([reference_plan]), cast(World, _world(reference_plan, 300))
    assert len(WORLD.dump_json(small)) < codec.RAW_BELOW
    assert len(WORLD.dump_json(large)) > codec.RAW_BELOW
    raw, packed = encode_snapshot(3, small), encode_snapshot(4, large)
    assert raw[8:] == WORLD.dump_json(small)
    assert codec.zstd.decompress(packed[8:]) == WORLD.dump_json(large)
    assert len(packed) < len(WORLD.dump_json(large)) / 4
    assert decode_snapshot(raw) == (3, small)
    assert decode_snapshot(packed) == (4, large)
    # Entries written before, compressed with zlib (the small ones too, before
    # small ones were stored as they are), are still read.
    for older in (small, large):
        zlibbed = raw[:8] + zlib.compress(WORLD.dump_json(older), 1)
        assert decode_snapshot(zlibbed) == (3, older)
    buyers = (Buyer(datetime(2026, 1, 5, tzinfo=UTC), "D-1", True, True, ("R-a",)),)
    offset, back = decode_buyers(encode_buyers(9, buyers))
    assert encode_buyers(9, buyers)[8:9] == b"["
    assert (offset, back) == (9, buyers)


def test_a_customers_history_reads_back_as_pydantic_read_it() -> None:
    """Histories are decoded with msgspec: the same tuples, a large one compressed,
    and one written before ``cancelled`` was kept."""
    opened = datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    buyers = tuple(
        Buyer(opened + timedelta(days=n), f"D-{n}", n % 3 == 0, n == 0,
              ("R-a",) if n % 2 else ("R-a", "R-b"), n % 7 == 6)
        for n in range(40)
    )  # fmt: skip
    entry = encode_buyers(12, buyers)
    assert entry[8:9] != b"["  # compressed
    offset, back = decode_buyers(entry)
    assert (offset, back) == (12, buyers)
    assert back == BUYERS.validate_json(codec.body_json(entry[8:]))
    assert [b.closed_at.utcoffset() for b in back] == [timedelta(hours=8)] * 40
    older = b'[["2026-01-05T01:30:00Z","D-1",true,false,["R-a"]]]'
    assert decode_buyers(entry[:8] + older)[1] == (
        Buyer(datetime(2026, 1, 5, 1, 30, tzinfo=UTC), "D-1", True, False, ("R-a",)),
    )


def test_a_round_writes_the_changed_reps_then_the_base(reference_plan: Plan) -> None:
    base = start([reference_plan])
    world = _world(reference_plan, 50)
    entries = snapshot_round(2, 99, base, {"R-b": world, "R-a": world}, ())  # type: ignore[dict-item]
    names = [key.decode() for key, _ in entries]
    # Each rep's pieces, then its head (``streams.state.pieces``); the base last.
    assert [name for name in names if "\n" not in name] == ["2/R-a", "2/R-b", "2/*"]
    a, b = names.index("2/R-a"), names.index("2/R-b")
    assert a > 0 and all(name.startswith("2/R-a\n") for name in names[:a])
    assert b > a + 1 and all(name.startswith("2/R-b\n") for name in names[a + 1 : b])
    assert decode_snapshot(entries[-1][1]) == (99, base)


def test_a_world_too_large_for_one_message_is_written_in_parts(
    reference_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(reference_plan, 300)
    monkeypatch.setattr(snapshots, "LIMIT", 2_000)
    base = start([reference_plan])
    entries = snapshot_round(0, 5, base, {"R-a": world}, ())  # type: ignore[dict-item]
    assert all(len(value) <= 2_000 for _, value in entries)
    names = [key.decode() for key, _ in entries]
    parts = [name for name in names if name.rpartition("\n")[2].isdigit()]
    assert len(parts) > 3
    # The parts first, then the entry that names them; the base last.
    for part in parts:
        assert names.index(part) < names.index(part.rpartition("\n")[0])
    assert names[-1] == "0/*"
    restored = Restored(partition_entries(entries, 0))
    assert restored.worlds == {"R-a": own_part(world)}  # type: ignore[arg-type]
    assert restored.base == base
    assert restored.start == 6


def test_parts_of_another_round_leave_the_snapshot_out(
    reference_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round that stopped after writing some parts: the entry naming them is the
    round before's, so the parts do not match its digest, and a part not written
    at all is missing. The lost world cannot start from the base's offset (its
    history before it would be missing): nothing of the checkpoint is used and the
    partition is folded from the start of its log."""
    monkeypatch.setattr(snapshots, "LIMIT", 2_000)
    base = start([reference_plan])
    older = dict(snapshot_round(0, 5, base, {"R-a": _world(reference_plan, 300)}, ()))  # type: ignore[dict-item]
    newer = dict(snapshot_round(0, 9, base, {"R-a": _world(reference_plan, 320)}, ()))  # type: ignore[dict-item]
    # An entry in parts in both rounds, with a part of the newer round.
    assert b"0/R-a\n1" in older and b"0/R-a\n2" in older and b"0/R-a\n1" in newer
    mixed = {**older, b"0/R-a\n1": newer[b"0/R-a\n1"]}
    restored = Restored(partition_entries(mixed.items(), 0))
    assert "R-a" not in restored.worlds
    assert restored.start == 0
    assert restored.base is None  # the base at 5 vouches for a world that is lost
    assert restored.is_due("R-a", 0) and restored.is_due(BROADCAST, 0)
    missing = {key: value for key, value in older.items() if key != b"0/R-a\n2"}
    assert "R-a" not in Restored(partition_entries(missing.items(), 0)).worlds
    # The finished round alone is restored as it was.
    whole = Restored(partition_entries(older.items(), 0))
    assert set(whole.worlds) == {"R-a"} and whole.start == 6


def test_recovery_starts_after_the_base_and_older_reps_count_as_of_it(
    reference_plan: Plan,
) -> None:
    base, world = start([reference_plan]), start([reference_plan])
    entries = {
        table_key(1, "R-old"): encode_snapshot(10, world),
        table_key(1, "R-new"): encode_snapshot(40, world),  # an unfinished round
        table_key(1, BROADCAST): encode_snapshot(30, base),
        table_key(2, "R-elsewhere"): encode_snapshot(3, world),
    }
    restored = Restored(partition_entries(entries.items(), 1))
    assert restored.start == 31
    assert set(restored.worlds) == {"R-old", "R-new"}
    assert not restored.is_due("R-old", 30)
    assert restored.is_due("R-old", 31)
    assert not restored.is_due("R-new", 40)
    assert restored.is_due("R-new", 41)
    assert restored.is_due("R-unseen", 31)
    assert not restored.is_due(BROADCAST, 30)


def test_without_a_base_recovery_reads_the_whole_log(reference_plan: Plan) -> None:
    world = start([reference_plan])
    restored = Restored({"R-a": encode_snapshot(7, world)})
    assert restored.base is None
    assert restored.start == 0
    assert not restored.is_due("R-a", 7)
    assert restored.is_due("R-a", 8)
    assert restored.is_due(BROADCAST, 0)


def test_a_rebuild_from_snapshots_skips_what_each_world_already_holds(
    reference_plan: Plan,
) -> None:
    events = sample_events(400, seed=21, prefix="due-")
    forwards = []
    for n, (topic, _, value) in enumerate(events):
        event = decode_event(value)
        rep = getattr(event, "rep_id", None)
        if rep is None:
            continue
        origin = Origin(topic, 0, n, 0.0, b"")
        forwards.append(Forward(rep_id=rep, value=value, origin=origin, primary=True))
    straight = RepPartition.starting((reference_plan,), 0, 1)
    for forward in forwards:
        straight.apply(forward)
    # Snapshot half-way, then fold the rest with the snapshot's offsets.
    half = len(forwards) // 2
    early = RepPartition.starting((reference_plan,), 0, 1)
    for forward in forwards[:half]:
        early.apply(forward)
    entries = dict(
        snapshot_round(0, half - 1, early.base, early.worlds, early.customers_dirty)
    )
    restored = Restored(partition_entries(entries.items(), 0))
    again = RepPartition.starting((reference_plan,), 0, 1)
    again.base = restored.base or again.base
    again.worlds.update(restored.worlds)
    # Replaying from the start folds nothing twice: the snapshots say what is due.
    for offset, forward in enumerate(forwards[:half]):
        again.apply(forward, partial(restored.is_due, offset=offset))
    assert again.dirty == set()  # every world already held the first half
    for offset, forward in enumerate(forwards[half:], start=half):
        again.apply(forward, partial(restored.is_due, offset=offset))
    assert len(again.worlds) > 1
    assert set(again.worlds) == set(straight.worlds)
    assert {r: again.world(r) for r in again.worlds} == {
        r: straight.world(r) for r in straight.worlds
    }
    # What was folded after the snapshot is due for the next round.
    folded = {f.rep_id for f in forwards[half:]}
    assert again.dirty == folded


def counted_encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The offsets of the snapshots encoded from now on, as they are encoded."""
    encoded: list[int] = []
    real = snapshots.encode_snapshot

    def counted(offset: int, world: World) -> bytes:
        encoded.append(offset)
        return real(offset, world)

    monkeypatch.setattr(snapshots, "encode_snapshot", counted)
    return encoded


def round_then_restore(plan: Plan) -> tuple[list[tuple[bytes, bytes]], Restored]:
    """A round of a partition that has seen two customers' deals (at offset 3),
    and the restore of what it wrote."""
    partition = _customers(plan).partition
    entries = snapshot_round(0, 3, partition.base, {}, partition.customers_dirty)
    return entries, Restored(partition_entries(entries, 0))


def _customers(plan: Plan) -> Stream:
    """A partition that has seen deals of two customers, C-88 and C-7."""
    stream = Stream(plan)
    other = orjson.loads(_deal(9, 1, "R-1"))
    other["customer_id"] = "C-7"
    for rep, value in (("R-1", orjson.dumps(other)), ("R-2", _deal(1, 10, "R-2"))):
        stream.send(rep, value)
    stream.deliver_together()
    return stream


def test_a_round_writes_each_changed_customer_apart_from_the_base(
    reference_plan: Plan,
) -> None:
    stream = _customers(reference_plan)
    partition = stream.partition
    assert partition.customers_dirty == {"C-7", "C-88"}
    first = snapshot_round(0, 3, partition.base, {}, partition.customers_dirty)
    names = [key.decode() for key, _ in first]
    assert names == ["0/ customer/C-7", "0/ customer/C-88", "0/*"]
    assert len(decode_snapshot(first[-1][1])[1].customers) == 0
    # The next round: only C-88 changed (a third deal), and the base again.
    stream.send("R-3", _deal(3, 20, "R-3"))
    stream.deliver_together()
    second = snapshot_round(0, 6, partition.base, {}, {"C-88"})
    assert [key.decode() for key, _ in second] == ["0/ customer/C-88", "0/*"]
    restored = Restored(partition_entries([*first, *second], 0))
    assert restored.base is not None
    assert restored.base.customers == partition.base.customers
    assert len(restored.base.customers["C-88"]) == 2
    assert restored.inline == set()
    assert restored.start == 7


def test_a_base_changed_only_in_its_customers_is_not_encoded_again(
    reference_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = _customers(reference_plan)
    partition, kept = stream.partition, BaseEntry()
    encoded = counted_encodes(monkeypatch)
    first = snapshot_round(0, 3, partition.base, {}, partition.customers_dirty, kept)
    stream.send("R-3", _deal(3, 20, "R-3"))
    stream.deliver_together()
    second = snapshot_round(0, 6, partition.base, {}, {"C-88"}, kept)
    assert encoded == [3]  # the same company facts: the entry made at offset 3
    assert second[-1][1][8:] == first[-1][1][8:]
    bare = updated(partition.base, customers=PMap[str, tuple[Buyer, ...]]())
    assert decode_snapshot(second[-1][1]) == (6, bare)
    # A company fact changed (a month closed): the base is encoded again.
    closed = updated(partition.base, closed_periods=("2026-01",))
    third = snapshot_round(0, 9, closed, {}, (), kept)
    assert encoded == [3, 9]
    assert decode_snapshot(third[-1][1])[1].closed_periods == ("2026-01",)


def test_a_base_that_holds_its_customers_is_read_and_they_are_written_next(
    reference_plan: Plan,
) -> None:
    """A base written before customers had entries of their own: the next round
    encodes it again (no base entry to reuse), with its customers apart."""
    partition = _customers(reference_plan).partition
    entries = {table_key(0, BROADCAST): encode_snapshot(5, partition.base)}
    restored = Restored(partition_entries(entries.items(), 0))
    assert restored.base is not None
    assert restored.base.customers == partition.base.customers
    assert restored.inline == {"C-7", "C-88"}
    assert restored.base_entry is None


def test_partitions_restored_one_after_another_share_their_customers_histories(
    reference_plan: Plan,
) -> None:
    """Every partition checkpoints the company's histories under its own offsets:
    the second restore takes the first one's decoded histories, and decodes a
    history whose body differs."""
    partition = _customers(reference_plan).partition
    first = snapshot_round(0, 3, partition.base, {}, partition.customers_dirty)
    second = snapshot_round(1, 8, partition.base, {}, partition.customers_dirty)
    seven = [value for key, value in second if key.endswith(b"C-7")]
    assert seven[0][:8] != first[0][1][:8]  # the same history at another offset
    one = Restored(partition_entries(first, 0)).base
    two = Restored(partition_entries(second, 1)).base
    assert one is not None and two is not None
    assert two.customers == partition.base.customers
    for customer in ("C-7", "C-88"):
        assert two.customers[customer] is one.customers[customer]
    # A third partition whose C-88 history is longer: that one is its own.
    longer = (*partition.base.customers["C-88"], partition.base.customers["C-7"][0])
    changed = updated(
        partition.base, customers=partition.base.customers.set("C-88", longer)
    )
    third = Restored(
        partition_entries(snapshot_round(2, 9, changed, {}, {"C-7", "C-88"}), 2)
    ).base
    assert third is not None
    assert third.customers["C-88"] == longer
    assert third.customers["C-88"] is not two.customers["C-88"]
    assert third.customers["C-7"] is two.customers["C-7"]


def test_the_first_round_after_a_restore_writes_the_base_it_read_without_encoding_it(
    reference_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, restored = round_then_restore(reference_plan)
    assert restored.base is not None and restored.base_entry is not None
    encoded = counted_encodes(monkeypatch)
    kept = BaseEntry.restored(restored.base, restored.base_entry)
    again = snapshot_round(0, 8, restored.base, {}, (), kept)
    assert encoded == []
    assert again[-1][1][8:] == first[-1][1][8:]
    assert decode_snapshot(again[-1][1])[0] == 8
    # A company fact changed since the restore: the base is encoded again.
    closed = updated(restored.base, closed_periods=("2026-01",))
    snapshot_round(0, 9, closed, {}, (), kept)
    assert encoded == [9]
