"""What the worker's web server shows, and where: loopback only unless the settings
say otherwise, none of faust's own pages, security headers on every answer."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from streams.infra.settings import Settings
from streams.worker.app import QuotaFlowApp
from tests.integration.conftest import admin_of

pytestmark = pytest.mark.integration
_LISTEN = "0A"


def _listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on ``port``, as the kernel
    lists them (IPv4 and IPv6)."""
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            fields = row.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) != port or fields[3] != _LISTEN:
                continue
            raw = bytes.fromhex(address)
            # /proc prints each 32-bit word in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, words))
    return found


def _answer(
    port: int, path: str, token: str | None = None
) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as page:  # noqa: S310
            return page.status, dict(page.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers)


def test_the_web_server_listens_on_loopback_only_by_default(
    worker: QuotaFlowApp, settings: Settings
) -> None:
    assert Settings().web_bind == "127.0.0.1"
    assert settings.web_bind == "127.0.0.1"
    assert _listening_addresses(settings.web_port) == {"127.0.0.1"}


@pytest.mark.parametrize(
    "path", ["/router/", "/table/", "/graph/", "/stats/", "/performance/"]
)
def test_fausts_own_pages_are_not_served(
    worker: QuotaFlowApp, settings: Settings, path: str
) -> None:
    status, _ = _answer(settings.web_port, path)
    assert status == 404


@pytest.mark.parametrize(
    ("path", "with_token"),
    [
        ("/board", False),
        ("/metrics", False),
        ("/health", False),
        ("/api/me", True),
        ("/api/me", False),
        ("/router/", False),
        ("/no-such-page", False),
    ],
)
def test_every_answer_carries_the_security_headers(
    worker: QuotaFlowApp, settings: Settings, path: str, with_token: bool
) -> None:
    token = admin_of(settings) if with_token else None
    _, headers = _answer(settings.web_port, path, token)
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    if path.startswith("/api/"):
        assert headers["Cache-Control"] == "no-store"


def test_board_queries_do_not_wait_behind_the_streams_writes(
    worker: QuotaFlowApp, settings: Settings
) -> None:
    """The writer's client is held (as by a long insert): the board's queries go
    through a client and a thread of their own and still answer."""
    assert worker.reader is not worker.store
    held = worker.store._lock  # what every insert takes
    assert held.acquire(timeout=10)
    try:
        started = time.monotonic()
        status, _ = _answer(settings.web_port, "/api/leaderboard", admin_of(settings))
        waited = time.monotonic() - started
    finally:
        held.release()
    assert status == 200
    assert waited < 5  # behind the writes it would wait for the lock, for good
