"""Introspection and fault injection for tests, demos and drills (not part of the real SDK)."""

from __future__ import annotations

from typing import Any

from .broker import DLQ_PREFIX
from .transport import broker_for


class BrokerAdmin:
    """Look inside a broker and turn its fault knobs, in either mode.

    >>> admin = BrokerAdmin("memory://demo")
    >>> admin.set_faults(receive_latency=0.2)["receive_latency"]
    0.2
    """

    def __init__(self, endpoints: str = "memory://default", request_timeout: float = 3.0) -> None:
        self.endpoints = endpoints
        self._broker = broker_for(endpoints, request_timeout)

    def stats(self) -> dict[str, Any]:
        """``{"topics": {topic: {"messages"}}, "groups": {group: {topic: counts}}, "faults"}``.

        Per group and topic: ``ready``, ``in_flight``, ``acked``, ``dlq``, ``deliveries``,
        ``redeliveries``, ``expired``, ``rejected_acks``, ``filtered``.
        """
        return self._broker.stats()

    def group_stats(self, group: str, topic: str) -> dict[str, int]:
        """The counts of one group on one topic (zeros if the group never received from it)."""
        counts = self.stats()["groups"].get(group, {}).get(topic)
        if counts is None:
            keys = ("ready", "in_flight", "acked", "dlq", "deliveries", "redeliveries")
            keys += ("expired", "rejected_acks", "filtered")
            return dict.fromkeys(keys, 0)
        return counts

    def messages(self, topic: str) -> list[dict[str, Any]]:
        """Every message stored in ``topic``, oldest first."""
        return self._broker.messages(topic)

    def dlq_messages(self, group: str) -> list[dict[str, Any]]:
        """The messages that ``group`` dead-lettered (topic ``%DLQ%{group}``)."""
        return self._broker.messages(f"{DLQ_PREFIX}{group}")

    def purge(self, topic: str | None = None) -> None:
        """Drop the messages of ``topic`` (all topics if None) and the groups' state of them."""
        self._broker.purge(topic)

    def set_faults(self, **knobs: Any) -> dict[str, Any]:
        """Set ``receive_latency``, ``ack_latency``, ``send_latency`` (seconds),
        ``receive_error_rate``, ``ack_error_rate``, ``send_error_rate`` (0..1), ``paused``."""
        return self._broker.set_faults(**knobs)

    def pause(self) -> None:
        """Stall the broker: receives return nothing, sends and acks wait, until ``resume()``."""
        self._broker.set_faults(paused=True)

    def resume(self) -> None:
        """Undo ``pause()``."""
        self._broker.set_faults(paused=False)

    def set_max_delivery_attempts(self, group: str, attempts: int) -> None:
        """Deliveries before a message of ``group`` goes to ``%DLQ%{group}`` (default 17)."""
        self._broker.set_max_delivery_attempts(group, attempts)

    def reset(self) -> None:
        """Purge everything and clear every knob."""
        self._broker.reset()
