"""Benchmarks that print figures (never timed assertions): ``quotaflow bench ...``."""

from __future__ import annotations

import resource
import time

from domain.engine import evolve, start
from domain.events import decode_event
from domain.plan import Plan
from streams.generator import sample_events


def sample_stream(count: int, seed: int = 11) -> list[bytes]:
    """Realistic raw events: deals and their payments, scores, amendments, cancels."""
    return [value for _, _, value in sample_events(count, seed)]


def bench_fold(plan: Plan, count: int) -> dict[str, float]:
    """Events/s of (a) the fold over validated events, (b) decode + validate + fold."""
    raw = sample_stream(count)
    started = time.perf_counter()
    events = [decode_event(value) for value in raw]
    decoded = time.perf_counter()
    world = start([plan])
    for event in events:
        world, _ = evolve(world, event)
    folded = time.perf_counter()
    decode_s, fold_s = decoded - started, folded - decoded
    return {
        "events": len(raw),
        "fold_events_per_s": len(raw) / fold_s,
        "decode_validate_fold_events_per_s": len(raw) / (decode_s + fold_s),
        "decode_validate_events_per_s": len(raw) / decode_s,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
