"""The worker's sends: forwards, period shares and dead letters go through one
confluent-kafka producer, and a batch is acknowledged only once they are confirmed."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, Message, Producer

_FLUSH_SECONDS = 30.0
# At close, what the broker has not confirmed by then is dropped: its batch was never
# acknowledged, so the next worker sends it again.
_CLOSE_SECONDS = 5.0


class SendFailed(RuntimeError):
    """The broker did not confirm a batch's forwards, shares or dead letters."""


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

    def _delivered(self, error: KafkaError | None, _message: Message) -> None:
        if error is not None and self._send_error is None:
            self._send_error = error

    def flush(self) -> None:
        """Every forward, share and dead letter produced so far is on the broker,
        or this raises (and the batch is not acknowledged)."""
        remaining = self.producer.flush(_FLUSH_SECONDS)
        if self._send_error is not None or remaining:
            msg = f"sends not confirmed: {remaining} waiting, error {self._send_error}"
            raise SendFailed(msg)

    def close(self) -> None:
        """Stop the producer and its threads (they would otherwise go on trying to
        reach a broker that stopped, until the process exits)."""
        self.producer.flush(_CLOSE_SECONDS)
        self.producer.purge()
        self.producer.close()
