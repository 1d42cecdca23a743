"""SPEC §9, new customer, through the stream: two reps in different partitions sell
to one customer, both deals flagged new by the CRM; the later deal arrives first.
The earlier one takes the uplift from it, as ``simulate`` says, and cancelling the
earlier one gives it back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from domain.plan import Plan
from domain.replay import replay
from projections.store import Store
from streams.infra.settings import Settings
from streams.infra.topics import DEALS
from streams.state.routing import owner_partition
from streams.worker.app import QuotaFlowApp
from tests.factories import deal_event, envelope
from tests.integration.conftest import earned, send, unique, wait_for

pytestmark = pytest.mark.integration
YEAR = "2037"  # no other test sells in 2037


def _apart(settings: Settings) -> tuple[str, str]:
    """Two rep ids whose worlds live in different partitions of the rep topic."""
    first = unique("R")
    while True:
        second = unique("R")
        partitions = settings.topic_partitions
        if owner_partition(first, partitions) != owner_partition(second, partitions):
            return first, second


def _deal(rep: str, customer: str, day: int) -> dict[str, Any]:
    return deal_event(
        event_id=unique("e"), deal_id=unique("D"), rep_id=rep, amount="100000.00",
        margin="0.00", new_customer=True, customer_id=customer,
        occurred_at=f"{YEAR}-03-{day:02d}T10:00:00+08:00",
        payment_due_at=f"{YEAR}-06-30T00:00:00+08:00",
        splits=[{"rep_id": rep, "share": "1"}],
    )  # fmt: skip


def test_the_earlier_deal_takes_the_uplift_across_partitions(
    worker: QuotaFlowApp,
    producer: Producer,
    store: Store,
    settings: Settings,
    plan: Plan,
) -> None:
    later_rep, earlier_rep = _apart(settings)
    customer = unique("C")
    later, earlier = _deal(later_rep, customer, 20), _deal(earlier_rep, customer, 10)
    cancel = envelope("DealCancelled", unique("x"), f"{YEAR}-03-25T00:00:00+08:00",
                      deal_id=earlier["deal_id"], reason="lost")  # fmt: skip
    sent: list[dict[str, Any]] = []
    # 100,000 in the 3% band: 4,500 with the new-customer uplift, 3,000 without.
    for event, figures in (
        (later, {later_rep: "4500.00", earlier_rep: "0"}),
        (earlier, {later_rep: "3000.00", earlier_rep: "4500.00"}),
        (cancel, {later_rep: "4500.00", earlier_rep: "0.00"}),
    ):
        sent.append(event)
        world = replay([plan], [orjson.dumps(e) for e in sent]).world
        simulated = {rep: world.reps[rep].total("earned") if rep in world.reps
                     else Decimal(0) for rep in figures}  # fmt: skip
        assert simulated == {rep: Decimal(v) for rep, v in figures.items()}
        send(producer, DEALS, event["deal_id"].encode(), orjson.dumps(event))
        wait_for(
            lambda want=simulated: all(
                earned(store, rep) == value for rep, value in want.items()
            ),
            60,
            f"earned after {event['event_type']} to equal simulate's",
        )
