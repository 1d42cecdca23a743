"""即时奖励: awards that fire while the triggering deal is processed, not at period end.

- Lightning (闪电奖): a rep's credited signings on one calendar day, in each deal's own
  UTC offset, add up to more than the threshold: one award for that rep and day.
- Breakthrough (突破奖): ``count`` key-account new-customer deals of a rep, with
  ``count`` distinct customers, whose closing times lie within ``window_days`` × 24 h
  of each other. The groups are taken in closing order, earliest first, and made
  again from every kept deal whenever one comes or is cancelled, so they are the
  same whatever order the deals arrive in (SPEC §9): a group that no longer stands is
  reversed and the new one awarded. A deal counts towards one award only: six such
  deals in a week earn two, not four; three deals with one customer earn none, and a
  customer counts in one award only.

Amendment: a deal amended to another credited amount is judged again on its day (the
award fires, or is reversed, as the day's total now says); a rep taken off the deal
loses it as if it were cancelled, a rep added gains it as if it had just closed.

Cancellation: an award stands only while its condition holds. When a cancelled deal
takes a day back to or below the threshold the award fired under, or removes a member
of a breakthrough group, the award is reversed by a negative award; the group's other
deals count again and may complete a new group at once. A cancelled deal id is
remembered, so its ``DealClosed`` seen again (or seen after the cancel) does nothing.

Only what can still matter is kept: every signing day (a late cancel can reach it), the
key-account deals not in an award and closed within a year of the latest one, and the
groups that fired.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.money import ZERO, CurrencyCode, format_money, to_cents
from domain.pmap import PMap

Awards = tuple["InstantAward", ...]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LightningRule(_Frozen):
    """闪电奖: more than ``more_than`` credited in one calendar day earns ``award``."""

    more_than: Decimal = Field(ge=0)
    award: Decimal = Field(gt=0)


class BreakthroughRule(_Frozen):
    """突破奖: ``count`` key-account new customers within ``window_days``: ``award``."""

    count: int = Field(ge=1)
    window_days: int = Field(ge=0)
    award: Decimal = Field(gt=0)


class InstantRewardRules(_Frozen):
    """The plan's instant rewards; an absent rule never fires."""

    currency: CurrencyCode
    lightning: LightningRule | None = None
    breakthrough: BreakthroughRule | None = None


class InstantAward(_Frozen):
    """An award as it fires (or, with a negative amount, as it is reversed)."""

    rep_id: str
    rule: Literal["lightning", "breakthrough"]
    amount: Decimal
    currency: CurrencyCode
    formula: str
    source_event_ids: tuple[str, ...]


class Signed(_Frozen):
    """One deal's credited amount on its signing day."""

    deal_id: str
    event_id: str
    amount: Decimal


class SigningDay(_Frozen):
    """One calendar day's signings, and the lightning award standing for it."""

    day: date
    deals: tuple[Signed, ...] = ()
    award: InstantAward | None = None
    fired_over: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((d.amount for d in self.deals), ZERO)


class KeyClose(_Frozen):
    """A key-account new-customer deal, as a breakthrough counts it."""

    deal_id: str
    event_id: str
    closed_at: AwareDatetime
    customer_id: str = ""


class Breakthrough(_Frozen):
    """Deals that fired a breakthrough award, kept so a cancel can undo it."""

    group: tuple[KeyClose, ...]
    award: InstantAward


class InstantState(_Frozen):
    """One rep's instant-reward memory."""

    days: PMap[date, SigningDay] = PMap()
    # Every deal signed, by id: the day it counts on.
    signed_on: PMap[str, date] = PMap()
    pending: tuple[KeyClose, ...] = ()
    fired: tuple[Breakthrough, ...] = ()
    cancelled: tuple[str, ...] = ()


