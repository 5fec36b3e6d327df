"""Fixtures of the fakemq suite: every test runs against both broker modes.

- ``memory``: a fresh in-process broker, ``memory://<uuid>``.
- ``http``: the session's ``python -m fakemq serve`` subprocess (``fakemq_server`` in
  ``tests/conftest.py``), reset before and after each test; names are unique per test.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from fakemq import (
    BrokerAdmin,
    ClientConfiguration,
    Credentials,
    EmailProvider,
    FilterExpression,
    Message,
    Producer,
    SendReceipt,
    SimpleConsumer,
    drop_memory_broker,
)

MODES = ["memory", "http"]


@pytest.fixture(params=MODES)
def endpoints(request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the broker (and the email service) of this test lives, in each mode."""
    if request.param == "memory":
        name = f"test-{uuid.uuid4().hex}"
        yield f"memory://{name}"
        drop_memory_broker(name)
        return
    url = request.getfixturevalue("fakemq_server").url
    _reset_served(url)
    yield url
    _reset_served(url)  # a paused broker or a hung email call must not leak into the next test


def _reset_served(url: str) -> None:
    BrokerAdmin(url).reset()
    EmailProvider(url).reset()


class MQ:
    """Clients on one broker for one test, with unique topic and group names.

    Everything it starts is shut down at the end of the test.
    """

    def __init__(self, endpoints: str) -> None:
        self.endpoints = endpoints
        suffix = uuid.uuid4().hex[:8]
        self.topic = f"topic-{suffix}"
        self.group = f"group-{suffix}"
        self.admin = BrokerAdmin(endpoints)
        self._clients: list[Producer | SimpleConsumer] = []
        self._producer: Producer | None = None

    def config(self, request_timeout: float = 3) -> ClientConfiguration:
        """A configuration for this test's broker."""
        return ClientConfiguration(self.endpoints, Credentials(), request_timeout=request_timeout)

    def producer(self, request_timeout: float = 3) -> Producer:
        """A started producer."""
        producer = Producer(self.config(request_timeout))
        producer.startup()
        self._clients.append(producer)
        return producer

    def consumer(
        self,
        group: str | None = None,
        subscription: dict[str, FilterExpression] | None = None,
        await_duration: float = 0.2,
        start: bool = True,
        request_timeout: float = 3,
    ) -> SimpleConsumer:
        """A consumer of this test's topic (started unless ``start=False``)."""
        if subscription is None:
            subscription = {self.topic: FilterExpression()}
        consumer = SimpleConsumer(
            self.config(request_timeout),
            group or self.group,
            subscription,
            await_duration=await_duration,
        )
        if start:
            consumer.startup()
        self._clients.append(consumer)
        return consumer

    def send(
        self, body: bytes = b"hello", tag: str | None = None, topic: str | None = None
    ) -> SendReceipt:
        """Publish one message with the test's shared producer."""
        if self._producer is None:
            self._producer = self.producer()
        return self._producer.send(self.message(topic or self.topic, body, tag))

    def group_stats(self, group: str | None = None, topic: str | None = None) -> dict[str, int]:
        """The broker's counts for a group on a topic (this test's by default)."""
        return self.admin.group_stats(group or self.group, topic or self.topic)

    @staticmethod
    def message(topic: str, body: bytes = b"hello", tag: str | None = None) -> Message:
        """A message ready to send."""
        built = Message()
        built.topic = topic
        built.body = body
        if tag is not None:
            built.tag = tag
        return built

    @staticmethod
    def elapsed(started: float) -> float:
        """Seconds since ``started`` (a ``time.monotonic()`` value)."""
        return time.monotonic() - started

    @staticmethod
    def in_thread(target: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
        """Run ``target`` in a daemon thread; the dict gets its ``result`` or ``error``."""
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                outcome["result"] = target()
            except BaseException as error:
                outcome["error"] = error

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread, outcome

    @staticmethod
    def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``condition`` every 10 ms until it is true or ``timeout`` s pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.01)
        return condition()

    def close(self) -> None:
        for client in self._clients:
            client.shutdown()


@pytest.fixture
def mq(endpoints: str) -> Iterator[MQ]:
    """Clients on a fresh broker (see :class:`MQ`)."""
    helper = MQ(endpoints)
    yield helper
    helper.close()
