"""The launcher starts real brokers, and stops them leaving no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from projections.migrations import migrate
from projections.store import Store
from streams.infra.embedded import BrokerProcess
from streams.infra.settings import EmbeddedBroker
from streams.infra.topics import DEALS, ensure_topics, messages_on, topic_specs

pytestmark = pytest.mark.integration


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and entry.name != str(os.getpid()):
            found.append(int(entry.name))
    return found


def _round_trip(bootstrap: str) -> bytes:
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(DEALS, key=b"k", value=b"hello")
    producer.flush(10)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"g-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
        }
    )
    # Assigned, not subscribed: Tansu holds a group join for half the session timeout.
    consumer.assign([TopicPartition(DEALS, p, OFFSET_BEGINNING) for p in range(4)])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                return bytes(message.value())
    finally:
        consumer.close()
    pytest.fail("no message came back")


@pytest.mark.parametrize("kind", [EmbeddedBroker.TANSU, EmbeddedBroker.NOIDA])
def test_embedded_broker_creates_topics_with_explicit_partitions_and_stops_cleanly(
    kind: EmbeddedBroker, tmp_path: Path
) -> None:
    data_dir = tmp_path / kind.value
    with BrokerProcess(kind, data_dir) as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        ensure_topics(admin, topic_specs("qf-launch", 4))
        topics = admin.list_topics(timeout=10).topics
        assert len(topics[DEALS].partitions) == 4
        assert len(topics["dlq"].partitions) == 1
        assert len(topics["qf-launch-rep-deals"].partitions) == 4
        ensure_topics(admin, topic_specs("qf-launch", 4))  # idempotent
        with pytest.raises(RuntimeError, match=r"has 4 partitions.*configured for 5"):
            ensure_topics(admin, topic_specs("qf-launch", 5))
        assert _round_trip(broker.bootstrap_servers) == b"hello"
        assert messages_on({"bootstrap.servers": broker.bootstrap_servers}, DEALS) == 1
        port = str(broker.port)
        assert _processes_mentioning(port)
    assert _processes_mentioning(port) == []


def test_broker_dies_with_its_parent_even_on_sigkill(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from streams.infra.embedded import BrokerProcess\n"
        "from streams.infra.settings import EmbeddedBroker\n"
        "b = BrokerProcess(EmbeddedBroker.TANSU, Path(sys.argv[1])).start()\n"
        "print(b.port, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    port = parent.stdout.readline().strip()
    assert port.isdigit()
    assert _processes_mentioning(f"127.0.0.1:{port}")
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while _processes_mentioning(f"127.0.0.1:{port}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(f"127.0.0.1:{port}") == []


def test_broker_on_a_taken_port_is_refused_instead_of_using_the_other_broker(
    tmp_path: Path,
) -> None:
    with BrokerProcess(EmbeddedBroker.TANSU, tmp_path / "a") as first:
        clash = BrokerProcess(EmbeddedBroker.TANSU, tmp_path / "b", port=first.port)
        with pytest.raises(RuntimeError, match=rf"port {first.port} is in use"):
            clash.start(timeout=10)


def test_migrations_apply_once_and_are_idempotent(store: Store) -> None:
    assert migrate(store) == []
    tables = {row[0] for row in store.rows("SHOW TABLES")}
    assert {"ledger_lines", "schema_migrations"} <= tables
    columns = {row[0] for row in store.rows("DESCRIBE TABLE ledger_lines")}
    assert "kind" in columns
    engine = store.rows(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} "
        "AND name = 'ledger_lines'",
        {"db": store.database},
    )
    assert engine[0][0].startswith("ReplacingMergeTree(version)")