def on_deal(  # noqa: PLR0913 - the deal's facts as the event gives them
    state: InstantState,
    rep_id: str,
    *,
    deal_id: str,
    event_id: str,
    closed_at: datetime,
    credited_amount: Decimal,
    new_customer: bool,
    key_account: bool,
    rules: InstantRewardRules,
    customer_id: str = "",
) -> tuple[InstantState, Awards]:
    """即时奖励: fold one deal credited to ``rep_id``; return the awards it fires."""
    if closed_at.utcoffset() is None or credited_amount <= 0:
        msg = "a deal needs an aware closed_at and a positive credited amount"
        raise ValueError(msg)
    if deal_id in state.cancelled or deal_id in state.signed_on:
        return state, ()
    day = _day(state, closed_at.date())
    signed = Signed(deal_id=deal_id, event_id=event_id, amount=credited_amount)
    day = day.model_copy(update={"deals": (*day.deals, signed)})
    awards: Awards = ()
    lightning = rules.lightning
    if lightning is not None and day.award is None and day.total > lightning.more_than:
        why = (
            f"signed {format_money(day.total)} on {day.day} ({len(day.deals)} deals), "
        )
        why += f"more than {format_money(lightning.more_than)}"
        award = _award(rep_id, "lightning", lightning.award, rules, day.deals, why)
        day = day.model_copy(update={"award": award, "fired_over": lightning.more_than})
        awards += (award,)
    state = _with_day(state, day)
    state = state.model_copy(
        update={"signed_on": state.signed_on.set(deal_id, day.day)}
    )
    if new_customer and key_account and rules.breakthrough is not None:
        close = KeyClose(
            deal_id=deal_id,
            event_id=event_id,
            closed_at=closed_at,
            customer_id=customer_id,
        )
        why = f"deal {deal_id} came"
        state, regrouped = _regroup(state, rep_id, (close,), rules, (event_id, why))
        awards += regrouped
    return state, awards


def on_deal_amended(
    state: InstantState,
    rep_id: str,
    *,
    deal_id: str,
    event_id: str,
    credited_amount: Decimal,
    rules: InstantRewardRules,
) -> tuple[InstantState, Awards]:
    """即时奖励 re-judged: the deal's day with its credited amount as amended."""
    when = state.signed_on.get(deal_id)
    if when is None or deal_id in state.cancelled:
        return state, ()
    found = state.days[when]
    deals = tuple(
        d.model_copy(update={"amount": credited_amount}) if d.deal_id == deal_id else d
        for d in found.deals
    )
    day = found.model_copy(update={"deals": deals})
    awards: Awards = ()
    total, lightning = format_money(day.total), rules.lightning
    if day.award is not None and day.total <= day.fired_over:
        why = f"deal {deal_id} amended, {day.day} now totals {total}"
        awards += (_reversal(day.award, why, event_id),)
        day = day.model_copy(update={"award": None})
    elif (
        lightning is not None and day.award is None and day.total > lightning.more_than
    ):
        why = f"deal {deal_id} amended: signed {total} on {day.day} "
        why += (
            f"({len(day.deals)} deals), more than {format_money(lightning.more_than)}"
        )
        award = _award(rep_id, "lightning", lightning.award, rules, day.deals, why)
        day = day.model_copy(update={"award": award, "fired_over": lightning.more_than})
        awards += (award,)
    return _with_day(state, day), awards


def on_deal_cancelled(
    state: InstantState,
    rep_id: str,
    *,
    deal_id: str,
    event_id: str,
    rules: InstantRewardRules,
) -> tuple[InstantState, Awards]:
    """即时奖励 clawback: forget a cancelled deal, reverse what it no longer earns."""
    if deal_id in state.cancelled:
        return state, ()
    state = state.model_copy(update={"cancelled": (*state.cancelled, deal_id)})
    awards: Awards = ()
    when = state.signed_on.get(deal_id)
    found = None if when is None else state.days[when]
    if found is not None:
        kept = tuple(d for d in found.deals if d.deal_id != deal_id)
        day = found.model_copy(update={"deals": kept})
        if day.award is not None and day.total <= day.fired_over:
            total = format_money(day.total)
            why = f"deal {deal_id} cancelled, {day.day} now totals {total}"
            awards += (_reversal(day.award, why, event_id),)
            day = day.model_copy(update={"award": None})
        state = _with_day(state, day)
    why = f"deal {deal_id} of the group cancelled"
    state, regrouped = _regroup(state, rep_id, (), rules, (event_id, why), deal_id)
    return state, (*awards, *regrouped)


def _ids(items: tuple[Signed, ...] | tuple[KeyClose, ...]) -> set[str]:
    return {item.deal_id for item in items}


def _day(state: InstantState, day: date) -> SigningDay:
    return state.days.get(day) or SigningDay(day=day)


def _with_day(state: InstantState, day: SigningDay) -> InstantState:
    return state.model_copy(update={"days": state.days.set(day.day, day)})


