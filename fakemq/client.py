"""The SDK-shaped clients: :class:`SimpleConsumer` and :class:`Producer`.

Signatures and defaults follow ``rocketmq-python-client`` 5.1: code written against these runs
against the real SDK after changing the import (see ``fakemq/README.md`` for the differences).
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from .exceptions import IllegalArgumentException, IllegalStateException
from .model import (
    MAX_BODY_SIZE,
    TOPIC_PATTERN,
    ClientConfiguration,
    FilterExpression,
    Message,
    SendReceipt,
)
from .transport import broker_for

GROUP_PATTERN = re.compile(r"^[%a-zA-Z0-9_-]+$")
T = TypeVar("T")


class _Client:
    """What consumers and producers share: lifecycle and the SDK's callback threads."""

    _thread_prefix = "fakemq-client"

    def __init__(self, client_configuration: ClientConfiguration) -> None:
        if not isinstance(client_configuration, ClientConfiguration):
            raise IllegalArgumentException("client_configuration must be a ClientConfiguration")
        self.client_configuration = client_configuration
        self._state_lock = threading.Lock()
        self._running = False
        self._stopped = False
        self._executor: ThreadPoolExecutor | None = None
        self._broker: Any = None

    @property
    def is_running(self) -> bool:
        """True between ``startup()`` and ``shutdown()``."""
        return self._running

    def startup(self) -> None:
        """Connect to the broker. A client cannot be started again after ``shutdown()``."""
        with self._state_lock:
            if self._running:
                raise IllegalStateException(f"{self} is already running")
            if self._stopped:
                raise IllegalStateException(f"{self} was shut down and cannot be restarted")
            config = self.client_configuration
            self._broker = broker_for(config.endpoints, config.request_timeout)
            # The real SDK resolves futures on its own worker threads, never the caller's.
            self._executor = ThreadPoolExecutor(
                max_workers=32, thread_name_prefix=self._thread_prefix
            )
            self._running = True

    def shutdown(self) -> None:
        """Stop the client. Calls still running finish; new calls raise IllegalStateException."""
        with self._state_lock:
            if not self._running:
                return  # the SDK logs a warning and returns
            self._running = False
            self._stopped = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)

    def _check_running(self) -> None:
        if not self._running:
            state = "was shut down" if self._stopped else "is not started: call startup() first"
            raise IllegalStateException(f"{type(self).__name__} {state}")

    def _submit(self, call: Callable[[], T]) -> Future[T]:
        """Run ``call`` on an SDK thread; the returned future is completed from that thread.

        Like the SDK's, the future is never marked running: cancelling it "succeeds" but the
        call goes on, and its result (a received batch, say) is dropped.
        """
        self._check_running()
        future: Future[T] = Future()

        def run() -> None:
            try:
                result = call()
            except BaseException as error:
                if not future.cancelled():
                    future.set_exception(error)
                return
            if not future.cancelled():
                future.set_result(result)

        executor = self._executor
        if executor is None:
            raise IllegalStateException(f"{type(self).__name__} was shut down")
        executor.submit(run)
        return future

    def __enter__(self):
        self.startup()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


