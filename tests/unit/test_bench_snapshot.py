"""``quotaflow bench snapshot`` measures a rep's checkpoint as the stream writes it:
all of its pieces, and the few a round after one more event writes."""

from __future__ import annotations

from domain.plan import Plan
from streams.bench.snapshot import bench_snapshot


def test_the_busiest_reps_snapshot_and_the_round_after_one_event(
    reference_plan: Plan,
) -> None:
    said: list[str] = []
    figures = bench_snapshot(reference_plan, 3_000, 4, progress=said.append)
    assert figures["events"] == 2_700 and figures["reps"] == 4
    assert figures["rep_stakes"] > 100
    # Every piece and the head: about what one entry of the whole world holds.
    assert figures["snapshot_entries"] > 4
    assert 0.5 < figures["snapshot_kb"] / figures["whole_entry_kb"] < 2
    # One more event: its pieces and the head, a small part of the whole.
    assert 1 <= figures["round_after_one_event_entries"] < figures["snapshot_entries"]
    assert figures["round_after_one_event_kb"] < figures["snapshot_kb"] / 2
    assert min(figures[k] for k in figures if k.endswith("_ms")) > 0
    assert said[-1].startswith("folded 2,700 of 3,000 events")