def _regroup(
    state: InstantState,
    rep_id: str,
    new: tuple[KeyClose, ...],
    rules: InstantRewardRules,
    cause: tuple[str, str],
    gone: str = "",
) -> tuple[InstantState, Awards]:
    """突破奖 as a position (SPEC §9): the groups made again from every key-account
    deal kept (those in awards, those waiting and ``new``, without ``gone``), in
    closing order, earliest first; a group that no longer stands is reversed, a new
    one awarded, one that stands again is left. Whatever order the deals came in,
    the same groups stand."""
    rule = rules.breakthrough
    event_id, why = cause
    if rule is None:  # dropped from the plan: only a broken group is undone
        broken = [f for f in state.fired if gone in _ids(f.group)]
        update = {
            "pending": tuple(c for c in state.pending if c.deal_id != gone),
            "fired": tuple(f for f in state.fired if f not in broken),
        }
        reversed_ = tuple(_reversal(f.award, why, event_id) for f in broken)
        return state.model_copy(update=update), reversed_
    kept = [c for f in state.fired for c in f.group] + [*state.pending, *new]
    pool = [c for c in kept if c.deal_id != gone]
    groups = _groups(pool, rule.count, timedelta(days=rule.window_days))
    standing = {frozenset(_ids(f.group)): f for f in state.fired}
    awards: list[InstantAward] = []
    fired: list[Breakthrough] = []
    for group in groups:
        known = standing.pop(frozenset(_ids(group)), None)
        if known is not None:
            fired.append(known)
            continue
        made = f"{rule.count} key-account new customers within {rule.window_days} "
        made += f"days ({', '.join(c.deal_id for c in group)})"
        award = _award(rep_id, "breakthrough", rule.award, rules, group, made)
        fired.append(Breakthrough(group=group, award=award))
        awards.append(award)
    for undone in standing.values():  # groups that no longer stand, oldest first
        awards.insert(0, _reversal(undone.award, why, event_id))
    grouped = {c.deal_id for group in groups for c in group}
    left = [c for c in pool if c.deal_id not in grouped]
    horizon = max((c.closed_at for c in pool), default=None)
    pending = tuple(
        c for c in left if horizon is None or c.closed_at >= horizon - KEPT_FOR
    )
    fired.sort(key=lambda f: (f.group[0].closed_at, f.group[0].deal_id))
    update = {"pending": pending, "fired": tuple(fired)}
    return state.model_copy(update=update), tuple(awards)


def _groups(
    pool: list[KeyClose], count: int, window: timedelta
) -> list[tuple[KeyClose, ...]]:
    """Groups of ``count`` deals of distinct customers within one window, taken
    earliest first; a customer counts in one group only."""
    left = sorted(pool, key=lambda c: (c.closed_at, c.deal_id))
    groups = []
    while (group := _first_group(left, count, window)) is not None:
        groups.append(group)
        used = {c.customer_id for c in group}
        left = [c for c in left if c not in group and c.customer_id not in used]
    return groups


KEPT_FOR = timedelta(days=366)
"""How far behind the latest key-account deal the ungrouped ones are kept."""


def _first_group(
    left: list[KeyClose], count: int, window: timedelta
) -> tuple[KeyClose, ...] | None:
    """The earliest ``count`` deals with distinct customers within one window."""
    for start, first in enumerate(left):
        group, customers = [first], {first.customer_id}
        for other in left[start + 1 :]:
            if other.closed_at - first.closed_at > window:
                break
            if other.customer_id not in customers:
                group.append(other)
                customers.add(other.customer_id)
                if len(group) == count:
                    return tuple(group)
        if count == 1:
            return (first,)
    return None


def _award(
    rep_id: str,
    rule: Literal["lightning", "breakthrough"],
    amount: Decimal,
    rules: InstantRewardRules,
    sources: tuple[Signed, ...] | tuple[KeyClose, ...],
    why: str,
) -> InstantAward:
    amount = to_cents(amount)
    return InstantAward(
        rep_id=rep_id,
        rule=rule,
        amount=amount,
        currency=rules.currency,
        formula=f"{why}: {rule} award {format_money(amount)}",
        source_event_ids=tuple(s.event_id for s in sources),
    )


def _reversal(award: InstantAward, why: str, event_id: str) -> InstantAward:
    formula = f"reversal of the {award.rule} award {format_money(award.amount)}: {why}"
    sources = (event_id, *award.source_event_ids)
    update = {"amount": -award.amount, "formula": formula, "source_event_ids": sources}
    return award.model_copy(update=update)
