"""The worker's sends: forwards, period shares and dead letters go through one
confluent-kafka producer, and a batch is acknowledged only once they are confirmed.

A partition's log only grows: every offset the broker acknowledges for it is above
the last one it acknowledged. One at or below it means the broker lost writes it had
acknowledged (an embedded broker stopped mid-write, a topic recreated), and what the
worker's state says it sent is no longer in the log. That is an offset regression
(README, "Offset regression"): the flush fails, the batch stays unacknowledged, and
the worker stops rather than go on from a state the log no longer holds."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, Message, Producer

_FLUSH_SECONDS = 30.0
# At close, what the broker has not confirmed by then is dropped: its batch was never
# acknowledged, so the next worker sends it again.
_CLOSE_SECONDS = 5.0


class SendFailed(RuntimeError):
    """The broker did not confirm a batch's forwards, shares or dead letters."""


class LogMovedBack(SendFailed):
    """The broker acknowledged an offset it had acknowledged before."""


class Sends:
    """The producer, and the first error the broker reported of what it sent."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.producer = Producer(
            {
                **config,
                "client.id": "quotaflow-sends",
                "linger.ms": 5,
                "acks": "all",
                "on_delivery": self._delivered,
            }
        )
        self._send_error: KafkaError | None = None
        # The highest offset acknowledged of each (topic, partition) sent to.
        self._acknowledged: dict[tuple[str, int], int] = {}
        self._moved_back: str | None = None

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            if self._send_error is None:
                self._send_error = error
            return
        where = (message.topic() or "", message.partition() or 0)
        offset = message.offset()
        if offset is None or offset < 0:
            return
        last = self._acknowledged.get(where, -1)
        if offset > last:
            self._acknowledged[where] = offset
        elif self._moved_back is None:
            self._moved_back = (
                f"offset regression on {where[0]}/{where[1]}: the broker acknowledged "
                f"offset {offset} after acknowledging offset {last}, so it lost writes "
                "it had acknowledged; the worker stops (see the README's runbook, "
                '"Offset regression")'
            )

    def flush(self) -> None:
        """Every forward, share and dead letter produced so far is on the broker,
        or this raises (and the batch is not acknowledged)."""
        remaining = self.producer.flush(_FLUSH_SECONDS)
        if self._moved_back is not None:
            raise LogMovedBack(self._moved_back)
        if self._send_error is not None or remaining:
            msg = f"sends not confirmed: {remaining} waiting, error {self._send_error}"
            raise SendFailed(msg)

    def close(self) -> None:
        """Stop the producer and its threads (they would otherwise go on trying to
        reach a broker that stopped, until the process exits)."""
        self.producer.flush(_CLOSE_SECONDS)
        self.producer.purge()
        self.producer.close()
