"""A seeded, realistic sales year for ``quotaflow bench fold``.

Reps in teams of about eight in four regions are hired first; then the targets of the
year and its quarters (company → product line → region → team → rep: the domain's tree
has a product-line level, so one node carries the whole company); then every dated
fact in time order: deals over the calendar year (some split between two reps of one
team) with their amendments, payments, scores and cancellations as they fall due,
activities, and each month's close (and each quarter's and the year's) an hour after
it ends. Exactly ``count`` events; the same seed gives the same bytes.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

import orjson

from streams.bench.generator import CHINA, PRODUCT_LINES, REGIONS, Message, Rep
from streams.infra.topics import (
    ACTIVITIES,
    CONTROL,
    DEALS,
    ORG,
    PAYMENTS,
    SATISFACTION,
    TARGETS,
)

TEAM_SIZE = 8
SPLIT_SHARE = 0.15
KEY_ACCOUNT_SHARE = 0.1
# Share of the dated events (all but hires, targets and closes) that are activities.
ACTIVITY_SHARE = 0.25
NEW_HIRE_SHARE, SENIOR_SHARE, COMPLETE_SHARE = 0.1, 0.3, 0.9  # of hires, activities
AMEND, PAY, SURVEY, CANCEL = 1, 2, 4, 8
FOLLOW_UP_ODDS = ((AMEND, 0.03), (PAY, 0.6), (SURVEY, 0.3), (CANCEL, 0.02))
ACTIVITY_KINDS = (
    ("visit", 50), ("decision_maker_visit", 15), ("prospect_entered", 20),
    ("mentoring", 5), ("knowledge_sharing", 5), ("crisis_support", 3),
    ("mentee_passed", 2),
)  # fmt: skip
MONTHS = 12
MEAN_DEAL = 90_000  # the mean of the deal-size distribution below, rounded


def teams_of(reps: int) -> list[Rep]:
    """``reps`` reps in teams of ``TEAM_SIZE`` (a short last team joins the one
    before it), teams dealt round the four regions."""
    teams = max(1, round(reps / TEAM_SIZE))
    out = []
    for i in range(reps):
        team = min(i // TEAM_SIZE, teams - 1)
        region = REGIONS[team % len(REGIONS)]
        out.append(Rep(f"R-{i:05d}", f"T-{region}-{team:04d}", region))
    return out


@dataclass
class BenchYear:
    """The generator's plan of the year: who, how many deals and activities."""

    count: int
    reps: int
    seed: int = 11
    year: int = 2026

    def __post_init__(self) -> None:
        if self.reps < 1:
            msg = "a year needs at least one rep"
            raise ValueError(msg)
        self.team_of = teams_of(self.reps)
        self.teams = sorted({r.team_id for r in self.team_of})
        # Hires; the target tree for the year and each quarter; 12 + 4 + 1 closes.
        tree = self.reps + len(self.teams) + len(REGIONS) + 2
        fixed = self.reps + 5 * tree + MONTHS + 4 + 1
        dated = self.count - fixed
        if dated < 1:
            msg = f"{self.count} events cannot hold a year of {self.reps} reps: "
            msg += f"hires, targets and closes alone take {fixed}"
            raise ValueError(msg)
        # Deals and their follow-ups are drawn first, so activities can fill the
        # count exactly; a deal that would overshoot it comes without follow-ups.
        rnd = random.Random(self.seed + 1)  # noqa: S311 - sample data
        masks, used, budget = bytearray(), 0, dated - round(ACTIVITY_SHARE * dated)
        while used < max(budget, 1):
            mask = sum(bit for bit, odds in FOLLOW_UP_ODDS if rnd.random() < odds)
            if used + 1 + bin(mask).count("1") > dated:
                mask = 0
            masks.append(mask)
            used += 1 + bin(mask).count("1")
        self.masks = masks
        self.activities = dated - used
        self.start = datetime(self.year, 1, 1, tzinfo=CHINA)
        self.length = datetime(self.year + 1, 1, 1, tzinfo=CHINA) - self.start

    def messages(self) -> Iterator[Message]:
        """Every event of the year in file order (hires, targets, then by time)."""
        rnd = random.Random(self.seed)  # noqa: S311 - sample data
        yield from self._hires(rnd)
        yield from self._targets(rnd)
        dated = heapq.merge(
            self._deals(rnd), self._activities(rnd), self._closes(), key=itemgetter(0)
        )
        for _, message in dated:
            yield message

    def _hires(self, rnd: random.Random) -> Iterator[Message]:
        for i, rep in enumerate(self.team_of):
            lead = i % TEAM_SIZE == 0
            days = (
                rnd.randint(30, 365)
                if rnd.random() < NEW_HIRE_SHARE
                else rnd.randint(1, 3000)
            )
            hired = self.start - timedelta(days=days)
            yield ORG, rep.rep_id.encode(), _dump(
                _envelope("RepHired", f"hire-{rep.rep_id}", hired, "hr"),
                rep_id=rep.rep_id, team_id=rep.team_id, region=rep.region,
                role="team_lead" if lead else "account_manager",
                grade="P6" if lead or rnd.random() < SENIOR_SHARE else "P5",
                hired_at=hired.isoformat(),
            )  # fmt: skip

    def _targets(self, rnd: random.Random) -> Iterator[Message]:
        """Targets for the year and each quarter (a quarter a fourth of the year),
        near what each rep is likely to sell; every parent is the exact sum of its
        children."""
        per_rep = len(self.masks) / self.reps * MEAN_DEAL
        rep_year = {
            r.rep_id: Decimal(round(per_rep * rnd.uniform(0.8, 1.2), -4))
            for r in self.team_of
        }
        region_of = {r.team_id: r.region for r in self.team_of}
        at = self.start - timedelta(days=10)
        quarters = [f"{self.year}-Q{q}" for q in range(1, 5)]
        for period, share in [(str(self.year), 1), *((q, 4) for q in quarters)]:
            rep = {r: amount / share for r, amount in rep_year.items()}
            team: defaultdict[str, Decimal] = defaultdict(Decimal)
            region: defaultdict[str, Decimal] = defaultdict(Decimal)
            for r in self.team_of:
                team[r.team_id] += rep[r.rep_id]
                region[r.region] += rep[r.rep_id]
            company = sum(region.values(), Decimal(0))
            nodes: list[tuple[str, str, str | None, Decimal]] = [
                ("company", "company", None, company),
                ("all-products", "product_line", "company", company),
            ]
            nodes += [(g, "region", "all-products", region[g]) for g in REGIONS]
            nodes += [(t, "team", region_of[t], team[t]) for t in self.teams]
            nodes += [(r.rep_id, "rep", r.team_id, rep[r.rep_id])
                      for r in self.team_of]  # fmt: skip
            for node, level, parent, amount in nodes:
                yield TARGETS, node.encode(), _dump(
                    _envelope("QuotaAssigned", f"q-{node}-{period}", at, "planning"),
                    node_id=node, level=level, parent_id=parent, period=period,
                    amount=f"{amount:.2f}", currency="CNY",
                )  # fmt: skip

    def _deals(self, rnd: random.Random) -> Iterator[tuple[datetime, Message]]:
        """Deals in close order; each one's follow-ups wait in a heap for their time."""
        weights = [rnd.lognormvariate(0, 0.5) for _ in self.team_of]
        cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
        mates: dict[str, list[Rep]] = {}
        for r in self.team_of:
            mates.setdefault(r.team_id, []).append(r)
        buyers: set[str] = set()
        customers = max(400, 20 * self.reps)
        pending: list[tuple[datetime, int, Message]] = []
        total = len(self.masks)
        for n, mask in enumerate(self.masks):
            closed = self.start + self.length * ((n + rnd.random()) / total)
            while pending and pending[0][0] <= closed:
                at, _, message = heapq.heappop(pending)
                yield at, message
            owner = rnd.choices(self.team_of, cum_weights=cumulative)[0]
            others = [m for m in mates[owner.team_id] if m != owner]
            customer = f"C-{rnd.randrange(customers):06d}"
            deal = _deal(rnd, n, self.seed, owner, customer, closed)
            deal["new_customer"] = customer not in buyers
            buyers.add(customer)
            if others and rnd.random() < SPLIT_SHARE:
                deal["splits"] = [
                    {"rep_id": owner.rep_id, "share": "0.6"},
                    {"rep_id": rnd.choice(others).rep_id, "share": "0.4"},
                ]
            yield closed, (DEALS, deal["deal_id"].encode(), orjson.dumps(deal))
            for at, message in _follow_ups(rnd, deal, closed, mask):
                heapq.heappush(pending, (at, n, message))
        while pending:
            at, _, message = heapq.heappop(pending)
            yield at, message

    def _activities(self, rnd: random.Random) -> Iterator[tuple[datetime, Message]]:
        kinds = [k for k, _ in ACTIVITY_KINDS]
        cumulative = [sum(w for _, w in ACTIVITY_KINDS[: i + 1]) for i in range(7)]
        for n in range(self.activities):
            at = self.start + self.length * ((n + rnd.random()) / self.activities)
            rep = rnd.choice(self.team_of)
            kind = rnd.choices(kinds, cum_weights=cumulative)[0]
            event = _envelope("ActivityLogged", f"act-{self.seed}-{n}", at, "crm")
            event |= {
                "activity_id": f"A-{self.seed}-{n:08d}",
                "rep_id": rep.rep_id,
                "kind": kind,
                "complete": rnd.random() < COMPLETE_SHARE,
            }
            if "visit" in kind:
                event["customer_id"] = f"C-{rnd.randrange(20 * self.reps):06d}"
            yield at, (ACTIVITIES, rep.rep_id.encode(), orjson.dumps(event))

    def _closes(self) -> Iterator[tuple[datetime, Message]]:
        """One close per month an hour after it ends; a quarter's and the year's
        close follow their last month's."""
        for month in range(1, MONTHS + 1):
            ends = datetime(self.year + month // 12, month % 12 + 1, 1, tzinfo=CHINA)
            periods = [f"{self.year}-{month:02d}"]
            if month % 3 == 0:
                periods.append(f"{self.year}-Q{month // 3}")
            if month == MONTHS:
                periods.append(str(self.year))
            for i, period in enumerate(periods):
                at = ends + timedelta(hours=1, minutes=5 * i)
                event = _envelope("PeriodClosed", f"close-{period}", at, "finance")
                event["period"] = period
                yield at, (CONTROL, period.encode(), orjson.dumps(event))


def _envelope(kind: str, event_id: str, at: datetime, source: str) -> dict[str, Any]:
    return {"event_id": event_id, "event_type": kind, "schema_version": 1,
            "occurred_at": at.isoformat(), "source": source}  # fmt: skip


def _dump(event: dict[str, Any], **fields: Any) -> bytes:
    return orjson.dumps(event | fields)


def _deal(
    rnd: random.Random, n: int, seed: int, owner: Rep, customer: str, closed: datetime
) -> dict[str, Any]:
    # Long tail: most deals 10k-150k, a few near two million.
    value = min(max(rnd.lognormvariate(11.0, 0.9), 5_000), 2_000_000)
    amount = Decimal(round(value, -2)).quantize(Decimal("0.01"))
    margin = (amount * rnd.randint(18, 45) / 100).quantize(Decimal("0.01"))
    return _envelope("DealClosed", f"deal-{seed}-{n}", closed, "crm") | {
        "deal_id": f"D-{seed}-{n:08d}", "rep_id": owner.rep_id,
        "customer_id": customer, "new_customer": True,
        "key_account": rnd.random() < KEY_ACCOUNT_SHARE,
        "product_line": rnd.choice(PRODUCT_LINES), "region": owner.region,
        "amount": str(amount), "margin": str(margin), "currency": "CNY",
        "payment_due_at": (closed + timedelta(days=30)).isoformat(),
        "splits": [{"rep_id": owner.rep_id, "share": "1"}],
    }  # fmt: skip


def _follow_ups(
    rnd: random.Random, deal: dict[str, Any], closed: datetime, mask: int
) -> Iterator[tuple[datetime, Message]]:
    key, ids = deal["deal_id"].encode(), deal["event_id"]
    base = {"deal_id": deal["deal_id"]}
    amount = Decimal(deal["amount"])
    if mask & AMEND:
        at = closed + timedelta(days=3)
        amount = (amount * rnd.choice((80, 90, 110, 125)) / 100).quantize(
            Decimal("0.01")
        )
        margin = min(Decimal(deal["margin"]), amount)
        yield at, (DEALS, key, _dump(
            _envelope("DealAmended", f"amd-{ids}", at, "crm") | base,
            amount=str(amount), margin=str(margin), currency="CNY",
            splits=deal["splits"],
        ))  # fmt: skip
    if mask & PAY:
        at = closed + timedelta(days=rnd.randint(1, 90), hours=rnd.randint(0, 23))
        paid = (amount * rnd.choice((50, 100)) / 100).quantize(Decimal("0.01"))
        yield at, (PAYMENTS, key, _dump(
            _envelope("PaymentReceived", f"pay-{ids}", at, "erp") | base,
            payment_id=f"P-{deal['deal_id']}", amount=str(paid), currency="CNY",
        ))  # fmt: skip
    if mask & SURVEY:
        at = closed + timedelta(days=20)
        yield at, (SATISFACTION, key, _dump(
            _envelope("SatisfactionRecorded", f"svy-{ids}", at, "survey") | base,
            customer_id=deal["customer_id"], score=str(rnd.randint(55, 100)),
        ))  # fmt: skip
    if mask & CANCEL:
        at = closed + timedelta(days=45)
        yield at, (DEALS, key, _dump(
            _envelope("DealCancelled", f"cxl-{ids}", at, "crm") | base,
            reason="customer withdrew",
        ))  # fmt: skip
