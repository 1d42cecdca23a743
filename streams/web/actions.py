"""What people do on the board, as events on the log (issue 15): a rep questions a
line or acknowledges the plan, a manager approves a statement or answers an
inquiry, an admin books an adjustment or locks a month.

Each action is a POST with a JSON body. The page builds the event (its id, the
moment, ``source: board``, who from the token's grant), decodes it as every event
is decoded, and sends it to its topic; the answer is 202 with the event's id once
the broker has it. The fold judges it like any other event: a refusal (a month not
closed yet, an inquiry already answered) goes to the dead-letter topic with its
reason. Who may do what is checked here, against the token's grant.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust.web
from confluent_kafka import Producer

from domain.events import InvalidEvent, decode_event
from projections.dimensions import team_of
from streams.infra.topics import ACTIVITIES, CONTROL
from streams.web.access import Grant, Role
from streams.web.served import Handler, Served

_SEND_SECONDS = 10.0


class Refusal(Exception):
    """An action the grant does not allow, or a body that is not one: the status
    and the sentence the caller gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Submitter:
    """Sends one board event with a producer of its own (the batches' producer
    flushes on their schedule, not on a person's click), closed once the broker has
    answered: a click is rare, and no producer thread outlives it."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**config, "acks": "all", "linger.ms": 0}

    def send(self, topic: str, key: str, value: bytes) -> None:
        errors: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                errors.append(str(error))

        producer = Producer({**self._config, "client.id": "quotaflow-board"})
        try:
            producer.produce(
                topic, key=key.encode(), value=value, on_delivery=delivered
            )
            left = producer.flush(_SEND_SECONDS)
        finally:
            producer.purge()
            producer.close()
        if errors or left:
            reason = errors[0] if errors else "no answer from the broker"
            raise Refusal(503, f"the event was not sent ({reason}); try again")


def built(event_type: str, fields: dict[str, Any]) -> tuple[str, bytes]:
    """An event of the board, decoded as every event is: its id and its bytes."""
    event_id = f"board-{uuid.uuid4().hex}"
    raw = {
        "event_id": event_id,
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": "board",
        **fields,
    }
    value = json.dumps(raw, ensure_ascii=False).encode()
    try:
        decode_event(value)
    except InvalidEvent as exc:
        raise Refusal(400, exc.detail) from exc
    return event_id, value


async def _body(request: Any) -> dict[str, Any]:
    try:
        found = await request.json()
    except ValueError as exc:
        raise Refusal(400, "the body must be a JSON object") from exc
    if not isinstance(found, dict):
        raise Refusal(400, "the body must be a JSON object")
    return found


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Refusal(400, f"{name} is needed (text)")
    return value.strip()


class Actions:
    """What the action pages share: who may act for whom, and the send."""

    def __init__(self, quotaflow: Served) -> None:
        self.quotaflow = quotaflow
        self._submitter: Submitter | None = None

    async def send(
        self, topic: str, key: str, event_type: str, fields: dict[str, Any]
    ) -> dict[str, str]:
        event_id, value = built(event_type, fields)
        if self._submitter is None:
            config = self.quotaflow.settings.confluent_config()
            self._submitter = Submitter(config)
        # A thread of its own: the store's thread writes the batches, and a send
        # may wait seconds for the broker.
        await asyncio.to_thread(self._submitter.send, topic, key, value)
        return {"event_id": event_id, "event_type": event_type}

    async def may_act_for(self, grant: Grant, rep_id: str, *roles: Role) -> None:
        """The grant's role is one of ``roles`` and covers the rep: a rep acts for
        themselves, a manager for their team, an admin for anyone."""
        if grant.role not in roles:
            raise Refusal(403, f"{grant.name} ({grant.role}) may not do this")
        if grant.role is Role.REP and grant.rep_id != rep_id:
            raise Refusal(403, f"{grant.name} may act for themselves only")
        if grant.role is Role.MANAGER:
            served = self.quotaflow
            team = await served.in_read_io(team_of, served.reader, rep_id)
            if team is None or team != grant.team_id:
                raise Refusal(403, f"{rep_id} is not in {grant.name}'s team")


def _page(
    quotaflow: Served, guarded: Callable[..., Callable[[Handler], Handler]], path: str
) -> Callable[[Handler], Handler]:
    """A POST page (faust's function pages answer GET only): the handler returns
    what was sent, or raises ``Refusal``; the token is checked first."""

    def wrap(handler: Handler) -> Handler:
        async def post(web: Any, request: Any, grant: Grant, **kw: Any) -> Any:
            try:
                return web.json(await handler(request, grant, **kw), status=202)
            except Refusal as exc:
                return web.json({"error": exc.message}, status=exc.status)

        methods = {"post": guarded()(post), "__doc__": handler.__doc__}
        quotaflow.app.page(path)(type(handler.__name__, (faust.web.View,), methods))
        return handler

    return wrap


def register(
    quotaflow: Served, guarded: Callable[..., Callable[[Handler], Handler]]
) -> None:
    """The POST pages of the payout cycle."""
    acts = Actions(quotaflow)

    def action(path: str) -> Callable[[Handler], Handler]:
        return _page(quotaflow, guarded, path)

    @action("/api/reps/{rep_id}/inquiries")
    async def inquire(request: Any, grant: Grant, rep_id: str) -> Any:
        await acts.may_act_for(grant, rep_id, Role.REP)
        body = await _body(request)
        fields = {"inquiry_id": f"INQ-{uuid.uuid4().hex[:12]}", "rep_id": rep_id,
                  "line_id": _text(body, "line_id"),
                  "question": _text(body, "question")}  # fmt: skip
        sent = await acts.send(ACTIVITIES, rep_id, "InquiryRaised", fields)
        return {**sent, "inquiry_id": fields["inquiry_id"]}

    @action("/api/reps/{rep_id}/inquiries/{inquiry_id}/answer")
    async def answer(request: Any, grant: Grant, rep_id: str, inquiry_id: str) -> Any:
        await acts.may_act_for(grant, rep_id, Role.MANAGER, Role.ADMIN)
        body = await _body(request)
        fields = {"inquiry_id": inquiry_id, "rep_id": rep_id,
                  "answered_by": grant.name, "answer": _text(body, "answer"),
                  "adjustment_id": body.get("adjustment_id")}  # fmt: skip
        return await acts.send(ACTIVITIES, rep_id, "InquiryAnswered", fields)

    @action("/api/reps/{rep_id}/statements/{period}/approve")
    async def approve(_request: Any, grant: Grant, rep_id: str, period: str) -> Any:
        await acts.may_act_for(grant, rep_id, Role.MANAGER, Role.ADMIN)
        fields = {"rep_id": rep_id, "period": period, "approved_by": grant.name}
        return await acts.send(ACTIVITIES, rep_id, "StatementApproved", fields)

    @action("/api/reps/{rep_id}/adjustments")
    async def adjust(request: Any, grant: Grant, rep_id: str) -> Any:
        await acts.may_act_for(grant, rep_id, Role.ADMIN)
        body = await _body(request)
        fields = {"adjustment_id": f"ADJ-{uuid.uuid4().hex[:12]}", "rep_id": rep_id,
                  "amount": _text(body, "amount"),
                  "currency": body.get("currency") or quotaflow.plan.currency,
                  "reason": _text(body, "reason"), "booked_by": grant.name,
                  "approved_by": _text(body, "approved_by"),
                  "inquiry_id": body.get("inquiry_id"),
                  "line_id": body.get("line_id")}  # fmt: skip
        sent = await acts.send(ACTIVITIES, rep_id, "AdjustmentBooked", fields)
        return {**sent, "adjustment_id": fields["adjustment_id"]}

    @action("/api/reps/{rep_id}/acknowledgements")
    async def acknowledge(request: Any, grant: Grant, rep_id: str) -> Any:
        await acts.may_act_for(grant, rep_id, Role.REP)
        body = await _body(request)
        fields = {"rep_id": rep_id, "plan_id": _text(body, "plan_id"),
                  "version": body.get("version")}  # fmt: skip
        return await acts.send(ACTIVITIES, rep_id, "PlanAcknowledged", fields)

    @action("/api/periods/{period}/lock")
    async def lock(_request: Any, grant: Grant, period: str) -> Any:
        if grant.role is not Role.ADMIN:
            raise Refusal(403, "only finance (an admin) locks a period")
        fields = {"period": period, "locked_by": grant.name}
        return await acts.send(CONTROL, period, "PeriodLocked", fields)
