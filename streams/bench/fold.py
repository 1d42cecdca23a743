"""Benchmarks that print figures (never timed assertions): ``quotaflow bench ...``.

``bench_fold`` folds a generated year (``streams.bench.year``) through the public fold
API only (``start``, ``evolve``, ``decode_event``), in separate passes so one pass's
overhead never lands in another's figure: JSON parsing alone, decode + validation +
fold in file order, the fold in Kafka arrival order, and a traced pass for the size of
the state.

The input is held as raw message bytes (about 330 bytes an event), never as decoded
events: each pass decodes a chunk, folds it and lets it go, so the benchmark's own
memory stays small next to the world's.
"""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
import zlib
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import orjson

from domain.batch import evolve_batch
from domain.engine import World, evolve, start
from domain.events import InvalidEvent, decode_event
from domain.plan import Plan
from streams.bench import DEFAULT_REPS
from streams.bench.broadcast import broadcast_costs
from streams.bench.generator import Message
from streams.bench.year import BenchYear
from streams.infra.topics import EVENT_TOPICS

PARTITIONS = 6
# How many messages one fetch takes from a partition before the consumer moves on.
FETCH = 500
CHUNK = 20_000
# Events folded together, as one poll of a consumer gives them (``evolve_batch``).
BATCH = 5_000
Progress = Callable[[str], None]


def partition_of(key: bytes, partitions: int = PARTITIONS) -> int:
    """A key's partition: a stable hash of the key, as the producer's partitioner."""
    return zlib.crc32(key) % partitions


def queue_of(message: Message, partitions: int = PARTITIONS) -> int:
    """The (topic, partition) a message lands on, as one number."""
    topic, key, _ = message
    return EVENT_TOPICS.index(topic) * partitions + partition_of(key, partitions)


def arrival_order(queues: Sequence[int], fetch: int = FETCH) -> array[int]:
    """The indices of the events in the order one consumer of every partition sees
    them: each partition keeps its own order, and fetches of ``fetch`` messages take
    turns round the partitions of every topic, as a consumer catching up on a backlog
    gets them. A permutation of ``range(len(queues))``."""
    by_queue: dict[int, array[int]] = {}
    for index, queue in enumerate(queues):
        by_queue.setdefault(queue, array("I")).append(index)
    lanes = [by_queue[q] for q in sorted(by_queue)]
    order, offset = array("I"), 0
    while lanes:
        for lane in lanes:
            order.extend(lane[offset : offset + fetch])
        offset += fetch
        lanes = [lane for lane in lanes if len(lane) > offset]
    return order


@dataclass
class YearInput:
    values: list[bytes]
    queues: array[int]