class SimpleConsumer(_Client):
    """A pull consumer: ``receive`` leases messages, ``ack`` settles them.

    ``receive`` blocks the calling thread for up to ``await_duration`` seconds when nothing is
    ready (long polling). ``subscription`` is ``{topic: FilterExpression}``.
    """

    _thread_prefix = "fakemq-consumer-callback"

    def __init__(
        self,
        client_configuration: ClientConfiguration,
        consumer_group: str,
        subscription: dict[str, FilterExpression] | None = None,
        await_duration: float = 20,
        tls_enable: bool = False,
    ) -> None:
        super().__init__(client_configuration)
        if await_duration is None:
            raise IllegalArgumentException("awaitDuration should not be null")
        if not consumer_group or not GROUP_PATTERN.match(consumer_group):
            raise IllegalArgumentException(
                f"consumer_group {consumer_group!r} does not match {GROUP_PATTERN.pattern}"
            )
        self.consumer_group = consumer_group
        self.await_duration = await_duration
        self._subscriptions: dict[str, FilterExpression] = {}
        for topic, expression in (subscription or {}).items():
            self._subscriptions[topic] = expression or FilterExpression()

    def __repr__(self) -> str:
        return f"SimpleConsumer(group={self.consumer_group!r})"

    @property
    def subscriptions(self) -> dict[str, FilterExpression]:
        """The topics this consumer receives from, with their filters."""
        return dict(self._subscriptions)

    def subscribe(self, topic: str, filter_expression: FilterExpression | None = None) -> None:
        """Add ``topic`` (or replace its filter). Needs a running consumer."""
        self._check_running()
        if not topic or not TOPIC_PATTERN.match(topic):
            # The SDK raises IllegalStateException here, not IllegalArgumentException.
            raise IllegalStateException(
                f"unable to add subscription because topic name {topic!r} is invalid"
            )
        self._subscriptions[topic] = filter_expression or FilterExpression()

    def unsubscribe(self, topic: str) -> None:
        """Stop receiving from ``topic``. Needs a running consumer.

        Unlike the SDK (which ignores it), unsubscribing from a topic this consumer is not
        subscribed to raises ``IllegalArgumentException``: it is almost always a typo.
        """
        self._check_running()
        if self._subscriptions.pop(topic, None) is None:
            raise IllegalArgumentException(f"not subscribed to topic {topic!r}")

    def receive(self, max_message_num: int, invisible_duration: float) -> list[Message]:
        """Lease up to ``max_message_num`` messages. Blocks up to ``await_duration`` seconds."""
        self._check_receive(max_message_num)
        # A snapshot: another thread may subscribe or unsubscribe meanwhile.
        subscriptions = {t: f.expression for t, f in self.subscriptions.items()}
        records = self._broker.receive(
            self.consumer_group,
            subscriptions,
            max_message_num,
            invisible_duration,
            self.await_duration,
            self.client_configuration.request_timeout,
        )
        return [Message.from_delivery(record) for record in records]

    def receive_async(
        self, max_message_num: int, invisible_duration: float
    ) -> Future[list[Message]]:
        """Like ``receive``, but returns a ``concurrent.futures.Future`` at once.

        The future is resolved on an SDK thread. ``await asyncio.wrap_future(future)`` waits for
        it without holding a thread.
        """
        self._check_receive(max_message_num)
        return self._submit(lambda: self.receive(max_message_num, invisible_duration))

    def ack(self, message: Message) -> None:
        """Settle ``message``: the group will not get it again. Blocks the calling thread.

        Raises ``BadRequestException`` (code 40013) when the receipt handle is stale: the
        invisible duration ran out, or a newer handle replaced it.
        """
        self._check_running()
        self._broker.ack(
            self.consumer_group,
            _topic_of(message),
            _handle_of(message),
            self.client_configuration.request_timeout,
        )

    def ack_async(self, message: Message) -> Future[None]:
        """Ack on an SDK thread; returns a future (the real 5.1.x SDK returns None)."""
        return self._submit(lambda: self.ack(message))

    def change_invisible_duration(self, message: Message, invisible_duration: float) -> None:
        """Keep ``message`` invisible for ``invisible_duration`` more seconds, counted from now.

        Replaces ``message.receipt_handle`` with the broker's new handle.
        """
        self._check_running()
        message.receipt_handle = self._broker.change_invisible_duration(
            self.consumer_group,
            _topic_of(message),
            _handle_of(message),
            invisible_duration,
            self.client_configuration.request_timeout,
        )

    def change_invisible_duration_async(
        self, message: Message, invisible_duration: float
    ) -> Future[None]:
        """``change_invisible_duration`` on an SDK thread, returning a future."""
        return self._submit(lambda: self.change_invisible_duration(message, invisible_duration))

    def _check_receive(self, max_message_num: int) -> None:
        """The checks the SDK makes before sending (an invalid ``invisible_duration`` is
        refused by the broker: ``BadRequestException`` code 40011)."""
        self._check_running()
        if not self._subscriptions:
            raise IllegalArgumentException("There is no topic to receive message")
        if not isinstance(max_message_num, int) or max_message_num <= 0:
            raise IllegalArgumentException("max_message_num must be greater than 0")


class Producer(_Client):
    """Sends messages. ``topics`` is informational, as in the SDK (routes are prefetched)."""

    _thread_prefix = "fakemq-producer-callback"

    def __init__(
        self,
        client_configuration: ClientConfiguration,
        topics: list[str] | tuple[str, ...] | None = None,
        checker: Any = None,
        tls_enable: bool = False,
    ) -> None:
        super().__init__(client_configuration)
        self.topics = tuple(topics or ())
        self._host = socket.gethostname()

    def __repr__(self) -> str:
        return f"Producer(topics={list(self.topics)!r})"

    def send(self, message: Message, transaction: Any = None) -> SendReceipt:
        """Store ``message`` on the broker. Blocks the calling thread; returns the receipt."""
        self._check_running()
        if not isinstance(message, Message):
            raise IllegalArgumentException("send takes a fakemq.Message")
        if message.topic is None:
            raise IllegalArgumentException("topic has not been set yet.")
        if not message.body:
            raise IllegalArgumentException("body should not be blank.")
        if len(message.body) > MAX_BODY_SIZE:
            raise IllegalArgumentException(
                f"Message body size exceeds the threshold, max size={MAX_BODY_SIZE} bytes"
            )
        record = message.to_record()
        record["born_host"] = self._host
        result = self._broker.send(record, self.client_configuration.request_timeout)
        message.message_id = result["message_id"]
        return SendReceipt(result["message_id"], offset=result["offset"])

    def send_async(self, message: Message) -> Future[SendReceipt]:
        """``send`` on an SDK thread; returns a ``concurrent.futures.Future[SendReceipt]``."""
        return self._submit(lambda: self.send(message))


def _topic_of(message: Message) -> str:
    if not isinstance(message, Message) or not message.topic:
        raise IllegalArgumentException("expected a received fakemq.Message")
    return message.topic


def _handle_of(message: Message) -> str:
    if not message.receipt_handle:
        raise IllegalArgumentException("message has no receipt handle: was it received?")
    return message.receipt_handle
