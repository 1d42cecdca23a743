"""A period close on ``control``: every rep partition books its reps' attainment
lines and sends its share of the facts; the awards made from all the shares (team
pool, leader coefficient, support bonus, champions ...) equal ``simulate``'s."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from confluent_kafka import Producer
from selenium.webdriver.common.by import By

from domain.ledger import LedgerLine, PayoutRecord
from domain.plan import Plan
from domain.replay import replay, summary
from domain.statements import PayLine, Statement, statements
from projections.dimensions import team_of
from projections.payout import rep_statements
from projections.store import Store
from streams.infra.embedded import BrokerProcess
from streams.infra.settings import EmbeddedBroker, Settings
from streams.infra.topics import (
    ACTIVITIES,
    CONTROL,
    DEALS,
    ORG,
    PAYMENTS,
    PLANS,
    SATISFACTION,
    TARGETS,
)
from streams.web.access import Grant, Role, issue
from streams.worker.app import QuotaFlowApp
from streams.worker.lifecycle import WorkerThread
from tests.factories import deal_event, envelope, hire_event, payment_event
from tests.integration.conftest import (
    ARTIFACTS,
    admin_of,
    earned,
    fetch,
    get_json,
    page_text,
    routed,
    send,
    settings_on,
    unique,
    wait_for,
    wait_on_page,
)

pytestmark = pytest.mark.integration
# Far from the other tests' years, so nothing else is priced by this plan.
YEAR = "2032"
AT = f"{YEAR}-01-01T00:00:00+08:00"
FULL = Path(__file__).parents[2] / "examples" / "plans" / "full.yaml"
KINDS = ("earned", "bonus", "points")


# A close is a company fact: dated in 2032, it would forfeit, as of its date, the
# unpaid deals of every later test folded by the same worker (SPEC §9). This
# module has a broker and a worker of its own.
@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess(
        EmbeddedBroker.NOIDA, tmp_path_factory.mktemp("closes-noida")
    ) as running:
        yield running


@pytest.fixture(scope="module")
def settings(
    broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return settings_on(broker, tmp_path_factory.mktemp("closes-worker"), "qf-closes", 3)


@pytest.fixture(scope="module")
def worker(settings: Settings, store: Store, plan: Plan) -> Iterator[QuotaFlowApp]:
    with WorkerThread(lambda: QuotaFlowApp(settings, store, plan)) as running:
        yield running


@pytest.fixture(scope="module")
def producer(settings: Settings) -> Iterator[Producer]:
    made = Producer(settings.confluent_config())
    yield made
    made.flush(10)


def _plan(year: str = YEAR) -> dict[str, Any]:
    """full.yaml published under a new plan id for ``year`` alone."""
    body = yaml.safe_load(FULL.read_text())
    for field in ("plan_id", "version"):
        body.pop(field)
    at = f"{year}-01-01T00:00:00+08:00"
    return envelope(
        "PlanPublished", unique("plan"), at, plan_id=unique("full"), version=1,
        effective_from=at, effective_to=f"{int(year) + 1}-01-01T00:00:00+08:00",
        plan=body,
    )  # fmt: skip


def _quota(node: str, level: str, parent: str | None, amount: str) -> dict[str, Any]:
    return envelope("QuotaAssigned", unique("q"), AT, node_id=node, level=level,
                    parent_id=parent, period=f"{YEAR}-Q1", amount=amount,
                    currency="CNY")  # fmt: skip


def _hire(rep: str, team: str, role: str = "account_manager", grade: str = "P5") -> Any:
    return envelope("RepHired", unique("h"), AT, rep_id=rep, team_id=team,
                    region="east", role=role, grade=grade,
                    hired_at="2030-01-01T00:00:00+08:00")  # fmt: skip


def _deal(deal_id: str, rep: str, amount: str, day: int) -> dict[str, Any]:
    return deal_event(
        event_id=unique("e"), deal_id=deal_id, rep_id=rep, amount=amount,
        margin="0.00", new_customer=False,
        occurred_at=f"{YEAR}-02-{day:02d}T09:00:00+08:00",
        payment_due_at=f"{YEAR}-12-31T00:00:00+08:00",
        splits=[{"rep_id": rep, "share": "1"}],
    )  # fmt: skip


def _score(deal_id: str, value: str) -> dict[str, Any]:
    return envelope("SatisfactionRecorded", unique("s"), f"{YEAR}-03-01T00:00:00+08:00",
                    deal_id=deal_id, customer_id="C-88", score=value)  # fmt: skip


def _booked(store: Store, reps: list[str]) -> dict[str, dict[str, Decimal]]:
    return {rep: {kind: earned(store, rep, kind) for kind in KINDS} for rep in reps}


def _simulated(plan: Plan, events: list[dict[str, Any]], reps: list[str]) -> Any:
    report = summary(replay([plan], [orjson.dumps(event) for event in events]))
    figures: dict[str, dict[str, str]] = report["reps"]  # type: ignore[assignment]
    names = {"earned": "earned_commission", "bonus": "bonus", "points": "points"}
    return {
        rep: {
            kind: Decimal(figures.get(rep, {}).get(names[kind], "0")) for kind in KINDS
        }
        for rep in reps
    }


def _rules(store: Store, rep: str) -> set[str]:
    rows = store.rows(
        "SELECT DISTINCT rule FROM ledger_lines FINAL WHERE rep_id = {rep:String}",
        {"rep": rep},
    )
    return {rule for (rule,) in rows}


def _wait_routed(settings: Settings, topic: str, before: float, count: int) -> None:
    wait_for(lambda: routed(settings, topic) >= before + count, 60, f"{topic} routed")


def test_a_quarter_close_pays_the_awards_simulate_pays(
    worker: QuotaFlowApp,
    producer: Producer,
    store: Store,
    settings: Settings,
    plan: Plan,
) -> None:
    a, b, lead, support, other = (unique(name) for name in "ABLSX")
    team, team2 = unique("T"), unique("T")
    company, line, region = unique("ACME"), unique("cloud"), unique("east")
    reps = [a, b, lead, support, other]
    organisation = [
        _hire(a, team),
        _hire(b, team),
        _hire(lead, team, "team_lead", "P6"),
        _hire(support, team, "support", "S3"),
        _hire(other, team2),
    ]
    targets = [
        _quota(company, "company", None, "100000000"),
        _quota(line, "product_line", company, "100000000"),
        _quota(region, "region", line, "100000000"),
        _quota(team, "team", region, "300000"),
        *(_quota(rep, "rep", team, "100000") for rep in (a, b, lead)),
    ]
    deals = {unique("D"): (rep, amount) for rep, amount in (
        (a, "200000.00"), (b, "70000.00"), (lead, "110000.00"), (other, "90000.00"),
    )}  # fmt: skip
    sales = [
        _deal(deal_id, rep, amount, day)
        for day, (deal_id, (rep, amount)) in enumerate(deals.items(), start=1)
    ]
    first, second, *_ = deals
    scores = [_score(first, "90"), _score(second, "98")]
    closing = envelope("PeriodClosed", unique("pc"), f"{YEAR}-04-01T00:00:00+08:00",
                       period=f"{YEAR}-Q1")  # fmt: skip
    publish = _plan()
    expected = _simulated(
        plan, [publish, *organisation, *targets, *sales, *scores, closing], reps
    )
    assert expected[a]["bonus"] > 0  # the scenario pays awards
    assert expected[support]["bonus"] == Decimal("4800.00")  # mean score 94

    # Each stage is on the stream before the next is sent, as in real life: a
    # period is closed after its events, and targets come before deals.
    before = routed(settings, PLANS)
    send(producer, PLANS, publish["event_id"].encode(), orjson.dumps(publish))
    _wait_routed(settings, PLANS, before, 1)
    counts = {topic: routed(settings, topic) for topic in (ORG, TARGETS)}
    for topic, events in ((ORG, organisation), (TARGETS, targets)):
        for event in events:
            send(producer, topic, event["event_id"].encode(), orjson.dumps(event))
    for topic, events in ((ORG, organisation), (TARGETS, targets)):
        _wait_routed(settings, topic, counts[topic], len(events))
    for topic, events in ((DEALS, sales), (SATISFACTION, scores)):
        for event in events:
            send(producer, topic, event["deal_id"].encode(), orjson.dumps(event))
    wait_for(
        lambda: all(earned(store, rep) == expected[rep]["earned"] for rep in reps),
        60,
        "the deals' commission",
    )
    send(producer, CONTROL, closing["event_id"].encode(), orjson.dumps(closing))
    wait_for(
        lambda: _booked(store, reps) == expected,
        60,
        "the period's awards to equal simulate's",
    )
    assert {"base_performance_bonus", "team_pool"} <= _rules(store, a)
    assert "leader_bonus" in _rules(store, lead)
    assert "support_bonus" in _rules(store, support)

    # Closed again: nothing is paid twice.
    again = envelope("PeriodClosed", unique("pc"), f"{YEAR}-04-02T00:00:00+08:00",
                     period=f"{YEAR}-Q1")  # fmt: skip
    before = routed(settings, CONTROL)
    send(producer, CONTROL, again["event_id"].encode(), orjson.dumps(again))
    _wait_routed(settings, CONTROL, before, 1)
    assert _booked(store, reps) == expected


def _stands(store: Store, rep: str, expected: Any, attained: Decimal) -> bool:
    return _booked(store, [rep]) == expected and attained == _rule_sum(
        store, rep, "attainment_band_commission"
    )


def _rule_sum(store: Store, rep: str, rule: str) -> Decimal:
    rows = store.rows(
        "SELECT sum(amount) FROM ledger_lines FINAL "
        "WHERE rep_id = {rep:String} AND rule = {rule:String}",
        {"rep": rep, "rule": rule},
    )
    return Decimal(rows[0][0])


def test_a_closed_months_commission_follows_a_late_deal_and_a_cancellation(
    worker: QuotaFlowApp,
    producer: Producer,
    store: Store,
    settings: Settings,
    plan: Plan,
) -> None:
    """SPEC §9 on the stream: target 100,000 for March; 90,000 sold by the close
    earns 950; a 60,000 March deal arriving after the close trues it up to 2,000;
    cancelling that deal trues it back to 950. Every stage equals ``simulate``."""
    year, rep = "2033", unique("R")
    at, month = f"{year}-01-01T00:00:00+08:00", f"{year}-03"
    publish = _plan(year)
    nodes = (unique("ACME"), unique("cloud"), unique("east"), unique("T"), rep)
    targets = [
        envelope("QuotaAssigned", unique("q"), at, node_id=node, level=level,
                 parent_id=parent, period=month, amount=amount, currency="CNY")
        for node, level, parent, amount in zip(
            nodes, ("company", "product_line", "region", "team", "rep"),
            (None, *nodes[:-1]), ("1000000", "1000000", "1000000", "1000000", "100000"),
            strict=True,
        )
    ]  # fmt: skip
    first, late = unique("D"), unique("D")

    def sale(deal_id: str, amount: str, day: int) -> dict[str, Any]:
        return deal_event(
            event_id=unique("e"), deal_id=deal_id, rep_id=rep, amount=amount,
            margin="0.00", new_customer=False,
            occurred_at=f"{month}-{day:02d}T09:00:00+08:00",
            payment_due_at=f"{year}-12-31T00:00:00+08:00",
            splits=[{"rep_id": rep, "share": "1"}],
        )  # fmt: skip

    closing = envelope("PeriodClosed", unique("pc"), f"{year}-04-01T00:00:00+08:00",
                       period=month)  # fmt: skip
    cancel = envelope("DealCancelled", unique("x"), f"{year}-04-07T00:00:00+08:00",
                      deal_id=late, reason="customer withdrew")  # fmt: skip
    stages: list[tuple[str, dict[str, Any], str]] = [
        (DEALS, sale(first, "90000.00", 3), first),
        (CONTROL, closing, closing["event_id"]),
        (DEALS, sale(late, "60000.00", 20), late),
        (DEALS, cancel, late),
    ]
    before = routed(settings, PLANS)
    send(producer, PLANS, publish["event_id"].encode(), orjson.dumps(publish))
    _wait_routed(settings, PLANS, before, 1)
    before = routed(settings, TARGETS)
    for event in targets:
        send(producer, TARGETS, event["event_id"].encode(), orjson.dumps(event))
    _wait_routed(settings, TARGETS, before, len(targets))
    sent: list[dict[str, Any]] = [publish, *targets]
    for (topic, event, key), attained in zip(
        stages, ("0", "950.00", "2000.00", "950.00"), strict=True
    ):
        sent.append(event)
        expected = _simulated(plan, sent, [rep])
        send(producer, topic, key.encode(), orjson.dumps(event))
        wait_for(
            partial(_stands, store, rep, expected, Decimal(attained)),
            60,
            f"{event['event_type']}: {attained} of attainment commission, as simulate",
        )
    trued = store.rows(
        "SELECT formula FROM ledger_lines FINAL WHERE rep_id = {rep:String} "
        "AND rule = 'attainment_band_commission' AND position(formula, 'true-up') > 0",
        {"rep": rep},
    )
    assert any("true-up after DealCancelled" in formula for (formula,) in trued)


def test_a_late_cancellation_and_proposal_true_up_the_quarters_awards(
    worker: QuotaFlowApp,
    producer: Producer,
    store: Store,
    settings: Settings,
    plan: Plan,
) -> None:
    """SPEC §9 on the stream: after the quarter's awards are made from every
    partition's share, a cancelled deal of the quarter and a proposal dated in it
    send new shares, and the awards are made again: each stage equals simulate. The
    proposal comes unapproved, then approved (the innovation award follows)."""
    year = "2036"
    at, quarter = f"{year}-01-01T00:00:00+08:00", f"{year}-Q1"
    publish = _plan(year)
    a, b, lead = unique("A"), unique("B"), unique("L")
    team, company, line, region = unique("T"), unique("C"), unique("P"), unique("E")
    organisation = [
        envelope("RepHired", unique("h"), at, rep_id=rep, team_id=team,
                 region="east", role=role, grade=grade,
                 hired_at="2030-01-01T00:00:00+08:00")
        for rep, role, grade in ((a, "account_manager", "P5"),
                                 (b, "account_manager", "P5"),
                                 (lead, "team_lead", "P6"))
    ]  # fmt: skip
    chain = [(company, "company", None, "100000000"),
             (line, "product_line", company, "100000000"),
             (region, "region", line, "100000000"), (team, "team", region, "300000"),
             *((rep, "rep", team, "100000") for rep in (a, b, lead))]  # fmt: skip
    targets = [
        envelope("QuotaAssigned", unique("q"), at, node_id=node, level=level,
                 parent_id=parent, period=quarter, amount=amount, currency="CNY")
        for node, level, parent, amount in chain
    ]  # fmt: skip
    sales = [
        deal_event(
            event_id=unique("e"), deal_id=unique("D"), rep_id=rep, amount=amount,
            margin="0.00", new_customer=False,
            occurred_at=f"{year}-02-{day:02d}T09:00:00+08:00",
            payment_due_at=f"{year}-12-31T00:00:00+08:00",
            splits=[{"rep_id": rep, "share": "1"}],
        )
        for day, (rep, amount) in enumerate(
            ((a, "200000.00"), (b, "70000.00"), (lead, "110000.00")), start=1)
    ]  # fmt: skip
    closing = envelope("PeriodClosed", unique("pc"), f"{year}-04-01T00:00:00+08:00",
                       period=quarter)  # fmt: skip
    cancel = envelope("DealCancelled", unique("x"), f"{year}-04-10T00:00:00+08:00",
                      deal_id=sales[0]["deal_id"], reason="lost")  # fmt: skip
    adoption = envelope("ProposalAdopted", unique("pa"),
                        f"{year}-04-12T00:00:00+08:00", proposal_id=unique("P"),
                        rep_id=b, period=quarter, measured_uplift="200000")  # fmt: skip
    # The approval: the same proposal sent again, with its approver, days later.
    proposal = {**adoption, "event_id": unique("pa"), "approved_by": "CFO",
                "occurred_at": f"{year}-04-15T00:00:00+08:00"}  # fmt: skip
    reps = [a, b, lead]
    before = routed(settings, PLANS)
    send(producer, PLANS, publish["event_id"].encode(), orjson.dumps(publish))
    _wait_routed(settings, PLANS, before, 1)
    counts = {topic: routed(settings, topic) for topic in (ORG, TARGETS)}
    for topic, events in ((ORG, organisation), (TARGETS, targets)):
        for event in events:
            send(producer, topic, event["event_id"].encode(), orjson.dumps(event))
    for topic, events in ((ORG, organisation), (TARGETS, targets)):
        _wait_routed(settings, topic, counts[topic], len(events))
    sent: list[dict[str, Any]] = [publish, *organisation, *targets, *sales]
    for event in sales:
        send(producer, DEALS, event["deal_id"].encode(), orjson.dumps(event))
    expected = _simulated(plan, sent, reps)
    wait_for(lambda: _booked(store, reps) == expected, 60, "the deals' commission")
    for topic, event, key in (
        (CONTROL, closing, closing["event_id"]),
        (DEALS, cancel, cancel["deal_id"]),
        (ACTIVITIES, adoption, b),
        (ACTIVITIES, proposal, b),
    ):
        sent.append(event)
        awaiting = expected
        expected = _simulated(plan, sent, reps)
        send(producer, topic, key.encode(), orjson.dumps(event))
        wait_for(
            partial(lambda want: _booked(store, reps) == want, expected),
            60,
            f"the awards after {event['event_type']} to equal simulate's",
        )
    # The innovation award came with the approval, not with the adoption.
    assert expected[b]["bonus"] - awaiting[b]["bonus"] == Decimal("10000.00")
    assert "team_pool" in _rules(store, lead)


def _statements(
    lines: Iterable[LedgerLine], records: Iterable[PayoutRecord], rep: str
) -> list[tuple[Any, ...]]:
    """What a statement says, from the domain's lines and records."""
    found = statements(rep, [PayLine.of(ln) for ln in lines if ln.rep_id == rep],
                       records)  # fmt: skip
    return [_said(s) for s in found]


