"""One real broker (noida-db) and one real ClickHouse engine (chDB) per test session."""

from __future__ import annotations

import json
import os
import time
import urllib.request
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from domain.plan import Plan
from projections.migrations import migrate
from projections.store import Store
from streams.cli.tokens import admin_token
from streams.infra.embedded import BrokerProcess, free_port
from streams.infra.runtime import load_plan
from streams.infra.settings import BrokerMode, EmbeddedBroker, Settings
from streams.infra.topics import ensure_topics, topic_specs
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.polling import wait_for

__all__ = ["earned", "read_topic", "send", "unique", "wait_for"]

ROOT = Path(__file__).resolve().parents[2]
SERVER_URL = "QUOTAFLOW_CLICKHOUSE_URL"
T = TypeVar("T")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess(
        EmbeddedBroker.NOIDA, tmp_path_factory.mktemp("noida")
    ) as running:
        yield running


@pytest.fixture(scope="session")
def chdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The session's ClickHouse engine, in-process."""
    opened = Store.embedded(tmp_path_factory.mktemp("chdb"), "quotaflow_test")
    migrate(opened)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def store(chdb: Store) -> Store:
    """The store the session's worker writes (contract tests override it)."""
    return chdb


def _backends() -> list[str]:
    """The projection contract runs on chDB, and on a server when one is named."""
    return ["chdb", "server"] if os.environ.get(SERVER_URL) else ["chdb"]


@pytest.fixture(scope="session", params=_backends())
def contract_store(request: pytest.FixtureRequest, chdb: Store) -> Iterator[Store]:
    """The store the projection contract tests write and read: the session's chDB
    engine, or the ClickHouse server of ``QUOTAFLOW_CLICKHOUSE_URL``
    (``http[s]://user:password@host:port``) in a database of its own."""
    if request.param == "chdb":
        yield chdb
        return
    url = urlparse(os.environ[SERVER_URL])
    server = Store.server(
        host=url.hostname or "localhost",
        port=url.port or 8123,
        user=unquote(url.username or "default"),
        password=unquote(url.password or ""),
        database="quotaflow_contract",
        secure=url.scheme == "https",
    )
    migrate(server)
    yield server
    server.close()


@pytest.fixture(scope="session")
def plan() -> Plan:
    return load_plan(ROOT / "examples/plans/reference.yaml")


def settings_on(
    broker: BrokerProcess, data_dir: Path, app_id: str, partitions: int, **more: Any
) -> Settings:
    """The settings of a worker of app ``app_id`` on ``broker`` (its topics created
    here), with its data in ``data_dir``, writing the suite's ClickHouse database;
    ``more`` sets the rest by name (``batch_size=200``)."""
    own = Settings(
        broker_mode=BrokerMode.EXTERNAL,
        bootstrap_servers=broker.bootstrap_servers,
        data_dir=data_dir,
        app_id=app_id,
        topic_partitions=partitions,
        web_port=free_port(),
        clickhouse_database="quotaflow_test",
        **more,
    )
    ensure_topics(AdminClient(own.confluent_config()), topic_specs(app_id, partitions))
    return own


