"""The consumer calls of the hot path whose errors need telling apart (a commit
refused during a rebalance, and the errors a consumer reports in its messages), and
the group's committed offsets a rebuild reads up to."""

from __future__ import annotations

import logging

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from streams.log.history import committed_on
from streams.state.recovery import Committed

log = logging.getLogger(__name__)


def commit(consumer: Consumer, offsets: list[TopicPartition]) -> None:
    """Commit a handled batch. A commit the group refuses because it is rebalancing
    (the partitions may have moved) is not an error: the batch's rows are written
    and its sends confirmed, so whoever owns the partitions now reads it again and
    changes nothing. Only a fatal error stops the worker."""
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    except KafkaException as exc:
        error = exc.args[0]
        if not isinstance(error, KafkaError) or error.fatal():
            raise
        log.warning("commit refused (%s); the batch will be read again", error)


def consumer_error(error: KafkaError) -> None:
    """A consumer error: fatal ones stop the worker; the rest (a broker that went
    away, an end of partition) are logged, and librdkafka goes on by itself."""
    if error.fatal():
        raise KafkaException(error)
    if error.code() != KafkaError._PARTITION_EOF:
        log.warning("consumer: %s", error)


def committed_by(consumer: Consumer, timeout: float = 30) -> Committed:
    """The group's committed offsets, asked by ``consumer``, a member of the group
    already in touch with its coordinator: a rebuild asks one a partition of each
    topic, and a new consumer for each asking (``streams.log.history``) took 40 ms
    here, 1 s of a restart after 300,000 events. Called on the consumer's thread."""

    return lambda topic, partition: committed_on(consumer, topic, partition, timeout)