def _said(s: Statement) -> tuple[Any, ...]:
    sums = tuple(sorted((k, v) for k, v in s.sums.items() if v))
    steps = tuple((r.kind, r.event_id, r.by) for r in (*s.adjustments, *s.inquiries))
    return (s.period, s.status, s.opening, sums, s.closing, s.paid, s.carried,
            s.digest, s.approved_by, s.locked_by, steps)  # fmt: skip


# Last in this module: its 2037 close would forfeit, as of its date, the unpaid
# deals of the tests above (a close is a company fact), after they have checked.
def test_a_month_approved_locked_and_paid_and_a_late_cancellation_trued_up_in_april(
    worker: QuotaFlowApp,
    producer: Producer,
    store: Store,
    settings: Settings,
    plan: Plan,
) -> None:
    """Issue 15 on the stream: a March deal paid in March; the month closed, its
    statement approved and the month locked: payroll pays March. The deal is then
    cancelled with a March date: the clawback goes to April's statement, beside a
    manual adjustment and an answered inquiry. Every statement equals the one the
    same events give in ``simulate``, to the cent and the digest."""
    year = "2037"
    at = f"{year}-01-01T00:00:00+08:00"
    publish = _plan(year)
    rep, deal_id = unique("R"), unique("D")
    hired = envelope("RepHired", unique("h"), at, rep_id=rep, team_id=unique("T"),
                     region="east", role="account_manager", grade="P5",
                     hired_at="2030-01-01T00:00:00+08:00")  # fmt: skip
    sale = deal_event(
        event_id=unique("e"), deal_id=deal_id, rep_id=rep, amount="200000.00",
        margin="0.00", new_customer=False,
        occurred_at=f"{year}-03-10T09:00:00+08:00",
        payment_due_at=f"{year}-12-31T00:00:00+08:00",
        splits=[{"rep_id": rep, "share": "1"}],
    )  # fmt: skip
    paid = payment_event(unique("p"), deal_id, "200000.00",
                         f"{year}-03-15T09:00:00+08:00")  # fmt: skip
    april = f"{year}-04-02T09:00:00+08:00"
    closing = envelope("PeriodClosed", unique("pc"), f"{year}-04-01T00:00:00+08:00",
                       period=f"{year}-03")  # fmt: skip
    approval = envelope("StatementApproved", unique("ap"), april, rep_id=rep,
                        period=f"{year}-03", approved_by="M-1")  # fmt: skip
    locking = envelope("PeriodLocked", unique("lk"), april, period=f"{year}-03",
                       locked_by="finance")  # fmt: skip
    cancel = envelope("DealCancelled", unique("x"), f"{year}-03-28T00:00:00+08:00",
                      deal_id=deal_id, reason="customer withdrew")  # fmt: skip
    inquiry = unique("INQ")
    question = envelope("InquiryRaised", unique("iq"), f"{year}-04-05T00:00:00+08:00",
                        inquiry_id=inquiry, rep_id=rep, line_id="?",
                        question="why is March taken back?")  # fmt: skip
    adjustment = envelope("AdjustmentBooked", unique("adj"),
                          f"{year}-04-06T00:00:00+08:00", adjustment_id=unique("A"),
                          rep_id=rep, amount="500.00", currency="CNY",
                          reason="goodwill for the lost deal", booked_by="admin-1",
                          approved_by="M-1", inquiry_id=inquiry)  # fmt: skip
    answer = envelope("InquiryAnswered", unique("ia"), f"{year}-04-06T00:00:00+08:00",
                      inquiry_id=inquiry, rep_id=rep, answered_by="M-1",
                      answer="the customer withdrew; 500 goodwill",
                      adjustment_id=adjustment["adjustment_id"])  # fmt: skip
    # Each stage waits for the one before: the close, the approval and the lock ride
    # other topics than the deals (Kafka orders one partition only), and each is
    # routed to the rep's partition before the next is sent.
    stages = [
        [(PLANS, publish, publish["event_id"]), (ORG, hired, rep)],
        [(DEALS, sale, deal_id), (PAYMENTS, paid, deal_id)],
        [(CONTROL, closing, closing["event_id"])],
        [(ACTIVITIES, approval, rep)],
        [(CONTROL, locking, locking["event_id"])],
        [(DEALS, cancel, deal_id), (ACTIVITIES, question, rep),
         (ACTIVITIES, adjustment, rep), (ACTIVITIES, answer, rep)],
    ]  # fmt: skip
    sent: list[dict[str, Any]] = []
    for stage in stages:
        for topic, event, key in stage:
            sent.append(event)
            before = routed(settings, topic)
            send(producer, topic, key.encode(), orjson.dumps(event))
            if topic in (PLANS, ORG, ACTIVITIES, CONTROL):
                _wait_routed(settings, topic, before, 1)
        folded = replay([plan], [orjson.dumps(event) for event in sent])
        assert not folded.rejected, folded.rejected
        expected = _statements(folded.lines, folded.records, rep)
        wait_for(
            lambda want=expected: (
                [_said(s) for s in rep_statements(store, rep)] == want
            ),
            60,
            f"the statements after {stage[-1][1]['event_type']} to equal simulate's",
        )
    march, april_statement = rep_statements(store, rep)
    assert (march.status, march.approved_by, march.locked_by) == (
        "locked",
        "M-1",
        "finance",
    )
    # 200,000 paid in 5 days releases ×1.10, and full.yaml's lightning award.
    released, lightning = march.sums["released"], march.sums["bonus"]
    assert (released, lightning) == (Decimal("6600.00"), Decimal("1000.00"))
    assert march.paid == march.closing == released + lightning
    assert april_statement.sums["clawback"] == -march.paid
    assert april_statement.sums["adjustment"] == Decimal("500.00")
    assert april_statement.status == "draft"
    assert [r.kind for r in april_statement.inquiries] == ["inquiry", "answered"]
    quoted = f"/api/reps/{rep}/statements?period={year}-03"
    assert get_json(settings, quoted)["paid"] == f"{march.paid}"
    payroll_rows = fetch(settings.web_port, f"/api/payroll?period={year}-03",
                         admin_of(settings)).decode().splitlines()  # fmt: skip
    ours = [row.split(",") for row in payroll_rows if row.startswith(f"{rep},")]
    assert ours == [[rep, "CNY", f"{march.paid:.2f}", f"{year}-03",
                     f"{publish['plan_id']} v1", march.digest]]  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(settings.web_port, f"/api/payroll?period={year}-04", admin_of(settings))
    assert refused.value.code == 409


