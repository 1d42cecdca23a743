"""The phases of ``quotaflow bench stream`` besides the end-to-end run: the raw consume
ceiling, a sustained rate with its latency, and a restart's recovery time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from streams.bench.generator import Message, produce_one
from streams.infra.metrics import Metrics

Progress = Callable[[str], None]
LATENCY = "quotaflow_processing_latency_seconds"


def raw_consume_rate(config: dict[str, Any], topics: list[str], count: int) -> float:
    """Events/s of a plain confluent-kafka consumer that reads ``count`` messages of
    ``topics`` from the start in batches and parses each with orjson: the ceiling
    the worker is measured against."""
    consumer = Consumer(
        {
            **config,
            "group.id": f"bench-raw-{time.monotonic_ns()}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            "receive.message.max.bytes": 600_000_000,
        }
    )
    try:
        assignment = []
        for topic in topics:
            metadata = consumer.list_topics(topic, timeout=30).topics[topic]
            assignment += [TopicPartition(topic, p, 0) for p in metadata.partitions]
        consumer.assign(assignment)
        seen, started = 0, time.perf_counter()
        deadline = time.monotonic() + 300
        while seen < count and time.monotonic() < deadline:
            for message in consumer.consume(10_000, 0.5):
                error = message.error()
                if error is None:
                    orjson.loads(message.value() or b"null")
                    seen += 1
                elif error.code() != KafkaError._PARTITION_EOF:
                    raise RuntimeError(str(error))
        return seen / (time.perf_counter() - started)
    finally:
        consumer.close()


def produce_at(
    producer: Producer, events: list[Message], rate: float, progress: Progress
) -> float:
    """Produce ``events`` at ``rate`` a second, in 10 ms steps (as fast as the
    producer goes when ``rate`` is infinite); the seconds taken."""
    started = time.perf_counter()
    paced = 0 < rate < float("inf")
    step = max(1, int(rate / 100)) if paced else 10_000
    for index in range(0, len(events), step):
        for topic, key, value in events[index : index + step]:
            produce_one(producer, topic, key, value)
        producer.poll(0)
        if paced:
            pause = started + (index + step) / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            if index and index % (step * 1000) == 0:
                progress(f"produced {index:,} of {len(events):,} at {rate:,.0f}/s")
    producer.flush(120)
    return time.perf_counter() - started


def latency_buckets(metrics: Metrics) -> dict[float, float]:
    """The processing latency histogram's cumulative counts, by upper bound."""
    found: dict[float, float] = {}
    for family in metrics.registry.collect():
        if family.name != LATENCY:
            continue
        for sample in family.samples:
            if sample.name == f"{LATENCY}_bucket":
                found[float(sample.labels["le"])] = sample.value
    return found


def counter_total(metrics: Metrics, name: str, **labels: str) -> float:
    """The value of the worker's counter ``name`` with these labels (0 unseen)."""
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == f"{name}_total" and all(
                sample.labels.get(key) == value for key, value in labels.items()
            ):
                return sample.value
    return 0.0


def quantile_bound(
    before: dict[float, float], after: dict[float, float], q: float
) -> float | None:
    """The upper bound of the histogram bucket that holds the ``q`` quantile of what
    was observed between two readings (``None`` if nothing was)."""
    counts = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return None
    for bound, cumulative in counts:
        if cumulative >= q * total:
            return bound
    return None  # pragma: no cover - the +Inf bucket holds every observation


def undrained(config: dict[str, Any], group: str, topics: list[str]) -> int:
    """Messages of ``topics`` the group has not committed yet: 0 once the worker has
    written and committed everything on them (a commit follows the rows)."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = []
        for topic in topics:
            metadata = consumer.list_topics(topic, timeout=30).topics[topic]
            partitions += [TopicPartition(topic, p) for p in metadata.partitions]
        waiting = 0
        for tp in consumer.committed(partitions, timeout=30):
            _, end = consumer.get_watermark_offsets(tp, timeout=30)
            # Tansu reports an end below what was committed (the first offset of
            # the last batch, plus one): nothing waits there.
            waiting += max(end - max(tp.offset, 0), 0)
        return waiting
    finally:
        consumer.close()
