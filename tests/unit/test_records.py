"""The fold's records: cheap copies, JSON for the API, and a world that round-trips
through storage unchanged."""

from __future__ import annotations

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