# After the test above, for the same reason: its 2038 close is a company fact.
def test_a_manager_approves_and_finance_locks_a_month_on_the_board(
    worker: QuotaFlowApp,
    producer: Producer,
    store: Store,
    settings: Settings,
    browser: Any,
) -> None:
    """Issue 15 in headless Chromium: the rep's manager signs in, reads the rep's
    March statement (a draft) and approves it; finance signs in and locks March;
    each step shows on the board once folded. Screenshots in test-artifacts."""
    year, team = "2038", unique("T")
    rep, deal_id = unique("R"), unique("D")
    hired = hire_event(rep, team, "east", f"{year}-01-01T00:00:00+08:00")
    sale = deal_event(
        event_id=unique("e"), deal_id=deal_id, rep_id=rep, amount="100000.00",
        margin="0.00", new_customer=False, customer_id=unique("C"),
        occurred_at=f"{year}-03-10T09:00:00+08:00",
        payment_due_at=f"{year}-12-31T00:00:00+08:00",
        splits=[{"rep_id": rep, "share": "1"}],
    )  # fmt: skip
    paid = payment_event(unique("p"), deal_id, "100000.00",
                         f"{year}-03-15T09:00:00+08:00")  # fmt: skip
    closing = envelope("PeriodClosed", unique("pc"), f"{year}-04-01T00:00:00+08:00",
                       period=f"{year}-03")  # fmt: skip
    question = envelope("InquiryRaised", unique("iq"), f"{year}-03-20T00:00:00+08:00",
                        inquiry_id=unique("INQ"), rep_id=rep, line_id="the release",
                        question="paid in 5 days: is the x1.10 in?")  # fmt: skip
    for topic, event, key in ((ORG, hired, rep), (DEALS, sale, deal_id),
                              (PAYMENTS, paid, deal_id), (ACTIVITIES, question, rep),
                              (CONTROL, closing, closing["event_id"])):  # fmt: skip
        before = routed(settings, topic)
        send(producer, topic, key.encode(), orjson.dumps(event))
        if topic in (ORG, CONTROL):
            _wait_routed(settings, topic, before, 1)
    wait_for(lambda: team_of(store, rep) == team, 60, "the rep in the directory")
    manager = issue(settings.access_path,
                    Grant(name="Mo", role=Role.MANAGER, team_id=team))  # fmt: skip
    board = f"http://127.0.0.1:{settings.web_port}/board?period={year}-03"
    _sign_in(browser, board, manager, rep)
    _manager_answers_and_approves(browser, rep)
    _sign_in(browser, board, admin_of(settings), rep)
    _finance_locks(browser, rep)
    wait_for(lambda: earned(store, rep, "bonus") == Decimal("150.00"), 30,
             "the board's adjustment booked")  # fmt: skip


