"""The faust application: thin agents that decode, call the domain, write, count.

Topology of the walking skeleton:
``deals`` (key deal_id) -> ``route_deals`` validates, dead-letters bad input and
sends one record per credited rep to ``<app>-rep-deals`` (key rep_id) ->
``fold_rep_deals`` folds it into that rep's state (a changelog-backed table) and
writes the ledger lines to ClickHouse.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust
import orjson
from faust.types import EventT, StreamT

from domain.engine import evolve, start
from domain.events import DealClosed, InvalidEvent, decode_event
from domain.ledger import line_as_json
from domain.plan import Plan
from domain.world import WORLD
from projections.ledger import leaderboard, rep_statement, write_lines
from projections.store import Store
from streams import topics
from streams.deadletter import dead_letter_headers
from streams.metrics import Metrics
from streams.settings import Settings

log = logging.getLogger(__name__)
Agent = Callable[[StreamT[bytes]], Awaitable[None]]


def faust_broker_url(bootstrap_servers: str) -> str:
    return ";".join(
        f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")
    )


class QuotaFlowApp:
    """The faust app with its agents and web pages, wired to one store and one plan."""

    def __init__(self, settings: Settings, store: Store, plan: Plan) -> None:
        self.settings = settings
        self.store = store
        self.plan = plan
        self.metrics = Metrics()
        # chDB calls block; one thread keeps them off the event loop and in order.
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
        settings.faust_dir.mkdir(parents=True, exist_ok=True)
        self.app = faust.App(
            settings.app_id,
            broker=faust_broker_url(settings.bootstrap_servers),
            broker_credentials=_credentials(settings),
            datadir=str(settings.faust_dir),
            store="memory://",
            topic_partitions=settings.topic_partitions,
            topic_disable_leader=True,
            topic_allow_declare=False,
            web_enabled=True,
            web_host=settings.web_host,
            web_port=settings.web_port,
            broker_session_timeout=10,
            broker_heartbeat_interval=1,
        )
        raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
        self.deals = self.app.topic(topics.DEALS, **raw)
        self.dlq = self.app.topic(topics.DLQ, **raw)
        self.rep_deals = self.app.topic(
            topics.rep_deals_topic(settings.app_id),
            partitions=settings.topic_partitions,
            **raw,
        )
        self.rep_state = self.app.Table(
            topics.REP_STATE_TABLE,
            default=None,
            partitions=settings.topic_partitions,
            key_type=bytes,
            value_type=bytes,
        )
        self.failure: BaseException | None = None
        self.failed = asyncio.Event()
        for channel, name, fun in (
            (self.deals, "route-deals", self.route_deals),
            (self.rep_deals, "fold-rep-deals", self.fold_rep_deals),
        ):
            self.app.agent(channel, name=name, concurrency=1)(self._guarded(fun))
        self._pages()

    def _guarded(self, fun: Agent) -> Agent:
        # Bad input never gets here (it is dead-lettered). An agent that crashed on
        # anything else would leave a worker that looks alive but does nothing, so the
        # whole worker stops instead, and its supervisor restarts it from the
        # committed offsets.
        async def guarded(stream: StreamT[bytes]) -> None:
            try:
                await fun(stream)
            except Exception as exc:
                log.critical("agent %s crashed; stopping the worker: %r", fun, exc)
                self.failure = exc
                self.failed.set()
                raise

        guarded.__name__ = fun.__name__
        guarded.__doc__ = fun.__doc__
        return guarded

    async def _in_io(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    async def route_deals(self, stream: StreamT[bytes]) -> None:
        """Validate each deal; send one record per credited rep, keyed by the rep."""
        async for event in stream.events():
            message = event.message
            try:
                deal = decode_event(event.value)
                if not isinstance(deal, DealClosed):
                    # Until the full topology routes it, it waits in the DLQ, from
                    # where it can be replayed; it is never dropped.
                    raise InvalidEvent(
                        "not_routed_yet",
                        f"{deal.event_type} is not routed by this worker version",
                    )
            except InvalidEvent as exc:
                await self.dead_letter(event, exc)
                continue
            for split in deal.splits:
                record = {
                    "rep_id": split.rep_id,
                    "event": event.value.decode(),
                    "arrived_at": message.timestamp,
                }
                await self.rep_deals.send(
                    key=split.rep_id.encode(), value=orjson.dumps(record)
                )
            self.metrics.events.labels(topics.DEALS, "routed").inc()

    async def fold_rep_deals(self, stream: StreamT[bytes]) -> None:
        """Fold each rep's deal into the rep's state; write its ledger lines first."""
        async for event in stream.events():
            record = orjson.loads(event.value)
            try:
                deal = decode_event(record["event"].encode())
            except InvalidEvent as exc:
                await self.dead_letter(event, exc)
                continue
            # The rep's own slice of the world: every deal crediting the rep arrives
            # here, so the rep's positions are exact; lines of co-credited reps are
            # computed in their own partitions and ignored here.
            stored = self.rep_state.get(event.key)
            state = WORLD.validate_json(stored) if stored else start([self.plan])
            new_state, step = evolve(state, deal)
            lines = [line for line in step.lines if line.rep_id == record["rep_id"]]
            if step.rejected:
                rejection = step.rejected[0]
                await self.dead_letter(
                    event, InvalidEvent(rejection.code, rejection.reason)
                )
                continue
            if new_state is state:
                self.metrics.events.labels(topics.DEALS, "duplicate").inc()
                continue
            # Lines reach ClickHouse before the state moves on: after a crash in
            # between, the replayed event recomputes the same lines (same ids, same
            # versions), so the rewrite is harmless.
            await self._in_io(write_lines, self.store, lines)
            self.rep_state[event.key] = WORLD.dump_json(new_state)
            self.metrics.events.labels(topics.DEALS, "applied").inc()
            self.metrics.processing_latency.observe(
                max(0.0, time.time() - record["arrived_at"])
            )

    async def dead_letter(self, event: EventT[bytes], exc: InvalidEvent) -> None:
        message = event.message
        await self.dlq.send(
            key=message.key,
            value=message.value,
            headers=dead_letter_headers(
                code=exc.code,
                detail=exc.detail,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
            ),
        )
        self.metrics.dead_letters.labels(exc.code).inc()
        self.metrics.events.labels(message.topic, "dead_lettered").inc()

    def _pages(self) -> None:
        app = self.app

        @app.page("/metrics")
        async def metrics(web: Any, _request: Any) -> Any:
            # aiohttp refuses a charset inside content_type; text exposition is UTF-8.
            return web.bytes(
                self.metrics.exposition(), content_type="text/plain; version=0.0.4"
            )

        @app.page("/health")
        async def health(web: Any, _request: Any) -> Any:
            ready = app.started and not app.rebalancing
            body = {"live": self.failure is None, "ready": bool(ready)}
            return web.json(body, status=200 if ready else 503)

        @app.page("/api/leaderboard")
        async def board(web: Any, request: Any) -> Any:
            try:
                limit = min(max(int(request.query.get("limit", "10")), 1), 1000)
            except ValueError:
                return web.json({"error": "limit must be a whole number"}, status=400)
            rows = await self._in_io(leaderboard, self.store, limit)
            return web.json([row.model_dump(mode="json") for row in rows])

        @app.page("/api/reps/{rep_id}/statement")
        async def statement(web: Any, _request: Any, rep_id: str) -> Any:
            lines = await self._in_io(rep_statement, self.store, rep_id)
            return web.json([line_as_json(line) for line in lines])

    def close(self) -> None:
        self._io.shutdown(wait=True)


def _credentials(settings: Settings) -> Any:
    if settings.kafka_sasl_mechanism and settings.kafka_sasl_username:
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else "",
            mechanism=settings.kafka_sasl_mechanism,
        )
    if settings.kafka_security_protocol.upper() == "SSL":
        import ssl  # noqa: PLC0415 - only TLS deployments need it

        return faust.SSLCredentials(
            ssl.create_default_context(
                cafile=str(settings.kafka_ssl_cafile)
                if settings.kafka_ssl_cafile
                else None
            )
        )
    return None
