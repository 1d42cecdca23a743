"""Decode-only events/s: pydantic path vs wire path (one core), on the sample stream
(deals and their follow-ups) and on a generated year's mix of events.

nice -n 10 python scripts/bench_decode.py [count]
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable

from domain.events import Event, decode_event, decode_event_slowly
from streams.bench.fold import year_input
from streams.bench.generator import sample_events

Decode = Callable[[bytes], Event]


def _timed(decode: Decode, values: list[bytes]) -> float:
    # As timeit does: the collector's passes over what earlier rounds kept would
    # otherwise dominate the figure.
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        for value in values:
            decode(value)
        return time.perf_counter() - started
    finally:
        gc.enable()


def _compare(name: str, values: list[bytes], rounds: int = 5) -> None:
    paths: dict[str, Decode] = {
        "pydantic (decode_event_slowly)": decode_event_slowly,
        "wire path (decode_event)": decode_event,
    }
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(rounds):  # interleaved, so both see the same load
        for label, decode in paths.items():
            best[label] = min(best[label], _timed(decode, values))
    for label, seconds in best.items():
        rate, micros = len(values) / seconds, seconds / len(values) * 1e6
        print(f"{name:7} {label:30} {rate:>10,.0f} events/s  {micros:6.2f} µs/event")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    _compare("sample", [value for _, _, value in sample_events(count)])
    _compare("year", year_input(count, max(count // 100, 1)).values)


if __name__ == "__main__":
    main()
