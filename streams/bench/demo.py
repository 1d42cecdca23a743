"""The sample world ``quotaflow run`` sends: a sales year of a whole organisation
(``streams.bench.year``: hires with team leads, the target tree, deals with their
payments, scores, amendments and cancellations, activities, a close per month,
quarter and year), and after each month's close its payout cycle: every rep's
statement approved by their team lead, one rep's question on a line and its
answer, then finance's lock. So every panel of the board and every role has
something true to show.

The payout steps ride other topics than the close, and Kafka orders one partition
only, so each goes out some messages after the one it follows (``_LAG``): at the
demo's rate, seconds later, as people act after a close.
"""

from __future__ import annotations

import heapq
import random
import re
import threading
import time
from collections.abc import Iterator
from itertools import islice
from typing import Any

import orjson
from confluent_kafka import Producer

from streams.bench.generator import Message, produce_one
from streams.bench.year import BenchYear
from streams.infra.topics import ACTIVITIES, CONTROL, DEALS

# Messages between a close and its approvals, the question, its answer, the lock.
_LAG = {"approve": 100, "ask": 150, "answer": 250, "lock": 400}


def demo_messages(
    events: int, reps: int, seed: int = 7, bad_rate: float = 0.0
) -> Iterator[Message]:
    """The year's messages in the order they are sent, ``bad_rate`` of the deals
    replaced by malformed ones (they go to the dead letters)."""
    year = BenchYear(events, reps, seed)
    leads = _leads(year)
    rnd = random.Random(seed)  # noqa: S311 - sample data
    waiting: list[tuple[int, int, Message]] = []
    for sent, message in enumerate(year.messages()):
        while waiting and waiting[0][0] <= sent:
            yield heapq.heappop(waiting)[2]
        topic, key, value = message
        if topic == DEALS and rnd.random() < bad_rate:
            yield topic, key, value[: len(value) // 2]  # cut short: undecodable
            continue
        yield message
        if topic == CONTROL:
            closed = orjson.loads(value)
            if re.fullmatch(r"\d{4}-\d{2}", closed["period"]):  # a month
                for due, step in _payout_steps(closed, leads, rnd):
                    heapq.heappush(waiting, (sent + due, len(waiting) + sent, step))
    while waiting:
        yield heapq.heappop(waiting)[2]


def _leads(year: BenchYear) -> dict[str, str]:
    """Each rep's team lead: the first rep of the team (``BenchYear`` hires them
    as ``team_lead``)."""
    first: dict[str, str] = {}
    for rep in year.team_of:
        first.setdefault(rep.team_id, rep.rep_id)
    return {rep.rep_id: first[rep.team_id] for rep in year.team_of}


def _payout_steps(
    closed: dict[str, Any], leads: dict[str, str], rnd: random.Random
) -> Iterator[tuple[int, Message]]:
    month, at = closed["period"], closed["occurred_at"]

    def event(kind: str, n: str, **fields: Any) -> bytes:
        event_id = f"demo-{kind}-{month}-{n}"
        envelope = {"event_id": event_id, "event_type": kind, "schema_version": 1,
                    "occurred_at": at, "source": "demo"}  # fmt: skip
        return orjson.dumps({**envelope, **fields})

    for rep, lead in leads.items():
        approval = event("StatementApproved", rep, rep_id=rep, period=month,
                         approved_by=lead)  # fmt: skip
        yield _LAG["approve"], (ACTIVITIES, rep.encode(), approval)
    asker = rnd.choice(sorted(leads))
    inquiry = f"INQ-{month}-{asker}"
    question = event("InquiryRaised", asker, inquiry_id=inquiry, rep_id=asker,
                     line_id=f"{month} statement",
                     question="Is my payment-speed premium on this month?")  # fmt: skip
    yield _LAG["ask"], (ACTIVITIES, asker.encode(), question)
    answer = event("InquiryAnswered", asker, inquiry_id=inquiry, rep_id=asker,
                   answered_by=leads[asker],
                   answer="Yes: every payment within 30 days of its close and by "
                          "its due date releases x1.10.")  # fmt: skip
    yield _LAG["answer"], (ACTIVITIES, asker.encode(), answer)
    lock = event("PeriodLocked", "finance", period=month, locked_by="finance")
    yield _LAG["lock"], (CONTROL, month.encode(), lock)


def send_paced(
    producer: Producer,
    messages: Iterator[Message],
    *,
    rate: float,
    stop: threading.Event,
    skip: int = 0,
) -> int:
    """Send ``messages`` at ``rate`` a second until they end or ``stop`` is set,
    after skipping the ``skip`` an earlier run already sent (a restarted demo goes
    on where it was); how many were sent."""
    sent, started = 0, time.monotonic()
    for topic, key, value in islice(messages, skip, None):
        if stop.is_set():
            break
        produce_one(producer, topic, key, value)
        producer.poll(0)
        sent += 1
        delay = started + sent / rate - time.monotonic() if rate > 0 else 0
        if delay > 0:
            stop.wait(delay)
    # On a stop request the broker may be about to go: don't hang on it for long.
    producer.flush(5 if stop.is_set() else 30)
    return sent