@pytest.fixture(scope="session")
def settings(
    broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    # Snapshots often enough that the suite's streams take them as they go.
    return settings_on(broker, tmp_path_factory.mktemp("worker"), "qf-it", 3,
                       snapshot_seconds=5)  # fmt: skip


@pytest.fixture(scope="session")
def worker(settings: Settings, store: Store, plan: Plan) -> Iterator[QuotaFlowApp]:
    with WorkerThread(lambda: QuotaFlowApp(settings, store, plan)) as running:
        yield running


@pytest.fixture(scope="session")
def producer(settings: Settings) -> Iterator[Producer]:
    made = Producer(settings.confluent_config())
    yield made
    made.flush(10)
    made.close()


def app_env(
    broker: BrokerProcess, app_id: str, partitions: int, data_dir: Path, **more: str
) -> dict[str, str]:
    """The environment of a ``quotaflow`` subprocess running app ``app_id`` on
    ``broker`` (its topics created here) with its data in ``data_dir``; ``more``
    adds settings by their names without the prefix (``batch_size="200"``)."""
    ensure_topics(
        AdminClient({"bootstrap.servers": broker.bootstrap_servers}),
        topic_specs(app_id, partitions),
    )
    return {
        **os.environ,
        "QUOTAFLOW_BROKER_MODE": "external",
        "QUOTAFLOW_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "QUOTAFLOW_DATA_DIR": str(data_dir),
        "QUOTAFLOW_APP_ID": app_id,
        "QUOTAFLOW_TOPIC_PARTITIONS": str(partitions),
        **{f"QUOTAFLOW_{name.upper()}": value for name, value in more.items()},
    }


def send(producer: Producer, topic: str, key: bytes, value: bytes) -> None:
    producer.produce(topic, key=key, value=value)
    producer.flush(10)


def read_topic(settings: Settings, topic: str, timeout: float = 10) -> list[Any]:
    """Every message on ``topic`` from the beginning, read with a throwaway group."""
    consumer = Consumer(
        {
            **settings.confluent_config(),
            "group.id": f"reader-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    idle_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = consumer.consume(500, timeout=0.5)
            real = [m for m in batch if m.error() is None]
            messages.extend(real)
            if real:
                idle_since = time.monotonic()
            elif messages and time.monotonic() - idle_since > 1.5:
                break
    finally:
        consumer.close()
    return messages


def earned(store: Store, rep: str, kind: str = "earned") -> Decimal:
    """The sum of the rep's ledger lines of ``kind`` in ClickHouse (0 before any)."""
    rows = store.rows(
        "SELECT sum(amount) FROM ledger_lines FINAL "
        "WHERE rep_id = {rep:String} AND kind = {kind:String}",
        {"rep": rep, "kind": kind},
    )
    return Decimal(rows[0][0])


def fetch(port: int, path: str, token: str | None = None) -> bytes:
    """A page of the worker listening on ``port``, asked with ``token``."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as page:  # noqa: S310 - loopback
        return bytes(page.read())


def get_json(settings: Settings, path: str, token: str | None = None) -> Any:
    """A JSON page of the session's worker (``path`` starts with ``/``), asked with
    ``token`` or else the admin token the settings fixture issued."""
    return json.loads(fetch(settings.web_port, path, token or admin_of(settings)))


def admin_of(settings: Settings) -> str:
    """The admin token of a worker's data dir (issued on first use)."""
    return admin_token(settings).read_text().strip()


def metrics_text(settings: Settings) -> str:
    """The worker's /metrics page."""
    return fetch(settings.web_port, "/metrics").decode()


def sample(text: str, series: str) -> float:
    """The value of ``series`` (name and labels) in a /metrics page; 0 before any."""
    for line in text.splitlines():
        if line.startswith(series):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def partition_rebuilds(settings: Settings) -> float:
    """How many partitions' state the worker has rebuilt (one per share it took)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text(settings).splitlines()
        if line.startswith("quotaflow_partition_rebuilds_total{")
    )


def routed(settings: Settings, topic: str) -> float:
    """How many events of ``topic`` the worker has routed so far."""
    series = f'quotaflow_events_total{{outcome="routed",topic="{topic}"}}'
    return sample(metrics_text(settings), series)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# The board's browser: Debian's headless Chromium through its ChromeDriver.
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = (
    Path(os.environ.get("QUOTAFLOW_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "board"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Debian's chromium and chromium-driver are needed: see "
                    "scripts/browser.sh, which scripts/test.sh runs")  # fmt: skip
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1280,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def page_text(driver: Any, element_id: str) -> str:
    """What the board shows in an element (its rendered text)."""
    return str(
        driver.execute_script(
            "return document.getElementById(arguments[0]).innerText;", element_id
        )
    )


def wait_on_page(driver: Any, what: str, probe: Any, timeout: float = 30) -> Any:
    """Poll the page with ``probe`` until it answers; fail naming ``what``."""
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        probe, message=what
    )
