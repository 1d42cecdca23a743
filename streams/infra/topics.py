"""Topic names and their creation with explicit partition counts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

log = logging.getLogger(__name__)

DEALS = "deals"
PAYMENTS = "payments"
SATISFACTION = "satisfaction"
TARGETS = "targets"
PLANS = "plans"
ORG = "org"
ACTIVITIES = "activities"
CONTROL = "control"
DLQ = "dlq"
EVENT_TOPICS = (DEALS, PAYMENTS, SATISFACTION, TARGETS, PLANS, ORG, ACTIVITIES, CONTROL)
# Keyed by deal_id with the same partition count: one deal's events share a partition
# number, so one router holds everything about the deal.
DEAL_KEYED = (DEALS, PAYMENTS, SATISFACTION)
# Events for one rep (activities) or for every rep (the rest, period closes included).
REP_OR_GLOBAL = (PLANS, TARGETS, ORG, ACTIVITIES, CONTROL)


def rep_deals_topic(app_id: str) -> str:
    """Deals re-keyed by credited rep, so one rep's facts meet in one partition."""
    return f"{app_id}-rep-deals"


def claims_topic(app_id: str) -> str:
    """Every event on its way to the rep topic, keyed by its id; one partition, so
    one place decides whose each id is and every sender's order is kept
    (``streams.state.claims``)."""
    return f"{app_id}-event-claims"


def period_shares_topic(app_id: str) -> str:
    """Each rep partition's share of a closing period's facts; one partition, so the
    shares of a period meet in one place and the awards are made once."""
    return f"{app_id}-period-shares"


def checkpoints_topic(app_id: str) -> str:
    """Each partition's state entries with the offsets they reflect
    (``streams.state.checkpoints``); only the newest value of a key matters."""
    return f"{app_id}-checkpoints"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    # Event topics are the event store: they keep data forever.
    config: tuple[tuple[str, str], ...] = (("retention.ms", "-1"),)


def topic_specs(app_id: str, partitions: int) -> list[TopicSpec]:
    specs = [TopicSpec(name, partitions) for name in EVENT_TOPICS]
    specs.append(TopicSpec(DLQ, 1))
    # The rep topic is the log the reps' state is rebuilt from: kept forever too.
    specs.append(TopicSpec(rep_deals_topic(app_id), partitions))
    specs.append(TopicSpec(claims_topic(app_id), 1))
    specs.append(TopicSpec(period_shares_topic(app_id), 1))
    specs.append(
        TopicSpec(
            checkpoints_topic(app_id), partitions, (("cleanup.policy", "compact"),)
        )
    )
    return specs


def ensure_topics(
    admin: AdminClient, specs: list[TopicSpec], timeout: float = 30
) -> None:
    """Create missing topics; one that exists with other partitions is an error."""
    existing = admin.list_topics(timeout=timeout).topics
    for spec in specs:
        found = existing.get(spec.name)
        if found is not None and len(found.partitions) != spec.partitions:
            msg = (
                f"topic {spec.name!r} has {len(found.partitions)} partitions, "
                f"QuotaFlow is configured for {spec.partitions}"
            )
            raise RuntimeError(msg)
    missing = [spec for spec in specs if spec.name not in existing]
    if not missing:
        return
    futures = admin.create_topics(
        [NewTopic(s.name, s.partitions, 1, config=dict(s.config)) for s in missing],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() != exc.args[0].TOPIC_ALREADY_EXISTS:
                raise
        log.info("created topic %s", name)


# The group of the consumers that only ask a partition's offsets (never join it).
PROBE_GROUP = "quotaflow-offset-probe"


def watermarks_on(
    consumer: Consumer, topic: str, partition: int, timeout: float
) -> tuple[int, int]:
    """The first offset ``topic``/``partition`` still holds, and the offset its next
    message will get, asked through a consumer that is at hand."""
    where = TopicPartition(topic, partition)
    low, high = consumer.get_watermark_offsets(where, timeout=timeout)
    return int(low), int(high)


def messages_on(config: dict[str, Any], topic: str, timeout: float = 10) -> int:
    """How many messages ``topic`` holds (sum of end minus start offsets)."""
    consumer = Consumer({**config, "group.id": PROBE_GROUP})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
        total = 0
        for partition in metadata.partitions:
            low, high = watermarks_on(consumer, topic, partition, timeout)
            total += high - low
        return total
    finally:
        consumer.close()
