"""Scenarios: reproducible situations measured against any stage.

Each scenario module has an async ``run(impl, ...)`` that builds the stage's app on a fresh
in-memory broker, drives it, and returns a dataclass of measured figures with a ``healthy``
verdict (the problem is absent) and a ``broken`` verdict (the problem is clearly present).
Tests assert on these; ``course matrix`` prints them for every stage.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from fakemq import ClientConfiguration, Credentials, Message, Producer

from ..impl import Impl


@dataclass(frozen=True)
class Endpoints:
    """A fresh in-memory broker and email service, private to one scenario run."""

    mq: str
    email: str

    @classmethod
    def fresh(cls) -> Endpoints:
        name = uuid.uuid4().hex[:12]
        return cls(mq=f"memory://scenario-{name}", email=f"memory://scenario-{name}")


def make_app(impl: Impl, endpoints: Endpoints, **settings: Any) -> Any:
    """The stage's app with settings overridden (only those the stage knows are passed)."""
    settings_cls = impl.get("settings", "Settings")
    known = settings_cls.__dataclass_fields__
    values = {"mq_endpoints": endpoints.mq, "email_endpoint": endpoints.email, **settings}
    accepted = {name: value for name, value in values.items() if name in known}
    return impl.get("app", "create_app")(settings_cls(**accepted))


def polling_app(impl: Impl, endpoints: Endpoints, await_duration: float) -> Any:
    """The stage's app set up to long-poll an empty topic for ``await_duration`` seconds.

    Heartbeats are rare and the model loads at once, so the long poll is all that happens.
    """
    return make_app(
        impl,
        endpoints,
        await_duration=await_duration,
        heartbeat_seconds=1.0,
        model_load_seconds=0.01,
        poll_interval=0.05,
    )


def has_consumer(impl: Impl) -> bool:
    """True if the stage consumes messages at all (stage 03 on)."""
    return (impl.path / "consumer.py").exists()


def email_job(number: int) -> bytes:
    """The body of one message of the running example."""
    job = {
        "order_id": f"order-{number}",
        "to": f"customer{number}@example.com",
        "subject": f"Your order {number}",
        "body": "Thanks for your order.",
    }
    return json.dumps(job).encode()


def publish(endpoints: Endpoints, count: int, topic: str = "email", start: int = 0) -> None:
    """Publish ``count`` email jobs to ``topic`` (blocking; call from a thread or before start)."""
    producer = Producer(ClientConfiguration(endpoints.mq, Credentials()))
    producer.startup()
    try:
        for number in range(start, start + count):
            message = Message()
            message.topic = topic
            message.body = email_job(number)
            producer.send(message)
    finally:
        producer.shutdown()


async def wait_until(predicate: Any, within: float, interval: float = 0.01) -> bool:
    """Poll ``predicate()`` until it is true or ``within`` seconds pass; returns the last value."""
    import asyncio
    import time

    deadline = time.monotonic() + within
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        await asyncio.sleep(interval)
