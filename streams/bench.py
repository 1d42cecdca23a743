"""Benchmarks that print figures (never timed assertions): ``quotaflow bench ...``."""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice

import orjson

from domain.engine import evolve, start
from domain.events import decode_event
from domain.plan import Plan
from streams.generator import SampleWorld


def sample_stream(count: int, seed: int = 11) -> list[bytes]:
    """Realistic raw events: deals, then payments and satisfaction scores for them."""
    world = SampleWorld(seed=seed)
    rnd = random.Random(seed)  # noqa: S311 - sample data
    out: list[bytes] = []
    for _, value in world.messages():
        if len(out) >= count:
            break
        out.append(value)
        out.extend(islice(_follow_ups(orjson.loads(value), rnd), count - len(out)))
    return out


def _follow_ups(deal: dict[str, object], rnd: random.Random) -> Iterator[bytes]:
    closed = datetime.fromisoformat(str(deal["occurred_at"]))
    amount = Decimal(str(deal["amount"]))
    base = {"schema_version": 1, "deal_id": deal["deal_id"]}
    if rnd.random() < 0.6:  # noqa: PLR2004 - share of deals paid in the sample
        yield orjson.dumps({
            **base, "event_id": f"pay-{deal['event_id']}",
            "event_type": "PaymentReceived",
            "occurred_at": (closed + timedelta(days=rnd.randint(1, 90))).isoformat(),
            "source": "erp", "payment_id": f"P-{deal['deal_id']}",
            "amount": str((amount * Decimal(rnd.choice((50, 100))) / 100).quantize(
                Decimal("0.01"))), "currency": "CNY",
        })  # fmt: skip
    if rnd.random() < 0.3:  # noqa: PLR2004 - share of deals surveyed in the sample
        yield orjson.dumps({
            **base, "event_id": f"svy-{deal['event_id']}",
            "event_type": "SatisfactionRecorded",
            "occurred_at": (closed + timedelta(days=20)).isoformat(),
            "source": "survey",
            "customer_id": deal["customer_id"], "score": str(rnd.randint(70, 100)),
        })  # fmt: skip


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
