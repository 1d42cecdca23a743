"""A rep's snapshot in pieces: a round writes the pieces of the rep's world that
changed, then its head; a restore puts the world together from the head and the
pieces it names, and a round that stopped half-way leaves the round before whole."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zlib import crc32

import msgspec
import pytest
from pydantic import BaseModel

from domain.batch import evolve_batch
from domain.engine import World, start
from domain.events import InvalidEvent, decode_event
from domain.frozen import updated
from domain.plan import Plan, SpiffWindow
from domain.rep import in_close_order
from domain.world import WORLD, Scored, own_part, under
from streams.bench.year import BenchYear
from streams.state import pieces as pieces_module
from streams.state.codec import WORLD_JSON
from streams.state.partitions import RepPartition
from streams.state.pieces import (
    HEAD_MARK,
    RepPieces,
    RepSnapshot,
    decode_rep,
    head_refs,
)
from streams.state.routing import BROADCAST
from streams.state.snapshots import Restored, encode_snapshot, snapshot_round
from streams.state.tables import partition_entries

REP = "R-00001"


def _year(plan: Plan, count: int) -> tuple[World, list[object]]:
    """A world folded from the first ``count`` events of a year of three reps, and
    the events after them."""
    events = []
    for _, _, value in BenchYear(count + 400, 3, seed=5).messages():
        try:
            events.append(decode_event(value))
        except InvalidEvent:
            continue
    world, _ = evolve_batch(start([plan], awards_elsewhere=True), events[:count])
    return world, list(events[count:])


def _names(entries: list[tuple[bytes, bytes]]) -> list[str]:
    return [key.decode().split("/", 1)[1] for key, _ in entries]


def _restored(*rounds: list[tuple[bytes, bytes]]) -> Restored:
    """What a restore reads after these rounds, each written over the one before."""
    return Restored(partition_entries([e for entries in rounds for e in entries], 0))


def test_a_world_is_written_in_pieces_and_put_together_again(
    reference_plan: Plan,
) -> None:
    world, _ = _year(reference_plan, 2_500)
    rep = own_part(world)
    assert len(rep.reps[REP].positions) > 3 * pieces_module.PER_PIECE
    entries = snapshot_round(0, 41, start([reference_plan]), {REP: rep}, ())
    names = _names(entries)
    assert names[-2:] == [REP, BROADCAST]
    head = dict(entries)[f"0/{REP}".encode()]
    assert head[8 : 8 + len(HEAD_MARK)] == HEAD_MARK
    refs = head_refs(head)
    assert refs is not None and len(refs) == len(names) - 2
    # The growing maps are cut: the deals, the seen events, every rep's positions.
    kinds = {kind for kind, *_ in refs}
    assert {"deals", "seen", "positions"} <= kinds
    assert max(buckets for _, _, buckets, *_ in refs) > 1
    # Each piece is much smaller than the whole world's entry was.
    whole = len(encode_snapshot(41, rep))
    assert max(len(value) for _, value in entries[:-2]) < whole / 4
    restored = _restored(entries)
    assert restored.worlds == {REP: rep}
    assert restored.refs[REP] == refs and not restored.is_due(REP, 41)


def test_the_next_round_writes_only_the_pieces_that_changed(
    reference_plan: Plan,
) -> None:
    world, later = _year(reference_plan, 2_500)
    pieces = RepPieces()
    base = start([reference_plan])
    first = snapshot_round(0, 41, base, {REP: own_part(world)}, (), pieces=pieces)
    # The next events of the year, until one changed the rep's world.
    changed = world
    for event in later:
        changed, _ = evolve_batch(changed, [event])  # type: ignore[list-item]
        if own_part(changed).reps.get(REP) is not own_part(world).reps.get(REP):
            break
    second = snapshot_round(0, 42, base, {REP: own_part(changed)}, (), pieces=pieces)
    assert len(second) < len(first) / 4
    assert _names(second)[-2:] == [REP, BROADCAST]
    # Read over the first round, as the compacted topic keeps the latest of each.
    assert _restored(first, second).worlds == {REP: own_part(changed)}
    # Nothing changed since: the head alone.
    third = snapshot_round(0, 43, base, {REP: own_part(changed)}, (), pieces=pieces)
    assert _names(third) == [REP, BROADCAST]
    assert _restored(first, second, third).worlds == {REP: own_part(changed)}


def test_a_round_that_stopped_before_the_head_leaves_the_round_before_whole(
    reference_plan: Plan,
) -> None:
    """The changed pieces go to the slot the last head does not name: a stop after
    some pieces and before the new head leaves that head's pieces as they were."""
    world, later = _year(reference_plan, 2_500)
    pieces = RepPieces()
    base = start([reference_plan])
    first = snapshot_round(0, 41, base, {REP: own_part(world)}, (), pieces=pieces)
    changed, _ = evolve_batch(world, later[:200])  # type: ignore[arg-type]
    second = snapshot_round(0, 60, base, {REP: own_part(changed)}, (), pieces=pieces)
    head = _names(second).index(REP)
    assert head > 1
    stopped = _restored(first, second[:head])  # every piece, no head, no base
    assert stopped.worlds == {REP: own_part(world)} and stopped.start == 42
    # The same after a restore: its first round writes to the other slots.
    again = RepPieces()
    again.restored(stopped.refs)
    third = snapshot_round(0, 70, base, {REP: own_part(changed)}, (), pieces=again)
    next_head = _names(third).index(REP)
    assert set(_names(third)[:next_head]).isdisjoint(
        name for name in _names(first) if "\n" in name
    )
    assert _restored(first, second[:head], third[:next_head]).worlds == {
        REP: own_part(world)
    }
    assert _restored(first, second, third).worlds == {REP: own_part(changed)}


