"""Decode-only events/s of the sample stream: pydantic path vs wire path (one core).

nice -n 10 python scripts/bench_decode.py [count]
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import Any

from domain.events import DealClosed, decode_event, decode_event_slowly
from streams.bench import sample_stream


def _best(label: str, run: Callable[[], Any], count: int, rounds: int = 5) -> None:
    best = min(_timed(run) for _ in range(rounds))
    rate, micros = count / best, best / count * 1e6
    print(f"{label:30} {rate:>10,.0f} events/s  {micros:6.2f} µs/event")


def _timed(run: Callable[[], Any]) -> float:
    # As timeit does: the collector's passes over what earlier rounds kept would
    # otherwise dominate the figure.
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        run()
        return time.perf_counter() - started
    finally:
        gc.enable()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    stream = sample_stream(count)
    _best(
        "pydantic (decode_event_slowly)",
        lambda: [decode_event_slowly(v) for v in stream],
        count,
    )
    _best("wire path (decode_event)", lambda: [decode_event(v) for v in stream], count)
    deals = [decode_event(v) for v in stream]
    deals = [d for d in deals if isinstance(d, DealClosed)]
    fields = [d.__dict__ for d in deals]
    _best(
        "DealClosed.model_construct",
        lambda: [DealClosed.model_construct(**f) for f in fields],
        len(deals),
    )
    new, put = object.__new__, object.__setattr__

    def lower(values: dict[str, Any]) -> DealClosed:
        made: DealClosed = new(DealClosed)
        put(made, "__dict__", dict(values))
        put(made, "__pydantic_fields_set__", set(values))
        put(made, "__pydantic_extra__", None)
        put(made, "__pydantic_private__", None)
        return made

    _best(
        "DealClosed via __new__+slots", lambda: [lower(f) for f in fields], len(deals)
    )


if __name__ == "__main__":
    main()
