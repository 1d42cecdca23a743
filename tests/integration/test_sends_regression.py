"""A broker that acknowledges an offset it acknowledged before has lost writes it
had acknowledged: the flush of the worker's sends fails, naming the partition, so
the batch it ends is never acknowledged (``streams.worker.sends``)."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient

from streams.infra.embedded import BrokerProcess
from streams.infra.topics import TopicSpec, ensure_topics
from streams.worker.sends import LogMovedBack, Sends
from tests.integration.conftest import unique, wait_for

pytestmark = pytest.mark.integration


def test_an_offset_acknowledged_again_fails_the_flush(broker: BrokerProcess) -> None:
    topic = unique("sends")
    config = {"bootstrap.servers": broker.bootstrap_servers}
    admin = AdminClient(config)
    ensure_topics(admin, [TopicSpec(topic, 1)])
    sends = Sends(config)
    try:
        for number in range(3):
            sends.producer.produce(topic, value=b"%d" % number, partition=0)
        sends.flush()  # offsets 0, 1 and 2, acknowledged
        # The log loses them: the topic deleted and created again, empty.
        for done in admin.delete_topics([topic]).values():
            done.result(30)
        wait_for(lambda: topic not in admin.list_topics(timeout=10).topics,
                 timeout=30, what="the topic gone")  # fmt: skip
        ensure_topics(admin, [TopicSpec(topic, 1)])
        sends.producer.produce(topic, value=b"again", partition=0)
        expected = (
            f"offset regression on {topic}/0: the broker acknowledged offset 0 "
            "after acknowledging offset 2"
        )
        with pytest.raises(LogMovedBack, match=expected):
            sends.flush()
        # It stays failed: nothing after it is acknowledged either.
        with pytest.raises(LogMovedBack):
            sends.flush()
    finally:
        sends.close()
