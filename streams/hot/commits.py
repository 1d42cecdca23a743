"""The consumer calls of the hot path whose errors need telling apart: a commit
refused during a rebalance, and the errors a consumer reports in its messages."""

from __future__ import annotations

import logging

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

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
