"""Read-side rows built from domain objects, for tests that write the projections
directly (no broker): each row gets the next version, so a later row replaces an
earlier one of the same key and a rewrite of the same row collapses under FINAL."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import count

from domain.commission import Kind
from domain.credits import DealCredit
from domain.events import TargetLevel
from domain.ledger import LedgerLine, Reason
from domain.rep import periods_of
from domain.targets import TargetNode
from domain.world import Person
from tests.integration.conftest import unique

D = Decimal
VERSIONS = count(1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def line(
    rep: str,
    kind: Kind,
    amount: str,
    when: str,
    *,
    deal: str = "",
    plan: str = "P",
    inputs: tuple[tuple[str, str], ...] = (),
    premium: str = "0",
) -> LedgerLine:
    """A CNY ledger line; ``when`` is an ISO time with its offset."""
    return LedgerLine(
        line_id=unique("L"), rep_id=rep, deal_id=deal, kind=kind,
        rule="test", plan_id=plan, plan_version=1, amount=D(amount), currency="CNY",
        occurred_at=at(when), reason=Reason.given("test", inputs),
        source_event_ids=("e",),
        sequence=next(VERSIONS), premium=D(premium),
    )  # fmt: skip


def credit(
    rep: str,
    deal: str,
    amount: str,
    when: str,
    *,
    cancelled: bool = False,
    team: str = "",
    rep_region: str = "",
) -> tuple[int, DealCredit]:
    """A rep's credit on a deal, in the periods of ``when`` in its own offset; with
    ``team`` and ``rep_region``, where the rep sat at the close."""
    year, quarter, month = periods_of(at(when))
    return next(VERSIONS), DealCredit(
        deal_id=deal, rep_id=rep, customer_id="C", product_line="cloud",
        region="east", closed_at=at(when), year=year, quarter=quarter, month=month,
        credited=D(amount), margin=D(0), cancelled=cancelled, team_id=team,
        rep_region=rep_region,
    )  # fmt: skip


def person(rep: str, team: str, region: str) -> tuple[int, Person]:
    return next(VERSIONS), Person(
        rep_id=rep, team_id=team, region=region, role="account_manager", grade="P5",
        hired_at=at("2030-01-01T00:00:00+08:00"),
    )  # fmt: skip


def target(
    node: str, level: TargetLevel, period: str, amount: str
) -> tuple[int, TargetNode]:
    return next(VERSIONS), TargetNode(
        node_id=node, level=level, period=period, amount=D(amount), currency="CNY"
    )