def _sign_in(driver: Any, board: str, token: str, rep: str) -> None:
    """A fresh sign-in with ``token``, reading ``rep``'s statements."""
    driver.get(board)
    driver.execute_script("sessionStorage.clear();")
    driver.get(board)
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()
    field = driver.find_element(By.ID, "statement-rep")
    wait_on_page(driver, "the board", lambda _: field.is_displayed())
    field.clear()
    field.send_keys(rep)
    driver.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)


def _state_is(word: str) -> Any:
    return lambda d: page_text(d, "pay-state").startswith(word)


def _manager_answers_and_approves(driver: Any, rep: str) -> None:
    # 100,000 at 3% = 3,000 earned, paid in 5 days: 3,300 released and due.
    wait_on_page(driver, "March's draft", _state_is("draft"))
    assert "Amount due\t3,300.00 CNY" in page_text(driver, "pay-sums")
    assert not driver.find_element(By.ID, "pay-lock").is_displayed()
    # The rep's open question, answered by the manager on the board.
    wait_on_page(driver, "the open question", lambda d: (
        "is the x1.10 in? — open" in page_text(d, "pay-questions")))  # fmt: skip
    driver.find_element(By.CSS_SELECTOR, "#pay-questions input").send_keys("yes")
    driver.execute_script("document.querySelector('#pay-questions button').click();")
    wait_on_page(driver, "the answer on the board", lambda d: (
        "— Mo answered: yes" in page_text(d, "pay-questions")))  # fmt: skip
    # The manager's team view lists the rep's draft; approved from there.
    row = f"{rep}\tdraft\t3,300.00 CNY\t0.00 CNY"
    wait_on_page(driver, "the team's statements",
                 lambda d: row in page_text(d, "team-statements"))  # fmt: skip
    approve = "#team-statements tr[data-rep] button.approve"
    driver.execute_script(f"document.querySelector('{approve}').click();")
    wait_on_page(
        driver, "the approval on the board", _state_is("approved · approved by Mo")
    )
    driver.execute_script("document.getElementById('pay').scrollIntoView();")
    driver.save_screenshot(str(ARTIFACTS / "5-manager-approved.png"))


def _finance_locks(driver: Any, rep: str) -> None:
    wait_on_page(driver, "March approved", _state_is("approved"))
    assert rep in page_text(driver, "not-acknowledged")  # the plan, not yet
    driver.execute_script("document.getElementById('pay-lock').click();")
    wait_on_page(driver, "the lock on the board", _state_is("locked"))
    assert "Paid at the lock\t3,300.00 CNY" in page_text(driver, "pay-sums")
    assert "locked by admin" in page_text(driver, "pay-state")
    driver.execute_script("document.getElementById('pay').scrollIntoView();")
    driver.save_screenshot(str(ARTIFACTS / "6-finance-locked.png"))
    # A manual adjustment, booked by finance and approved by the manager.
    for field, value in (("adjust-amount", "150.00"), ("adjust-reason", "goodwill"),
                         ("adjust-approver", "Mo")):  # fmt: skip
        driver.find_element(By.ID, field).send_keys(value)
    driver.execute_script("document.getElementById('adjust-book').click();")
    wait_on_page(driver, "the adjustment sent", lambda d: (
        "sent AdjustmentBooked board-" in page_text(d, "pay-sent")))  # fmt: skip
