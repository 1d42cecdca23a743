"""The high-rate path's consumer: batches of thousands, out of faust's message loop.

faust's agent loop costs about 100 µs a message before any work is done. The topics
that carry every deal, payment and score (``deals``, ``payments``, ``satisfaction``),
the claims topic where each event's id is decided (``streams.state.claims``) and the
rep topic events go on to are therefore read by one confluent-kafka consumer on a
thread of its own, in batches (``consume(num_messages=batch_size)``).
It is a member of its own consumer group, ``<app>-hot``, so Kafka's group protocol
still moves these partitions between workers on a rebalance; the range assignor
keeps partition *n* of the three deal-keyed topics on one worker, as their router
needs. faust keeps the rest of the worker: the web server, timers, and the agents of
the low-rate topics (plans, targets, org, activities, control, period shares).

Each take of messages is handled at once:
1. every message gets its verdict (``streams.hot.stages``): routed, passed on,
   folded, refused or dead-lettered, in the order the partitions delivered them;
2. the forwards and dead letters it sent are confirmed by the broker, so the next
   stage of an event (claim, fold) can take it in the very next take.
The takes' rows wait in one batch, settled soon after (``streams.hot.takes``).
Settling it, money is never acknowledged ahead of what was applied:
3. its customer histories and period shares are sent to the partitions and
   confirmed (once a batch, ``streams.hot.stages``), then its ledger lines, views
   and dead-letter rows are written to ClickHouse (one insert per table,
   idempotent through deduplication tokens);
4. each partition whose checkpoint is older than ``snapshot_seconds`` writes the
   entries that changed, with the offsets they reflect (``streams.hot.rounds``),
   never while rows are waiting;
5. the batch's offsets are committed.
A failure at any step stops the worker before step 5: the batch is read again by the
next owner and gives the same rows. A stop request in the middle of a take drops
the batch the same way; between takes, a stop or a rebalance settles it first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from domain.plan import Plan
from projections.deadletters import write_dead_letters
from projections.ledger import write_lines
from projections.store import Store
from projections.writer import spans
from streams.hot.commits import commit, committed_by, consumer_error
from streams.hot.lag import HotLag
from streams.hot.rounds import CLAIMS, ROUTES, WORLDS, Rounds
from streams.hot.stages import Batch, Stages
from streams.hot.takes import Pending, take
from streams.infra import topics
from streams.infra.metrics import Metrics
from streams.infra.retry import WriteRetries
from streams.infra.settings import Settings
from streams.log.history import LARGE_FETCH, Record, read_gap
from streams.state.checkpoints import Checkpoints
from streams.state.claims import Claims
from streams.state.partitions import RepPartition
from streams.state.recovery import (
    RouterPartition,
    rebuild_claims,
    rebuild_reps,
    rebuild_router,
)

log = logging.getLogger(__name__)
# Runs a ClickHouse call on the store's one thread and returns its result.
InIO = Callable[[Callable[[], Any]], Any]


def hot_group(app_id: str) -> str:
    """The consumer group of the high-rate topics."""
    return f"{app_id}-hot"


class Stopped(Exception):
    """The worker is stopping: the batch in hand is dropped, unacknowledged."""


class HotPath:
    """The consumer thread of the high-rate topics."""

    def __init__(  # noqa: PLR0913, PLR0917 - the hot path's collaborators, wired once
        self,
        settings: Settings,
        plan: Plan,
        store: Store,
        metrics: Metrics,
        in_io: InIO,
        flush: Callable[[], None],
        checkpoints: Checkpoints,
        retries: WriteRetries,
    ) -> None:
        self._settings = settings
        self._plan = plan
        self._store = store
        self._metrics = metrics
        self._in_io = in_io
        self._flush = flush
        self.checkpoints = checkpoints
        self.group = hot_group(settings.app_id)
        self._config = settings.confluent_config()
        self.rep_topic = topics.rep_deals_topic(settings.app_id)
        self.claims_topic = topics.claims_topic(settings.app_id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quotaflow-hot")
        self._thread.daemon = True
        self._lag = HotLag(self._config, self.group, metrics)
        self.retries = retries
        # False while a take is handled or a batch settled: the batch is not whole.
        self._between_batches = True
        self._pending = Pending(settings.write_seconds)
        self.failure: BaseException | None = None
        # Moves with every batch that wrote to ClickHouse (the board polls it).
        self.changes = 0
        self.on_failure: Callable[[BaseException], None] = lambda _: None
        # Whether the consumer has its partitions and has handled a batch or idled.
        self.assigned = threading.Event()
        self.stages = Stages(
            checkpoints.producer,
            metrics,
            self.rep_topic,
            self.claims_topic,
            topics.period_shares_topic(settings.app_id),
            settings.topic_partitions,
            self._rebuild_router,
            self._rebuild_claims,
            self._rebuild_reps,
            self._gap,
        )
        self.rounds = Rounds(
            checkpoints, self.stages, metrics, settings.snapshot_seconds, flush
        )

    @property
    def stopped_partitions(self) -> list[str]:
        """The partitions stopped by an offset regression, described."""
        return [found.describe() for found in self.stages.stopped.values()]

    def start(self) -> None:
        self._thread.start()
        self._lag.processed = self.stages.processed
        self._lag.applied_of = self.stages.applied_of
        self._lag.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._lag.stop()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        static = self._settings.instance_id
        consumer = Consumer(
            {
                **self._config,
                **LARGE_FETCH,
                **({"group.instance.id": static} if static else {}),
                "group.id": self.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "partition.assignment.strategy": "range",
                "session.timeout.ms": 10_000,
                "heartbeat.interval.ms": 1_000,
                # A caught-up consumer waits for data at the broker, not in a loop.
                "fetch.wait.max.ms": 100,
                # Prefetch about a batch a partition, not librdkafka's 100,000
                # (a partition with that many waiting is not fetched, looked at
                # again every 100 ms): with the default, noida-db kept the client
                # busy on the fold's cores (a slow consumer of 30,000 waiting:
                # 16.8 s of CPU against 1.9 s).
                "queued.min.messages": self._settings.batch_size,
                "fetch.queue.backoff.ms": 100,
            }
        )
        self._committed = committed_by(consumer)
        try:
            consumer.subscribe(
                [*topics.DEAL_KEYED, self.claims_topic, self.rep_topic],
                on_assign=self._assigned,
                on_revoke=self._revoked,
                on_lost=self._lost,
            )
            settings, pending = self._settings, self._pending
            while not self._stop.is_set():
                size, wait = settings.batch_size, settings.batch_seconds
                at_once = pending.batch is not None  # nothing waiting: settle first
                messages = take(consumer, size, wait, at_once=at_once)
                if messages:
                    self._handle(messages)
                if pending.batch is not None and (not messages or pending.due()):
                    self._settle(consumer)
                self._stop_regressed(consumer)
                if pending.batch is None:
                    self.rounds.run(due_only=True)
                self._lag.assignment = consumer.assignment()
            self._settle(consumer)
        except Stopped:
            log.info("hot path stopped; the batch in hand stays unacknowledged")
        except BaseException as exc:
            log.critical("the hot path failed; stopping the worker: %r", exc,
                         exc_info=exc)  # fmt: skip
            self.failure = exc
            self.on_failure(exc)
        finally:
            try:
                consumer.close()
            except Exception as exc:  # the group notices the member went away
                log.warning("hot path consumer did not close cleanly: %r", exc)

    def _handle(self, messages: list[Any]) -> None:
        """The take's verdicts, and its sends confirmed; its rows join the pending
        batch. A take after the stop is left unhandled: the stop settles before it."""
        if self._stop.is_set():
            return
        batch = self._pending.joined()
        self._between_batches = False
        stages = self.stages
        for message in messages:
            if self._stop.is_set():
                raise Stopped
            error = message.error()
            if error is not None:
                consumer_error(error)
                continue
            stamp = message.timestamp()[1] / 1000
            record = Record(
                message.topic(),
                message.partition(),
                message.offset(),
                stamp,
                message.key() or b"",
                message.value() or b"",
            )
            stages.handle(record, batch)
        self._flush()
        self._between_batches = True

    def _settle(self, consumer: Consumer) -> None:
        """The pending batch's sends and rows written, the checkpoints that are
        due, then its offsets committed. One that fails leaves the batch unsettled
        and no round after it."""
        batch = self._pending.taken()
        if batch is None:
            return
        self._between_batches = False
        # Once a batch: ``CustomerSeen`` by the hundred, a period's share once.
        self.stages.send_customers()
        self.stages.share_again()
        self._flush()
        self._write(batch)
        self.rounds.run(due_only=True)
        if batch.last:
            offsets = [
                TopicPartition(topic, partition, offset + 1)
                for (topic, partition), offset in sorted(batch.last.items())
            ]
            commit(consumer, offsets)
        if batch.rep_offsets or batch.dead:
            self.changes += 1
        self._count(batch)
        self._between_batches = True

    def _written(self, write: Callable[[], Any]) -> Any:
        """A ClickHouse write on the store's thread, retried with backoff while
        it fails (``streams.infra.retry``); a stop request drops the batch."""
        try:
            return self.retries.run(lambda: self._in_io(write), self._stop)
        except Exception:
            if self._stop.is_set():
                raise Stopped from None
            raise

    def _stop_regressed(self, consumer: Consumer) -> None:
        """Pause each partition whose log moved back under what was applied (found
        by the lag thread or by the stages) and raise the alert metric."""
        while not self._lag.found.empty():
            self.stages.regress(self._lag.found.get())
        found, self.stages.regressions = self.stages.regressions, []
        for regression in found:
            self._metrics.offset_regressions.labels(
                regression.topic, str(regression.partition)
            ).inc()
            consumer.pause([TopicPartition(regression.topic, regression.partition)])

    def _write(self, batch: Batch) -> None:
        """The batch's rows on the read side: lines first, then the views."""
        source = spans(self.rep_topic, batch.rep_offsets)
        lines = batch.folded.lines
        if lines:
            started = time.perf_counter()
            self._written(partial(write_lines, self._store, lines, source))
            self._metrics.write_latency.observe(time.perf_counter() - started)
            self._metrics.write_rows.observe(len(lines))
        partitions = {partition for partition, _ in batch.rep_offsets}
        heat = {
            partition: state.heat.take()
            for partition in partitions
            if (state := self.stages.reps.get(partition)) is not None
        }
        if batch.rep_offsets:
            write_views = partial(batch.folded.write_views, self._store, heat, source)
            self._written(write_views)
        if batch.dead:
            letters = [dead.row() for dead in batch.dead]
            self._written(partial(write_dead_letters, self._store, letters))

    def _count(self, batch: Batch) -> None:
        metrics = self._metrics
        for (topic, outcome), count in batch.outcomes.items():
            metrics.events.labels(topic, outcome).inc(count)
        for (kind, outcome), count in batch.folds.items():
            metrics.folded.labels(kind, outcome).inc(count)
        for dead in batch.dead:
            metrics.dead_letters.labels(dead.reason).inc()
        for seconds in batch.fold_seconds:
            metrics.fold_latency.observe(seconds)
        now = time.time()
        for arrived in batch.arrivals:
            metrics.processing_latency.observe(max(0.0, now - arrived))

    def _assigned(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._metrics.rebalances.inc()
        log.info("hot path assigned %s", _names(partitions))
        self.assigned.set()

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The pending batch is settled, so every take handled so far is written and
        committed; the leaving partitions checkpoint what changed, so their next
        owner reads less."""
        log.info("hot path revoked %s", _names(partitions))
        if self.failure is None and self._between_batches:
            self._settle(consumer)
            self.rounds.run(due_only=False)
        for tp in partitions:
            self.stages.drop(tp.topic, tp.partition)

    def _lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("hot path lost %s", _names(partitions))
        for tp in partitions:
            self.stages.drop(tp.topic, tp.partition)

    def _rebuild_router(self, partition: int) -> RouterPartition:
        entries = self.checkpoints.load(partition, ROUTES)
        state = rebuild_router(
            self._config,
            self._committed,
            topics.DEAL_KEYED,
            partition,
            entries,
            self._metrics.rebuild_messages.labels,
        )
        self._metrics.rebuilds.labels(topics.DEALS).inc()
        return state

    def _rebuild_claims(self) -> Claims:
        state = rebuild_claims(
            self._config,
            self._committed,
            self.claims_topic,
            self.checkpoints.load(0, CLAIMS),
            self._metrics.rebuild_messages.labels,
        )
        self._metrics.rebuilds.labels(self.claims_topic).inc()
        return state

    def _rebuild_reps(self, partition: int) -> RepPartition:
        entries = self.checkpoints.load(partition, WORLDS)
        state = rebuild_reps(
            self._config,
            self._committed,
            self.rep_topic,
            partition,
            (self._plan,),
            self._settings.topic_partitions,
            entries,
            self._metrics.rebuild_messages.labels,
        )
        self._metrics.rebuilds.labels(self.rep_topic).inc()
        return state

    def _gap(self, record: Record, start: int) -> list[Record]:
        """The messages between a partition's state and ``record``, handled like any
        message, outputs included, rather than trusted to have been handled (the
        consumer resumed past the group's committed offset)."""
        log.warning("%s/%d resumed at %d, after its state's offset %d: handling "
                    "the %d messages between", record.topic, record.partition,
                    record.offset, start - 1, record.offset - start)  # fmt: skip
        self._metrics.events.labels(record.topic, "gap").inc(record.offset - start)
        return read_gap(
            self._config, record.topic, record.partition, start, record.offset
        )


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}/{tp.partition}" for tp in partitions) or "nothing"
