"""New customer on the stream's partitions: each deal's ``CustomerSeen`` reaches
every partition, whose company facts judge the customer's deals alike, and the
partition prices again its reps' deals whose judgement changed. Whatever the order
the partition receives the messages in, the totals are ``simulate``'s."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from domain.plan import Plan
from domain.replay import replay
from streams.state.partitions import RepPartition
from streams.state.routing import BROADCAST, SEEN, Forward, Origin
from tests.factories import deal_event, envelope

D = Decimal


def _deal(n: int, day: int, rep: str) -> bytes:
    return orjson.dumps(deal_event(
        event_id=f"e-{n}", deal_id=f"D-{n}", rep_id=rep, amount="100000.00",
        margin="0", new_customer=True, customer_id="C-88",
        occurred_at=f"2026-03-{day:02d}T10:00:00+08:00",
        payment_due_at="2026-06-30T00:00:00+08:00",
        splits=[{"rep_id": rep, "share": "1"}],
    ))  # fmt: skip


def _cancel(n: int) -> bytes:
    return orjson.dumps(envelope("DealCancelled", f"x-{n}", "2026-03-25T00:00:00+08:00",
                                 deal_id=f"D-{n}"))  # fmt: skip


class Stream:
    """One partition that owns every rep, fed forwards as the worker would."""

    def __init__(self, plan: Plan) -> None:
        self.partition = RepPartition.starting((plan,), 0, 1)
        self.earned: dict[str, Decimal] = {}
        self.offset = 0
        self.seen: list[bytes] = []  # CustomerSeen sent, not yet delivered

    def send(self, rep: str, value: bytes) -> None:
        self.offset += 1
        origin = Origin("rep", 0, self.offset, 0.0, b"")
        applied = self.partition.apply(Forward(rep, value, origin, True), None,
                                       self.offset)  # fmt: skip
        for line in applied.lines:
            if line.kind == "earned":
                self.earned[line.rep_id] = self.earned.get(line.rep_id, D(0)) + (
                    line.amount
                )
        if applied.customer is not None:
            self.seen.append(applied.customer)

    def deliver(self) -> None:
        while self.seen:
            self.send(BROADCAST, self.seen.pop(0))

    def deliver_together(self) -> None:
        """The pending ``CustomerSeen`` events in one message, as the worker sends
        a batch's; those their folding makes wait for the next."""
        pending, self.seen = self.seen, []
        if pending:
            self.send(SEEN, orjson.dumps([value.decode() for value in pending]))


def _simulated(plan: Plan, values: list[bytes]) -> dict[str, Decimal]:
    world = replay([plan], values).world
    return {rep_id: rep.total("earned") for rep_id, rep in world.reps.items()}


def test_a_later_deal_first_then_the_earlier_one_from_another_rep(
    reference_plan: Plan,
) -> None:
    stream = Stream(reference_plan)
    stream.send("R-1", _deal(2, 20, "R-1"))
    stream.deliver()
    stream.send("R-2", _deal(1, 10, "R-2"))
    stream.deliver()
    assert stream.earned == _simulated(
        reference_plan, [_deal(2, 20, "R-1"), _deal(1, 10, "R-2")]
    )
    assert stream.earned == {"R-1": D("3000.00"), "R-2": D("4500.00")}


def test_customer_seen_before_the_deal_itself_prices_it_as_judged(
    reference_plan: Plan,
) -> None:
    """R-1 has a deal of another customer already; the CustomerSeen of its new
    deal D-2 arrives before D-2 does (a split deal's other partition can see it
    so), after the earlier D-1 made D-2 no longer new."""
    stream = Stream(reference_plan)
    other = orjson.loads(_deal(9, 1, "R-1"))
    other["customer_id"] = "C-7"
    stream.send("R-1", orjson.dumps(other))
    stream.deliver()
    stream.send("R-2", _deal(1, 10, "R-2"))
    stream.deliver()
    early = Stream(reference_plan)  # where D-2's CustomerSeen comes from
    early.send("R-1", _deal(2, 20, "R-1"))
    (customer,) = early.seen
    stream.send(BROADCAST, customer)
    stream.send("R-1", _deal(2, 20, "R-1"))
    stream.deliver()
    assert stream.earned["R-1"] == D("4500.00") + D("3000.00")  # C-7 new, D-2 not


def test_a_cancellation_moves_the_uplift_to_the_next_deal(reference_plan: Plan) -> None:
    stream = Stream(reference_plan)
    for n, day, rep in ((1, 10, "R-1"), (2, 20, "R-2")):
        stream.send(rep, _deal(n, day, rep))
        stream.deliver()
    stream.send("R-1", _cancel(1))
    stream.send("R-1", _cancel(1))  # sent twice: the second changes nothing
    stream.deliver()
    assert stream.earned == {"R-1": D(0), "R-2": D("4500.00")}
    history = stream.partition.base.customers["C-88"]
    assert [(b.deal_id, b.new, b.cancelled) for b in history] == [
        ("D-1", False, True),
        ("D-2", True, False),
    ]


def test_customer_seen_again_changes_nothing_and_leaves_no_digest(
    reference_plan: Plan,
) -> None:
    stream = Stream(reference_plan)
    for n, day, rep in ((2, 20, "R-2"), (1, 10, "R-1")):
        stream.send(rep, _deal(n, day, rep))
    news = list(stream.seen)
    stream.deliver()
    base, earned = stream.partition.base, dict(stream.earned)
    # One comes for every deal to every partition: the base keeps none of them ...
    assert len(base.seen) == 0
    for value in news:  # ... and each, sent again, is a merge that changes nothing.
        stream.send(BROADCAST, value)
    assert stream.partition.base.customers == base.customers
    assert stream.earned == earned == {"R-1": D("4500.00"), "R-2": D("3000.00")}


def test_a_batchs_customer_events_in_one_message_fold_as_one_by_one(
    reference_plan: Plan,
) -> None:
    """The worker sends a batch's CustomerSeen events together: the later deal of
    R-1 comes first, then R-2's earlier one and R-3's cancelled one, all delivered
    in one message; the totals and the customer's history are simulate's."""
    deals = [(2, 20, "R-1"), (1, 10, "R-2"), (3, 5, "R-3")]
    apart, together = Stream(reference_plan), Stream(reference_plan)
    for stream in (apart, together):
        for n, day, rep in deals:
            stream.send(rep, _deal(n, day, rep))
        stream.send("R-3", _cancel(3))
    apart.deliver()
    together.deliver_together()
    values = [_deal(n, day, rep) for n, day, rep in deals] + [_cancel(3)]
    assert together.earned == apart.earned == _simulated(reference_plan, values)
    assert together.earned == {"R-1": D("3000.00"), "R-2": D("4500.00"), "R-3": D(0)}
    assert together.partition.base.customers == apart.partition.base.customers
    assert len(together.partition.base.seen) == 0


def test_a_batch_of_customer_events_holds_nothing_else(reference_plan: Plan) -> None:
    stream = Stream(reference_plan)
    with pytest.raises(TypeError, match=r"not a batch of CustomerSeen: .*'DealClosed'"):
        stream.send(SEEN, orjson.dumps([_deal(1, 10, "R-1").decode()]))
    assert (
        stream.partition.base.customers
        == Stream(reference_plan).partition.base.customers
    )
