"""The sample year ``quotaflow run`` sends (issue 15): a whole organisation's year,
and after each month's close its payout cycle, each step after the one it follows."""

from __future__ import annotations

from collections import Counter

import orjson

from domain.plan import Plan
from domain.replay import replay
from streams.bench.demo import demo_messages


def test_every_month_is_closed_approved_questioned_answered_and_locked(
    full_plan: Plan,
) -> None:
    messages = list(demo_messages(4_000, 16, seed=3))
    kinds = [orjson.loads(value)["event_type"] for _, _, value in messages]
    counted = Counter(kinds)
    assert counted["RepHired"] == 16
    assert counted["StatementApproved"] == 12 * 16
    assert counted["InquiryRaised"] == counted["InquiryAnswered"] == 12
    assert counted["PeriodLocked"] == 12
    assert counted["QuotaAssigned"] > 0 and counted["PaymentReceived"] > 0
    # Each month: its close, then every approval, then the question, its answer
    # and the lock, in that order.
    for month in range(1, 13):
        period = f"2026-{month:02d}"

        def at(kind: str, period: str = period) -> list[int]:
            return [
                n
                for n, (_, _, value) in enumerate(messages)
                if kinds[n] == kind and orjson.loads(value).get("period") == period
            ]

        (closed,) = at("PeriodClosed")
        approvals = at("StatementApproved")
        (locked,) = at("PeriodLocked")
        assert closed < min(approvals) and max(approvals) < locked
    folded = replay([full_plan], [value for _, _, value in messages])
    refused = Counter(r.reason.split(":")[0] for r in folded.rejected)
    # Payments after their deal's cancellation are the only refusals: every
    # approval came after its close, every lock after its approvals.
    assert set(refused) <= {"deal_cancelled", "unknown_deal"}
    assert Counter(r.kind for r in folded.records)["locked"] == 12


def test_a_share_of_the_deals_comes_malformed() -> None:
    messages = list(demo_messages(4_000, 16, seed=3, bad_rate=0.1))
    broken = 0
    for _, _, value in messages:
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            broken += 1
    assert 50 < broken < 300