def test_after_a_restore_a_round_writes_only_what_changed_since_the_decode(
    reference_plan: Plan,
) -> None:
    """A rep partition told of each world a restore decoded (its ``Worlds`` tell
    it) compares the next round with that world's maps."""
    world, later = _year(reference_plan, 2_500)
    base = start([reference_plan])
    first = snapshot_round(0, 41, base, {REP: own_part(world)}, ())
    restored = _restored(first)
    state = RepPartition(base, 0, 1)
    state.pieces.restored(restored.refs)
    state.worlds.keep_encoded(restored.entries)
    decoded = state.worlds[REP]
    assert decoded == own_part(world)
    # The next events of the year, until one changed the rep's world.
    changed = decoded
    for event in later:
        changed = own_part(evolve_batch(under(changed, base), [event])[0])  # type: ignore[list-item]
        if changed.reps.get(REP) is not decoded.reps.get(REP):
            break
    pieced = snapshot_round(0, 42, base, {REP: changed}, (), pieces=state.pieces)
    assert 2 < len(pieced) < len(first) / 4
    # Unchanged pieces stay where the restored head has them; the rest go to the
    # other slot.
    assert set(_names(pieced)[:-2]).isdisjoint(_names(first))
    assert _restored(first, pieced).worlds == {REP: changed}
    # Without the decode, every piece of the rep is written again.
    blind = RepPieces()
    blind.restored(restored.refs)
    every = snapshot_round(0, 42, base, {REP: changed}, (), pieces=blind)
    assert len(every) == len(first)


def test_a_piece_that_is_missing_or_of_another_round_loses_the_snapshot(
    reference_plan: Plan, caplog: pytest.LogCaptureFixture
) -> None:
    world, later = _year(reference_plan, 2_500)
    base = start([reference_plan])
    first = snapshot_round(0, 41, base, {REP: own_part(world)}, ())
    missing = [entry for entry in first if b"\nseen." not in entry[0]]
    assert len(missing) < len(first)
    lost = _restored(missing)
    assert lost.worlds == {} and lost.base is None and lost.start == 0
    assert "a piece its head names is missing" in caplog.text
    # A piece of the same name written at another offset (without the pieces'
    # memory, a second round writes to the same slots).
    changed, _ = evolve_batch(world, later[:200])  # type: ignore[arg-type]
    other = snapshot_round(0, 60, base, {REP: own_part(changed)}, ())
    named = dict(first)
    piece = next(entry for entry in other if b"\n" in entry[0] and entry[0] in named)
    assert piece[1] != named[piece[0]]
    assert _restored(first, [piece]).worlds == {}


def test_a_whole_world_entry_is_still_read_and_decode_takes_either(
    reference_plan: Plan,
) -> None:
    world, _ = _year(reference_plan, 600)
    rep = own_part(world)
    entry = encode_snapshot(9, rep)
    assert head_refs(entry) is None
    assert decode_rep(REP, RepSnapshot(entry)) == (9, rep)
    restored = Restored({REP: entry})
    assert restored.worlds == {REP: rep} and restored.refs == {}


