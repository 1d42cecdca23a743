"""Claims of event ids (``streams.state.claims``): an id used again for another
subject is refused, the same subject passes, what a routed deal gives becomes one
claim per event, and the claims survive a checkpoint."""

from __future__ import annotations

import zlib

import orjson
import pytest

from domain.events import decode_event
from streams.state import claims as claims_module
from streams.state.claims import (
    EVERYONE,
    Claim,
    Claims,
    deal_claims,
    decode_claim,
    encode_claim,
    of_deal,
    of_rep,
)
from streams.state.routing import BROADCAST, DealRouter, Origin, owner_partition
from tests.factories import deal_event, envelope

AT = "2026-03-01T00:00:00+08:00"


def _claim(event_id: str, subject: str, *reps: str) -> Claim:
    return Claim(event_id, subject, reps, b"{}", Origin("deals", 0, 0, 0.0, b"k"))


def test_an_id_used_again_for_another_subject_is_refused_and_for_its_own_passes() -> (
    None
):
    claims = Claims()
    assert claims.refusal(_claim("e-1", of_deal("D-1"), "R-a")) is None
    assert claims.refusal(_claim("e-1", of_deal("D-1"), "R-a", "R-b")) is None
    assert claims.refusal(_claim("e-1", of_deal("D-2"), "R-c")) == (
        "event_id e-1 was already used for other than deal D-2"
    )
    assert claims.refusal(_claim("e-1", EVERYONE, BROADCAST)) == (
        "event_id e-1 was already used for other than an event of the whole company"
    )
    assert claims.refusal(_claim("e-2", EVERYONE, BROADCAST)) is None
    assert claims.refusal(_claim("e-2", of_rep("R-a"), "R-a")) == (
        "event_id e-2 was already used for other than rep R-a"
    )
    # A refused claim is not remembered: the first subject keeps the id.
    assert claims.refusal(_claim("e-1", of_deal("D-1"), "R-a")) is None
    assert len(claims.subjects) == 2


def test_claims_survive_checkpoints_and_an_entry_closes_when_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(claims_module, "PER_ENTRY", 2)
    claims = Claims()
    assert not claims.dirty
    claims.refusal(_claim("e-1", of_deal("D-1"), "R-a"))
    claims.applied = 0
    first = claims.entries()
    opened = first[0][0]
    assert [name[:21] for name, _ in first] == [f"{0:020d}-", "@applied"]
    assert not claims.dirty
    claims.refusal(_claim("e-2", EVERYONE, BROADCAST))
    claims.refusal(_claim("e-1", of_deal("D-1"), "R-a"))  # a repeat: nothing new
    claims.applied = 2
    # The open entry is written again, whole, and is full now (2 claims).
    second = claims.entries()
    assert [name for name, _ in second] == [opened, "@applied"]
    # A repeat moves the offset only: the round writes it and no claims.
    claims.refusal(_claim("e-2", EVERYONE, BROADCAST))
    claims.applied = 3
    assert claims.dirty
    third = claims.entries()
    assert [name for name, _ in third] == ["@applied"]
    claims.refusal(_claim("e-3", of_rep("R-a"), "R-a"))
    claims.applied = 4
    fourth = claims.entries()
    assert fourth[0][0][:21] == f"{4:020d}-"

    restored = Claims.restored(dict([*first, *second, *third, *fourth]))
    assert restored.applied == 4
    assert not restored.dirty
    assert restored.subjects == claims.subjects
    assert len(restored.subjects) == 3
    assert restored.refusal(_claim("e-2", of_deal("D-9"), "R-z")) is not None


def test_claims_that_outran_the_rounds_are_written_in_entries_of_at_most_per_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backlog's claims come faster than the rounds: whatever a round finds, no
    entry holds more than ``PER_ENTRY`` claims (one message stays under the
    broker's limit), and the entries restore every claim."""
    monkeypatch.setattr(claims_module, "PER_ENTRY", 3)
    claims = Claims()
    claims.refusal(_claim("e-0", of_deal("D-0"), "R-a"))
    claims.applied = 0
    first = claims.entries()
    for n in range(1, 9):  # 8 more: the open entry's 2 to fill, then 3, 3
        claims.refusal(_claim(f"e-{n}", of_deal(f"D-{n}"), "R-a"))
    claims.applied = 8
    second = claims.entries()
    names = [name for name, _ in second]
    assert names[0] == first[0][0]  # the open entry, filled and closed
    assert names[-1] == "@applied"
    assert len(set(names)) == len(names) == 4
    sizes = [
        len(claims_module._unpacked(zlib.decompress(v))) // 2 for _, v in second[:-1]
    ]
    assert sizes == [3, 3, 3]
    assert len(claims.fresh) == 0
    claims.refusal(_claim("e-9", of_deal("D-9"), "R-a"))
    claims.applied = 9
    third = claims.entries()
    assert [len(claims_module._unpacked(zlib.decompress(v))) // 2
            for _, v in third[:-1]] == [1]  # fmt: skip
    restored = Claims.restored(dict([*first, *second, *third]))
    assert restored.subjects == claims.subjects
    assert len(restored.subjects) == 10
    assert restored.applied == 9


def test_a_routed_deal_gives_one_claim_per_event_its_reps_and_their_partitions() -> (
    None
):
    router = DealRouter()
    payment = orjson.dumps(
        envelope("PaymentReceived", "p-1", AT, payment_id="P-1", deal_id="D-1",
                 amount="100.00", currency="CNY")
    )  # fmt: skip
    waiting = Origin("payments", 0, 4, 0.0, b"D-1")
    assert router.route(decode_event(payment), payment, waiting) == []
    splits = [{"rep_id": "R-a", "share": "0.5"}, {"rep_id": "R-b", "share": "0.5"}]
    deal = orjson.dumps(
        deal_event(event_id="e-1", deal_id="D-1", rep_id="R-a", splits=splits)
    )
    origin = Origin("deals", 0, 7, 0.0, b"D-1")
    event = decode_event(deal)
    claims = deal_claims(event, origin, router.route(event, deal, origin))
    assert [(c.event_id, c.subject, c.reps, c.origin) for c in claims] == [
        ("e-1", "deal/D-1", ("R-a", "R-b"), origin),
        ("p-1", "deal/D-1", ("R-a", "R-b"), waiting),
    ]
    assert [decode_claim(encode_claim(claim)) for claim in claims] == claims
    forwards = claims[0].forwards(4)
    assert [(n, f.rep_id, f.primary) for n, f in forwards] == [
        (owner_partition("R-a", 4), "R-a", True),
        (owner_partition("R-b", 4), "R-b", False),
    ]
    everyone = _claim("e-3", EVERYONE, BROADCAST).forwards(3)
    assert [(n, f.rep_id, f.primary) for n, f in everyone] == [
        (0, BROADCAST, True),
        (1, BROADCAST, False),
        (2, BROADCAST, False),
    ]
    hired = envelope("RepHired", "h-1", AT, rep_id="R-a", team_id="T", region="east",
                     role="account_manager", grade="P5", hired_at=AT)  # fmt: skip
    hire = decode_event(orjson.dumps(hired))
    with pytest.raises(TypeError, match="RepHired is not about a deal"):
        deal_claims(hire, origin, [])
