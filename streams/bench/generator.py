"""A seeded generator of realistic sample deals (and, at a chosen rate, malformed ones).

Reps sit in teams inside regions; customers are new the first time they buy and
returning afterwards; deal sizes follow a long-tailed distribution, as real order books
do. The same seed always gives the same events.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import islice
from typing import Any

import orjson
from confluent_kafka import Producer

from streams.infra.topics import DEALS, PAYMENTS, SATISFACTION

log = logging.getLogger(__name__)

REGIONS = ("east", "north", "south", "west")
PRODUCT_LINES = ("cloud", "security", "analytics", "hardware", "ai-suite")
CHINA = timezone(timedelta(hours=8))
SHARED_DEAL_SHARE = 0.15  # deals split between two reps of one team
KEY_ACCOUNT_SHARE = 0.1


@dataclass(frozen=True)
class Rep:
    rep_id: str
    team_id: str
    region: str


@dataclass
class SampleWorld:
    seed: int = 7
    # Prepended to rep, deal and event ids, so runs can share a broker without mixing.
    prefix: str = ""
    teams_per_region: int = 2
    reps_per_team: int = 5
    customers: int = 400
    start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=CHINA)
    reps: list[Rep] = field(init=False)
    _random: random.Random = field(init=False)
    _buyers: set[str] = field(init=False, default_factory=set)
    _count: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - sample data, not secrets
        self.reps = [
            Rep(
                f"{self.prefix}R-{region[0].upper()}{team}{member:02d}",
                f"T-{region}-{team}",
                region,
            )
            for region in REGIONS
            for team in range(1, self.teams_per_region + 1)
            for member in range(1, self.reps_per_team + 1)
        ]

    def _amount(self) -> Decimal:
        # Long tail: most deals 10k-150k, a few large ones near a million.
        value = min(max(self._random.lognormvariate(11.0, 0.9), 5_000), 2_000_000)
        return Decimal(round(value, -2)).quantize(Decimal("0.01"))

    def deal(self) -> dict[str, Any]:
        self._count += 1
        n = self._count
        rnd = self._random
        owner = rnd.choice(self.reps)
        customer = f"{self.prefix}C-{rnd.randrange(self.customers):04d}"
        new_customer = customer not in self._buyers
        self._buyers.add(customer)
        amount = self._amount()
        closed = self.start + timedelta(minutes=37 * n)
        splits = [{"rep_id": owner.rep_id, "share": "1"}]
        if rnd.random() < SHARED_DEAL_SHARE:
            mates = [r for r in self.reps if r.team_id == owner.team_id and r != owner]
            splits = [
                {"rep_id": owner.rep_id, "share": "0.6"},
                {"rep_id": rnd.choice(mates).rep_id, "share": "0.4"},
            ]
        margin = (amount * Decimal(rnd.randint(18, 45)) / 100).quantize(Decimal("0.01"))
        return {
            "event_id": f"{self.prefix}gen-{self.seed}-{n}",
            "event_type": "DealClosed",
            "schema_version": 1,
            "occurred_at": closed.isoformat(),
            "source": "crm",
            "deal_id": f"{self.prefix}D-{self.seed}-{n:07d}",
            "rep_id": owner.rep_id,
            "customer_id": customer,
            "new_customer": new_customer,
            "key_account": rnd.random() < KEY_ACCOUNT_SHARE,
            "product_line": rnd.choice(PRODUCT_LINES),
            "region": owner.region,
            "amount": str(amount),
            "margin": str(margin),
            "currency": "CNY",
            "payment_due_at": (closed + timedelta(days=30)).isoformat(),
            "splits": splits,
        }

    def messages(self, bad_rate: float = 0.0) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs for the ``deals`` topic, forever."""
        while True:
            event = self.deal()
            key = event["deal_id"].encode()
            if self._random.random() < bad_rate:
                yield key, self._malformed(event)
            else:
                yield key, orjson.dumps(event)

    def _malformed(self, event: dict[str, Any]) -> bytes:
        kind = self._random.randrange(3)
        if kind == 0:
            return b'{"event_type": "DealClosed", "truncated'
        if kind == 1:
            return orjson.dumps({**event, "amount": float(event["amount"])})
        return orjson.dumps({k: v for k, v in event.items() if k != "rep_id"})


