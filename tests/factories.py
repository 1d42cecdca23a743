"""Builders of valid events in the EVENTS.md shape, shared by every test layer."""

from __future__ import annotations

import uuid
from typing import Any


def deal_event(**overrides: Any) -> dict[str, Any]:
    """A valid DealClosed in the EVENTS.md shape; override any field."""
    event: dict[str, Any] = {
        "event_id": "crm-7f3a",
        "event_type": "DealClosed",
        "schema_version": 1,
        "occurred_at": "2026-03-14T09:30:00+08:00",
        "source": "crm",
        "deal_id": "D-1001",
        "rep_id": "R-17",
        "customer_id": "C-88",
        "new_customer": True,
        "key_account": False,
        "product_line": "cloud",
        "region": "east",
        "amount": "125000.00",
        "margin": "41000.00",
        "currency": "CNY",
        "payment_due_at": "2026-04-13T00:00:00+08:00",
        "splits": [{"rep_id": "R-17", "share": "1"}],
    }
    event.update(overrides)
    return event


def payment_event(
    event_id: str, deal_id: str, amount: str, at: str, **overrides: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": event_id,
        "event_type": "PaymentReceived",
        "schema_version": 1,
        "occurred_at": at,
        "source": "erp",
        "payment_id": f"P-{event_id}",
        "deal_id": deal_id,
        "amount": amount,
        "currency": "CNY",
    }
    event.update(overrides)
    return event


def envelope(event_type: str, event_id: str, at: str, **fields: Any) -> dict[str, Any]:
    """Any other event: the common envelope plus the given fields."""
    return {
        "event_id": event_id,
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": at,
        "source": "test",
        **fields,
    }


def _event_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def hire_event(
    rep: str,
    team: str,
    region: str,
    at: str,
    hired_at: str = "2030-01-01T00:00:00+08:00",
) -> dict[str, Any]:
    """A RepHired of an account manager, grade P5."""
    return envelope("RepHired", _event_id("h"), at, rep_id=rep, team_id=team,
                    region=region, role="account_manager", grade="P5",
                    hired_at=hired_at)  # fmt: skip


def quota_event(
    node: str, level: str, parent: str | None, period: str, amount: str, at: str
) -> dict[str, Any]:
    """A QuotaAssigned in CNY."""
    return envelope("QuotaAssigned", _event_id("q"), at, node_id=node, level=level,
                    parent_id=parent, period=period, amount=amount,
                    currency="CNY")  # fmt: skip


def target_chain(
    nodes: tuple[str, str, str, str, str], period: str, amount: str, at: str
) -> list[dict[str, Any]]:
    """The same target for a company, product line, region, team and rep (in that
    order), each under the one before: the tree grows top-down."""
    levels = ("company", "product_line", "region", "team", "rep")
    parents = (None, *nodes[:-1])
    return [
        quota_event(node, level, parent, period, amount, at)
        for node, level, parent in zip(nodes, levels, parents, strict=True)
    ]