def test_a_reps_close_order_and_credits_follow_from_its_positions(
    reference_plan: Plan,
) -> None:
    """What lets a head leave them out: after a year folded in Kafka arrival order
    (late deals re-slice the ones after them, amendments and cancellations change
    credits), each rep's order and credits are the ones its positions give, every
    credit with its exponent."""
    messages = list(BenchYear(3_000, 4, seed=8).messages())
    # Five lanes by key, each in its own order, one after another.
    arrival = sorted(range(len(messages)), key=lambda n: (crc32(messages[n][1]) % 5, n))
    events = []
    for n in arrival:
        try:
            events.append(decode_event(messages[n][2]))
        except InvalidEvent:
            continue
    world, _ = evolve_batch(start([reference_plan]), events)
    cancelled = 0
    for rep in world.reps.values():
        order, credits = in_close_order(rep.positions)
        assert order == rep.order
        assert {y: [c.as_tuple() for c in cs] for y, cs in credits.items()} == {
            y: [c.as_tuple() for c in cs] for y, cs in rep.credits.items()
        }
        cancelled += sum(p.cancelled for p in rep.positions.values())
    assert cancelled > 0 and sum(len(r.positions) for r in world.reps.values()) > 500


def _fields(record: object) -> list[tuple[str, type, object]]:
    """Each value inside ``record`` (depth first) with its path and type: what a
    decoder gave, beyond ``==`` (a Decimal's digits, a tuple against a list)."""
    found: list[tuple[str, type, object]] = []

    def walk(path: str, value: object) -> None:
        if isinstance(value, datetime):
            found.append((path, datetime, (value, value.utcoffset())))
            return
        found.append(
            (path, type(value), str(value) if isinstance(value, Decimal) else None)
        )
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key!r}", item)
        elif isinstance(value, tuple | list):
            for at, item in enumerate(value):
                walk(f"{path}[{at}]", item)
        elif is_dataclass(value) or isinstance(value, BaseModel):
            names = (
                [f.name for f in fields(value)]
                if is_dataclass(value)
                else list(type(value).model_fields)
            )
            for name in names:
                walk(f"{path}.{name}", getattr(value, name))

    walk("$", record)
    return found


def test_pieces_decode_to_the_records_the_world_codec_gives(
    reference_plan: Plan,
) -> None:
    world, _ = _year(reference_plan, 2_500)
    rep = own_part(world)
    deals = rep.deals.to_dict()
    assert len(deals) >= pieces_module.SMALL
    # What the generated year lacks: a SPIFF window (a pydantic model inside a
    # deal), a forfeit date in another zone, a score and odd Decimal exponents.
    deal_id, deal = next(iter(deals.items()))
    spiff = SpiffWindow(
        spiff_id="double-cloud",
        starts_at=datetime(2026, 3, 13, 9, tzinfo=timezone(timedelta(hours=8))),
        ends_at=datetime(2026, 4, 1, tzinfo=UTC),
        multiplier=Decimal("2.50"),
        regions=("APAC",),
    )
    odd = updated(
        deal,
        spiff=spiff,
        forfeited_at=datetime(
            2026, 5, 31, 23, 30, tzinfo=timezone(-timedelta(hours=5))
        ),
        satisfaction=Scored("csat-1", Decimal("4.50")),
        amount=Decimal("1E+3"),
    )
    rep = updated(rep, deals=rep.deals.set(deal_id, odd))
    snapshot = snapshot_round(0, 7, start([reference_plan]), {REP: rep}, ())
    restored = _restored(snapshot).worlds[REP]
    assert restored == rep
    expected = WORLD.validate_json(WORLD_JSON.encode(rep))
    for name in ("deals",):
        assert _fields(getattr(restored, name).to_dict()) == _fields(
            getattr(expected, name).to_dict()
        )
    assert _fields(restored.reps[REP].positions.to_dict()) == _fields(
        expected.reps[REP].positions.to_dict()
    )
    assert _fields(restored.seen.to_dict()) == _fields(expected.seen.to_dict())
    assert restored.deals[deal_id].spiff == spiff


def test_a_piece_that_does_not_decode_is_refused(reference_plan: Plan) -> None:
    world, _ = _year(reference_plan, 2_500)
    rep = own_part(world)
    entries = snapshot_round(0, 7, start([reference_plan]), {REP: rep}, ())
    name = next(key for key, _ in entries if b"\ndeals." in key)
    broken = [(key, value[:8] + b'{"D-1": {"amount": 3.5}}' if key == name else value)
              for key, value in entries]  # fmt: skip
    snapshot = _restored(broken).entries[REP]
    with pytest.raises(msgspec.ValidationError):
        decode_rep(REP, snapshot)
