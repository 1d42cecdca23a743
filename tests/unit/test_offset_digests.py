"""The digests that tell a replayed message from another message at an offset
already applied (``streams.hot.regression``)."""

from __future__ import annotations

import pytest

from streams.hot import regression
from streams.hot.regression import AppliedDigests, Regression
from streams.log.history import Record


def _record(offset: int, value: bytes, partition: int = 0) -> Record:
    return Record("deals", partition, offset, 0.0, b"D-1", value)


def test_a_replay_matches_and_another_message_at_the_offset_differs() -> None:
    kept = AppliedDigests()
    kept.remember(_record(7, b"deal"))
    assert not kept.differs(_record(7, b"deal"))  # the same message again
    assert kept.differs(_record(7, b"another deal"))
    assert not kept.differs(_record(8, b"anything"))  # never applied here
    assert not kept.differs(_record(7, b"another deal", partition=1))
    kept.forget("deals", 0)
    assert not kept.differs(_record(7, b"another deal"))


def test_only_the_last_offsets_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regression, "KEPT", 2)
    kept = AppliedDigests()
    for offset in range(3):
        kept.remember(_record(offset, b"v"))
    assert not kept.differs(_record(0, b"w"))  # forgotten
    assert kept.differs(_record(2, b"w"))


def test_a_regression_says_where_and_why() -> None:
    found = Regression("deals", 1, 299, 0, "the partition's end offset is below")
    assert found.describe() == (
        "deals/1: the partition's end offset is below (applied up to offset 299, "
        "found 0)"
    )
