"""The fold's records: cheap copies, JSON for the API, and a world that round-trips
through storage unchanged."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.engine import evolve
from domain.frozen import updated
from domain.ledger import line_as_json
from domain.plan import Plan
from domain.world import WORLD, Person
from tests.unit.test_engine import deal, fold, lines_of, pay

PERSON = Person(rep_id="R-1", team_id="T1", region="east", role="support",
                grade="S3", hired_at=datetime(2025, 1, 1, tzinfo=UTC))  # fmt: skip


def test_updated_changes_only_the_named_fields_and_leaves_the_original() -> None:
    person = PERSON
    moved = updated(person, team_id="T2")
    assert (person.team_id, moved.team_id) == ("T1", "T2")
    assert moved == Person(rep_id="R-1", team_id="T2", region="east", role="support",
                           grade="S3", hired_at=PERSON.hired_at)  # fmt: skip


def test_updated_refuses_a_field_the_record_does_not_have() -> None:
    person = PERSON
    with pytest.raises(TypeError, match="Person has no field"):
        updated(person, team="T2")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Base:
    a: int
    b: str = "b"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Derived(_Base):
    c: tuple[int, ...] = ()


def test_a_copy_is_of_the_records_own_class_with_every_field_and_stays_frozen() -> None:
    record = _Derived(a=1, b="x", c=(1, 2))
    copy = updated(record, c=(3,))
    assert type(copy) is _Derived
    assert copy == _Derived(a=1, b="x", c=(3,))  # the base's fields copied too
    assert record == _Derived(a=1, b="x", c=(1, 2))
    assert updated(record) == record
    assert updated(record) is not record
    with pytest.raises(FrozenInstanceError):
        copy.a = 2  # type: ignore[misc]


class _Loose:
    def __init__(self) -> None:
        self.a = 1


def test_a_record_with_a_dict_is_not_copied_by_its_slots() -> None:
    with pytest.raises(TypeError, match="not a slotted record"):
        updated(_Loose(), a=2)


def test_a_ledger_line_as_json_has_decimal_strings_and_iso_times(
    reference_plan: Plan,
) -> None:
    _, steps = fold(reference_plan, [deal(1, "100000.00")])
    (line,) = lines_of(steps)
    shown = line_as_json(line)
    assert shown["amount"] == "3000.00"
    assert shown["occurred_at"] == "2026-03-14T09:30:00+08:00"
    assert shown["inputs"][0] == ["credited_revenue", "100000.00"]


def test_a_stored_world_reads_back_equal_and_folds_on_identically(
    reference_plan: Plan,
) -> None:
    world, _ = fold(
        reference_plan,
        [deal(1, "600000.00"), pay(1, 1, "100000.00", "2026-03-20T00:00:00+08:00")],
    )
    restored = WORLD.validate_json(WORLD.dump_json(world))
    assert restored == world
    after, step = evolve(restored, deal(2, "100000.00"))
    again, same = evolve(world, deal(2, "100000.00"))
    assert after == again
    assert step == same
    assert after.reps["R-17"].total("earned") == Decimal(
        "25000.00"
    )  # 15,000 + 5,000, then 5%