def year_input(
    count: int, reps: int, seed: int = 11, progress: Progress | None = None
) -> YearInput:
    values, queues = [], array("H")
    tick = max(count // 10, 1)
    for message in BenchYear(count, reps, seed).messages():
        values.append(message[2])
        queues.append(queue_of(message))
        if progress is not None and len(values) % tick == 0:
            progress(f"generated {len(values):,} of {count:,} events")
    return YearInput(values, queues)


@dataclass
class FoldRun:
    decode_s: float = 0.0
    fold_s: float = 0.0
    lines: int = 0
    refused: int = 0
    # Fold seconds and events of each tenth of the run.
    tenths: list[tuple[float, int]] = field(default_factory=list)

    def us_per_event(self, tenth: int) -> float:
        seconds, events = self.tenths[tenth]
        return seconds / max(events, 1) * 1e6


def _tenths(n: int) -> list[range]:
    bounds = [n * i // 10 for i in range(11)]
    return [range(bounds[i], bounds[i + 1]) for i in range(10)]


def _fold_run(
    plans: Sequence[Plan],
    values: list[bytes],
    order: Sequence[int],
    label: str,
    progress: Progress | None,
) -> FoldRun:
    """Decode and fold ``values`` in ``order``, chunk by chunk, timing each apart."""
    run, world = FoldRun(), start(plans)
    for number, tenth in enumerate(_tenths(len(order))):
        tenth_s = 0.0
        for low in range(tenth.start, tenth.stop, CHUNK):
            picked = order[low : min(low + CHUNK, tenth.stop)]
            began = time.perf_counter()
            events = []
            for i in picked:
                try:
                    events.append(decode_event(values[i]))
                except InvalidEvent:
                    run.refused += 1
            decoded = time.perf_counter()
            for low_event in range(0, len(events), BATCH):
                batch = events[low_event : low_event + BATCH]
                world, steps = evolve_batch(world, batch)
                run.lines += sum(len(step.lines) for step in steps)
                run.refused += sum(len(step.rejected) for step in steps)
            folded = time.perf_counter()
            run.decode_s += decoded - began
            tenth_s += folded - decoded
        run.fold_s += tenth_s
        run.tenths.append((tenth_s, len(tenth)))
        if progress is not None:
            progress(f"{label}: {10 * (number + 1)}% folded")
    return run


def _parse_s(values: Iterable[bytes]) -> float:
    began = time.perf_counter()
    for value in values:
        orjson.loads(value)
    return time.perf_counter() - began


def state_bytes(plans: Sequence[Plan], values: list[bytes]) -> int:
    """Bytes the fold holds after folding ``values`` in file order: the traced
    memory allocated since tracing began (before the world was started) and still
    held once the fold is done. It counts everything the state keeps alive (the
    events it remembers included) and what the fold's caches keep (about 1.4 MB
    whatever the size: 600 events measured 1.64 MB, of which dropping the world
    freed 0.27 MB), and nothing of the input, which was allocated before tracing
    began and is decoded one chunk at a time. Measured as what dropping the world
    frees, it once came out negative in the suite."""
    gc.collect()
    tracemalloc.start()
    try:
        world = _fold(start(plans), values)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        del world
        return held
    finally:
        tracemalloc.stop()


def _fold(world: World, values: list[bytes]) -> World:
    for low in range(0, len(values), CHUNK):
        for value in values[low : low + CHUNK]:
            try:
                world, _ = evolve(world, decode_event(value))
            except InvalidEvent:
                continue
    return world


def bench_fold(
    plan: Plan,
    count: int,
    reps: int = DEFAULT_REPS,
    seed: int = 11,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Events/s of JSON parsing, decode + validation, the fold in file and in Kafka
    arrival order, the fold's cost per event early, midway and late in the year, and
    the state's bytes per event of history."""
    data = year_input(count, reps, seed, progress)
    n, plans = len(data.values), [plan]
    parse_s = _parse_s(data.values)
    in_file = _fold_run(plans, data.values, range(n), "file order", progress)
    gc.collect()
    arrival = arrival_order(data.queues)
    in_kafka = _fold_run(plans, data.values, arrival, "kafka order", progress)
    gc.collect()
    if progress is not None:
        progress("measuring the state's size (traced pass)")
    held = state_bytes(plans, data.values)
    if progress is not None:
        progress(f"timing a hire and a target among {reps:,} reps")
    facts = broadcast_costs(plan, reps, seed)
    return {
        "events": n,
        "reps": reps,
        "refused": in_file.refused,
        "refused_kafka_order": in_kafka.refused,
        "decode_only_events_per_s": n / parse_s,
        "decode_validate_events_per_s": n / in_file.decode_s,
        "fold_events_per_s": n / in_file.fold_s,
        "fold_kafka_order_events_per_s": n / in_kafka.fold_s,
        "decode_validate_fold_events_per_s": n / (in_file.decode_s + in_file.fold_s),
        "us_per_event_first_tenth": in_file.us_per_event(0),
        "us_per_event_middle_tenth": in_file.us_per_event(5),
        "us_per_event_last_tenth": in_file.us_per_event(9),
        "lines_file_order": in_file.lines,
        "lines_kafka_order": in_kafka.lines,
        "state_bytes_per_event": held / n,
        **facts,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