Message = tuple[str, bytes, bytes]  # topic, key, value
PAID_SHARE, SURVEYED_SHARE, AMENDED_SHARE, CANCELLED_SHARE = 0.6, 0.3, 0.03, 0.02


def sample_events(count: int, seed: int = 11, prefix: str = "") -> list[Message]:
    """A realistic stream of ``count`` events on their topics: deals, then for some
    of them payments, satisfaction scores, amendments and cancellations."""
    world = SampleWorld(seed=seed, prefix=prefix)
    rnd = random.Random(seed)  # noqa: S311 - sample data
    out: list[Message] = []
    while len(out) < count:
        deal = world.deal()
        key = deal["deal_id"].encode()
        out.append((DEALS, key, orjson.dumps(deal)))
        out.extend((topic, key, value) for topic, value in _follow_ups(deal, rnd))
    return out[:count]


def _follow_ups(
    deal: dict[str, Any], rnd: random.Random
) -> Iterator[tuple[str, bytes]]:
    closed = datetime.fromisoformat(deal["occurred_at"])
    amount = Decimal(deal["amount"])
    base = {"schema_version": 1, "deal_id": deal["deal_id"]}
    ids = deal["event_id"]
    if rnd.random() < AMENDED_SHARE:
        amount = (amount * Decimal(rnd.choice((80, 90, 110, 125))) / 100).quantize(
            Decimal("0.01")
        )
        yield DEALS, orjson.dumps({
            **base, "event_id": f"amd-{ids}", "event_type": "DealAmended",
            "occurred_at": (closed + timedelta(days=3)).isoformat(), "source": "crm",
            "amount": str(amount), "margin": "0.00", "currency": "CNY",
            "splits": deal["splits"],
        })  # fmt: skip
    if rnd.random() < PAID_SHARE:
        yield PAYMENTS, orjson.dumps({
            **base, "event_id": f"pay-{ids}", "event_type": "PaymentReceived",
            "occurred_at": (closed + timedelta(days=rnd.randint(1, 90))).isoformat(),
            "source": "erp", "payment_id": f"P-{deal['deal_id']}",
            "amount": str((amount * Decimal(rnd.choice((50, 100))) / 100).quantize(
                Decimal("0.01"))), "currency": "CNY",
        })  # fmt: skip
    if rnd.random() < SURVEYED_SHARE:
        yield SATISFACTION, orjson.dumps({
            **base, "event_id": f"svy-{ids}", "event_type": "SatisfactionRecorded",
            "occurred_at": (closed + timedelta(days=20)).isoformat(),
            "source": "survey",
            "customer_id": deal["customer_id"], "score": str(rnd.randint(70, 100)),
        })  # fmt: skip
    if rnd.random() < CANCELLED_SHARE:
        yield DEALS, orjson.dumps({
            **base, "event_id": f"cxl-{ids}", "event_type": "DealCancelled",
            "occurred_at": (closed + timedelta(days=45)).isoformat(), "source": "crm",
            "reason": "customer withdrew",
        })  # fmt: skip


def produce(
    producer: Producer,
    world: SampleWorld,
    *,
    count: int | None,
    rate: float | None,
    bad_rate: float = 0.0,
    stop: threading.Event | None = None,
    skip: int = 0,
) -> int:
    """Send sample deals (``count`` or until ``stop``), paced at ``rate`` per second.

    ``skip`` fast-forwards past deals an earlier run already sent, so a restarted
    demo goes on with new deals instead of repeating old ones.
    """
    sent = 0
    started = time.monotonic()
    for key, value in islice(world.messages(bad_rate), skip, None):
        if (count is not None and sent >= count) or (
            stop is not None and stop.is_set()
        ):
            break
        producer.produce(DEALS, key=key, value=value)
        producer.poll(0)
        sent += 1
        if rate:
            delay = started + sent / rate - time.monotonic()
            if delay > 0 and stop is not None:
                stop.wait(delay)
            elif delay > 0:
                time.sleep(delay)
    # On a stop request the broker may be about to go: don't hang on it for long.
    producer.flush(5 if stop is not None and stop.is_set() else 30)
    return sent


def produce_one(producer: Producer, topic: str, key: bytes, value: bytes) -> None:
    """Produce one message, waiting while the producer's queue is full."""
    while True:
        try:
            producer.produce(topic, key=key, value=value)
            return
        except BufferError:
            producer.poll(0.1)
