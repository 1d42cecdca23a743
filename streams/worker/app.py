"""The faust application: the worker's web server, timers and low-rate agents, and
the high-rate path beside it.

Topology:
- The high-rate path (``streams.hot``) reads ``deals``, ``payments`` and
  ``satisfaction`` (all keyed by ``deal_id``) and the rep topic ``<app>-rep-deals``
  with a confluent-kafka consumer of its own, in batches of thousands. It routes each
  deal event to every rep the deal credits, on the rep topic keyed by ``rep_id``, and
  folds each rep's events into that rep's world with the domain's ``evolve``,
  writing the lines to ClickHouse, one insert per batch. At a period close each rep
  partition also sends its share of the period's facts to ``<app>-period-shares``.
- ``route-others`` (faust) reads ``plans``, ``targets``, ``org``, ``activities`` and
  ``control``: an event for one rep goes to that rep, the rest to every partition of
  the rep topic.
- ``award-periods`` (faust) makes a period's awards once every partition's share is
  in.

State is in memory and is the fold of the log: when a worker takes a partition, it
loads the partition's checkpoint (``streams.state.checkpoints``) and folds the log
after it, up to the group's committed offset (``streams.log.history``), then goes on
from there. Each partition's state records the last offset it applied, so a message
delivered again after a crash or a rebalance is skipped; ledger rows carry a
version, so writing them again is harmless. Nothing depends on when faust commits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from faust.types import EventT, StreamT

from domain.events import InvalidEvent, decode_event
from domain.ledger import LedgerLine
from domain.periodawards import Awarded
from domain.plan import Plan
from domain.world import Refused
from projections.ledger import write_lines
from projections.store import Store
from projections.writer import Span
from streams.hot.consumer import HotPath
from streams.hot.verdicts import DeadLetter, internal
from streams.infra import topics
from streams.infra.metrics import Metrics
from streams.infra.retry import WriteRetries
from streams.infra.settings import Settings
from streams.log.deadletter import dead_letter_record
from streams.log.history import Record, read_gap
from streams.state.checkpoints import Checkpoints
from streams.state.claims import EVERYONE, Claim, encode_claim, of_rep
from streams.state.periods import (
    PeriodAwarder,
    decode_report,
    rebuild_awarder,
)
from streams.state.routing import BROADCAST, Origin, destination
from streams.web import pages
from streams.web.access import AccessList
from streams.worker.batches import (
    acknowledge_nothing_more,
    batch_spans,
    unacknowledged_on_failure,
)
from streams.worker.faustapp import faust_app
from streams.worker.lag import AgentLag
from streams.worker.sends import Sends

log = logging.getLogger(__name__)
Agent = Callable[[StreamT[bytes]], Awaitable[None]]


class QuotaFlowApp:
    """The faust app with its agents and web pages, wired to one store and one plan."""

    def __init__(self, settings: Settings, store: Store, plan: Plan) -> None:
        self.settings = settings
        self.store = store
        self.plan = plan
        self.metrics = Metrics()
        # chDB calls block; one thread keeps them off the event loop and in order.
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
        # The board's queries have a client and a thread of their own: they never
        # wait behind the stream's writes.
        self.reader = store.reader()
        self._reads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="queries")
        self.app = faust_app(settings)
        raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
        self.other_topics = self.app.topic(*topics.REP_OR_GLOBAL, **raw)
        self._claims_topic = topics.claims_topic(settings.app_id)
        self._shares_topic = topics.period_shares_topic(settings.app_id)
        self.period_shares = self.app.topic(self._shares_topic, partitions=1, **raw)
        # Forwards go through confluent-kafka's producer: faust's ``send`` costs tens
        # of microseconds an event, and a batch is flushed before it is acknowledged.
        # Dead letters go the same way, so one flush puts a batch's outputs on the
        # broker; a send the broker refused stops the worker before the batch is
        # acknowledged.
        self._sends = Sends(settings.confluent_config())
        self._forwards = self._sends.producer
        self._lag = AgentLag(settings.app_id, self.metrics)
        self._awarder: PeriodAwarder | None = None
        self.failure: BaseException | None = None
        self.access = AccessList(settings.access_path)
        # Moves with every write to ClickHouse; the board polls it to stay live.
        self.changes = 0
        local = None if settings.store == "memory://" else settings.checkpoint_dir
        self.retries = WriteRetries(self.metrics, settings.write_retry_seconds)
        self.hot = HotPath(
            settings,
            plan,
            store,
            self.metrics,
            self._in_io_and_wait,
            self.flush_sends,
            Checkpoints(
                settings.confluent_config(),
                topics.checkpoints_topic(settings.app_id),
                self._forwards,
                local,
            ),
            self.retries,
        )
        self.hot.on_failure = self._hot_path_failed
        for channel, name, fun in (
            (self.other_topics, "route-others", self.route_others),
            (self.period_shares, "award-periods", self.award_periods),
        ):
            self.app.agent(channel, name=name, concurrency=1)(self._guarded(fun))
        pages.register(self)
        self.app.timer(5.0)(self._measure_lag)
        self.app.on_partitions_assigned.connect(self._assigned)

    def flush_sends(self) -> None:
        """Every forward, share and dead letter produced so far is on the broker,
        or this raises (and the batch is not acknowledged)."""
        self._sends.flush()

    async def _flush(self) -> None:
        await self._in_thread(self.flush_sends)

    def _in_io_and_wait(self, fn: Callable[[], Any]) -> Any:
        """Run a ClickHouse call on the store's one thread from another thread."""
        return self._io.submit(fn).result()

    def start_hot_path(self) -> None:
        """Start consuming the high-rate topics (once faust has started)."""
        self.hot.start()

    def _hot_path_failed(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
            acknowledge_nothing_more(self.app)

    async def _assigned(self, *_: Any, **__: Any) -> None:
        self.metrics.rebalances.inc()

    def _guarded(self, fun: Agent) -> Agent:
        # Bad input never gets here (it is dead-lettered). An agent that crashed on
        # anything else would leave a worker that looks alive but does nothing, so the
        # whole worker stops instead, and its supervisor restarts it from the
        # committed offsets.
        async def guarded(stream: StreamT[bytes]) -> None:
            if self.failure is not None:
                # faust's supervisor restarts a crashed agent at once. Its state
                # may hold a batch that was folded but never written; a batch
                # after it would snapshot and commit past it. Nothing more is
                # folded: the worker is stopping.
                log.warning("agent %s not restarted after a failure", fun)
                return
            try:
                await fun(stream)
            except Exception as exc:
                log.critical("agent %s crashed; stopping the worker: %r", fun, exc)
                self.failure = exc
                acknowledge_nothing_more(self.app)
                raise

        guarded.__name__ = fun.__name__
        guarded.__doc__ = fun.__doc__
        return guarded

    async def in_io(self, fn: Any, *args: Any) -> Any:
        """Run a ClickHouse call on the store's one thread, off the loop."""
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    async def in_read_io(self, fn: Any, *args: Any) -> Any:
        """Run a ClickHouse query on the reader's thread, off the loop."""
        return await asyncio.get_running_loop().run_in_executor(self._reads, fn, *args)

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def _batches(self, stream: StreamT[bytes]) -> Any:
        # faust's stubs do not declare take_events; it is a public Stream method.
        take = stream.take_events  # type: ignore[attr-defined]
        return take(self.settings.batch_size, self.settings.batch_seconds)

    async def _gap(self, record: Record, start: int) -> list[Record]:
        """The messages between a partition's state and ``record``, handled like any
        message, outputs included, rather than trusted to have been handled. A gap
        opens when the partition was away and comes back (another worker had it),
        or when the consumer resumes past the group's committed offset (seen after
        a SIGKILL on Tansu, with faust tables in the app)."""
        if record.offset <= start:
            return []
        log.warning("%s/%d resumed at %d, after its state's offset %d: handling "
                    "the %d messages between", record.topic, record.partition,
                    record.offset, start - 1, record.offset - start)  # fmt: skip
        self.metrics.events.labels(record.topic, "gap").inc(record.offset - start)
        return list(
            await self._in_thread(
                read_gap,
                self.settings.confluent_config(),
                record.topic,
                record.partition,
                start,
                record.offset,
            )
        )

    async def route_others(self, stream: StreamT[bytes]) -> None:
        """Plans, SPIFF windows, targets, the organisation, nominations and adopted
        proposals concern every rep: claimed for every rep, they go to each partition
        of the rep topic, where every rep's world folds them in order with its deals.
        A rep's activity, redemption or confirmed help is claimed for that rep
        (``streams.state.claims``)."""
        async for batch in self._batches(stream):
            with unacknowledged_on_failure(batch):
                await self._route_others(batch)

    async def _route_others(self, batch: list[EventT[bytes]]) -> None:
        for event in batch:
            message = event.message
            value, key = message.value or b"", message.key or b""
            origin = Origin(
                    message.topic, message.partition, message.offset,
                    message.timestamp, key,
                )  # fmt: skip
            try:
                fact = decode_event(value)
                rep_id = destination(fact, message.topic)
                subject = EVERYONE if rep_id == BROADCAST else of_rep(rep_id)
                claim = Claim(fact.event_id, subject, (rep_id,), value, origin)
                claimed = encode_claim(claim)
            except InvalidEvent as exc:
                await self.dead_letter(key, value, origin, exc)
                continue
            except Exception as exc:  # the verdict: internal
                await self.dead_letter(key, value, origin, internal(exc, origin))
                continue
            self.metrics.events.labels(message.topic, "routed").inc()
            self._forwards.produce(
                self._claims_topic,
                key=fact.event_id.encode(),
                value=claimed,
                partition=0,
            )
        await self._flush()

    async def award_periods(self, stream: StreamT[bytes]) -> None:
        """Gather each closing period's shares; when every rep partition's is in,
        make the period awards and write them."""
        async for batch in self._batches(stream):
            with unacknowledged_on_failure(batch):
                lines: list[LedgerLine] = []
                for event in batch:
                    await self._gather(Record.of(event.message), lines)
                await self._write(lines, batch_spans(self._shares_topic, batch))
                await self._flush()

    async def _gather(self, record: Record, lines: list[LedgerLine]) -> None:
        state = self._awarder
        if state is None:
            state = await self._in_thread(
                rebuild_awarder,
                self.settings.confluent_config(),
                self.settings.app_id,
                self._shares_topic,
            )
            self._awarder = state
            self.metrics.rebuilds.labels(self._shares_topic).inc()
        if record.offset > state.applied + 1:
            for missed in await self._gap(record, state.applied + 1):
                await self._gather(missed, lines)
        if record.offset <= state.applied:
            self.metrics.events.labels(record.topic, "replayed").inc()
            return
        report = decode_report(record.value)
        outcome = state.take(report)
        state.applied = record.offset
        self._lag.progress(record)
        if isinstance(outcome, Refused):
            invalid = InvalidEvent(outcome.code, outcome.reason)
            origin = report.origin
            await self.dead_letter(origin.key, report.event, origin, invalid)
        elif outcome is not None:
            lines.extend(outcome.lines)
            _announce(report.share.period, outcome)
        self.metrics.events.labels(record.topic, "gathered").inc()

    async def _write(self, lines: list[LedgerLine], source: tuple[Span, ...]) -> None:
        started = time.perf_counter()
        await self.retries.run_async(
            lambda: self.in_io(write_lines, self.store, lines, source)
        )
        if lines:
            self.metrics.write_latency.observe(time.perf_counter() - started)
            self.metrics.write_rows.observe(len(lines))
            self.changes += 1

    @property
    def stopped_partitions(self) -> list[str]:
        """The partitions stopped by an offset regression, described (the hot
        path's and the agents')."""
        agents = [found.describe() for found in self._lag.stopped.values()]
        return [*self.hot.stopped_partitions, *agents]

    async def _measure_lag(self) -> None:
        self._lag.measure(self.app.consumer)

    async def dead_letter(
        self, key: bytes | None, value: bytes, origin: Origin, exc: InvalidEvent
    ) -> None:
        """Set an event aside with its original bytes (a prefix, its size and its
        digest when it is too large to send), the reason and its origin; on the
        broker by the batch's flush."""
        value, headers = dead_letter_record(
            value,
            code=exc.code,
            detail=exc.detail,
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
        )
        self._forwards.produce(
            topics.DLQ,
            key=key,
            value=value,
            partition=0,
            headers=headers,
        )
        self._forwards.poll(0)
        letter = DeadLetter(origin, key, value, exc.code, exc.detail)
        await self.retries.run_async(lambda: self.in_io(letter.write, self.store))
        self.metrics.dead_letters.labels(exc.code).inc()
        self.changes += 1
        self.metrics.events.labels(origin.topic, "dead_lettered").inc()

    def close(self) -> None:
        self.hot.stop(_STOP_HOT_SECONDS)
        self._sends.close()
        self._io.shutdown(wait=True)
        self._reads.shutdown(wait=True)
        if self.reader is not self.store:
            self.reader.close()
        self.hot.checkpoints.close()


# The hot path finishes or drops its batch in hand within this.
_STOP_HOT_SECONDS = 5.0


def _announce(period: str, awarded: Awarded) -> None:
    """What HR and finance must hear of besides the lines: promotion candidates and
    awards withheld, with the reason."""
    # A late fact's new shares that change nothing: not worth an INFO line.
    level = logging.INFO if awarded.lines else logging.DEBUG
    log.log(level, "period %s awarded: %d lines", period, len(awarded.lines))
    for candidate in awarded.candidates:
        log.info("period %s: promotion candidate %s: %s", period, candidate.rep_id,
                 candidate.formula)  # fmt: skip
    for withheld in awarded.withheld:
        log.warning("period %s: %s withheld for %s: %s", period, withheld.rule,
                    withheld.rep_id or "everyone", withheld.reason)  # fmt: skip
