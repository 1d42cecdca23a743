"""`quotaflow dlq list` shows what was set aside; `quotaflow dlq replay` sends it back
after a fix, and the fold books it once."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer

from projections.store import Store
from streams.infra.settings import Settings
from streams.infra.topics import DEALS
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event, envelope
from tests.integration.conftest import earned, get_json, send, unique, wait_for

pytestmark = pytest.mark.integration
QUOTAFLOW = str(Path(sys.executable).parent / "quotaflow")


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QUOTAFLOW_BOOTSTRAP_SERVERS": settings.bootstrap_servers}
    return subprocess.run(
        [QUOTAFLOW, "dlq", *args], capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )  # fmt: skip


def test_an_amendment_sent_before_its_deal_is_set_aside_and_replayed_after(
    worker: QuotaFlowApp, producer: Producer, store: Store, settings: Settings
) -> None:
    rep, deal = unique("R"), unique("D")
    splits = [{"rep_id": rep, "share": "1"}]
    amendment = envelope(
        "DealAmended", unique("am"), "2026-03-20T00:00:00+08:00", deal_id=deal,
        amount="200000.00", margin="0.00", currency="CNY", splits=splits,
    )  # fmt: skip
    send(producer, DEALS, deal.encode(), orjson.dumps(amendment))

    def listed() -> str | None:
        out = _cli(settings, "list", "--reason", "unknown_deal").stdout
        return out if amendment["event_id"] in out or deal in out else None

    listing = wait_for(listed, 60, "the amendment in `dlq list`", 1)
    (row,) = [line for line in listing.splitlines() if deal in line]
    offset = row.split()[0]
    assert "unknown_deal" in row
    assert "deals/" in row

    closing = deal_event(
        event_id=unique("e"), deal_id=deal, rep_id=rep, amount="100000.00",
        margin="0.00", new_customer=False, splits=splits,
    )  # fmt: skip
    send(producer, DEALS, deal.encode(), orjson.dumps(closing))
    wait_for(lambda: earned(store, rep) == Decimal("3000.00"), 60, "the deal booked")

    refused = _cli(settings, "replay")
    assert refused.returncode == 2
    assert "--reason CODE, --offset N or --all" in refused.stderr
    replayed = _cli(settings, "replay", "--offset", offset)
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 1 dead letter(s)" in replayed.stdout
    # 200,000 at 3% once the amendment applies.
    wait_for(lambda: earned(store, rep) == Decimal("6000.00"), 60, "the amendment")
    # Replayed again, it is the same event (same id): the deal's later amendment, on
    # the same partition behind it, is what the totals show.
    assert _cli(settings, "replay", "--offset", offset).returncode == 0
    later = {**amendment, "event_id": unique("am"), "amount": "300000.00"}
    send(producer, DEALS, deal.encode(), orjson.dumps(later))
    wait_for(lambda: earned(store, rep) == Decimal("9000.00"), 60, "the later one")


def test_the_board_lists_what_was_set_aside_with_its_reason_and_origin(
    worker: QuotaFlowApp, producer: Producer, settings: Settings
) -> None:
    key = unique("bad")
    garbage = b'{"event_type": "DealClosed", "deal_id": '  # cut short
    send(producer, DEALS, key.encode(), garbage)

    def listed() -> list[dict[str, str]]:
        rows = get_json(settings, "/api/dead-letters?reason=undecodable")
        return [row for row in rows if row["event_key"] == key]

    (row,) = wait_for(listed, 60, "the dead letter on the board")
    assert row["source_topic"] == DEALS
    assert row["reason"] == "undecodable"
    assert row["event_preview"] == garbage.decode()
    assert row["detail"]
    # Another reason's list does not show it.
    assert all(
        r["event_key"] != key
        for r in get_json(settings, "/api/dead-letters?reason=unknown_deal")
    )
