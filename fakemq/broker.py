"""The broker itself: topics, consumer groups, leases, redelivery, dead letters, fault knobs.

One :class:`Broker` holds all state behind one lock. Clients reach it directly
(``memory://NAME``, see :func:`memory_broker`) or through ``python -m fakemq serve``
(``http://HOST:PORT``); both paths call the same methods, so both modes behave alike.

The rules follow RocketMQ 5's simple-consumer ("pop") semantics:

- Every consumer group gets every message of the topics it subscribes to; within a group,
  a ready message goes to exactly one receiver.
- A received message stays invisible for ``invisible_duration`` seconds. Not acked by then,
  it is delivered again with ``delivery_attempt + 1`` and a new receipt handle; its
  ``message_id`` does not change.
- A receipt handle is valid only while it is the message's latest and the message is still
  invisible; otherwise ``ack`` and ``change_invisible_duration`` raise
  ``BadRequestException`` with code 40013.
- A message that would be delivered more than the group's ``max_delivery_attempts`` times
  goes to the topic ``%DLQ%{group}`` instead.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .exceptions import (
    ILLEGAL_INVISIBLE_TIME,
    INTERNAL_ERROR,
    INVALID_RECEIPT_HANDLE,
    PROXY_TIMEOUT,
    BadRequestException,
    IllegalArgumentException,
    InternalErrorException,
    ProxyTimeoutException,
)
from .model import TOPIC_PATTERN, tag_set

DEFAULT_MAX_DELIVERY_ATTEMPTS = 17  # RocketMQ: 16 retries after the first delivery
DLQ_PREFIX = "%DLQ%"
MAX_INVISIBLE_DURATION = 12 * 3600  # seconds, as on the real broker


@dataclass
class Faults:
    """Fault knobs. Latencies are seconds added to each call; rates are 0..1 probabilities."""

    receive_latency: float = 0.0
    ack_latency: float = 0.0
    send_latency: float = 0.0
    receive_error_rate: float = 0.0
    ack_error_rate: float = 0.0
    send_error_rate: float = 0.0
    paused: bool = False

    @classmethod
    def names(cls) -> set[str]:
        """The knob names."""
        return {f.name for f in fields(cls)}

    def any_set(self) -> bool:
        """True if some knob differs from its default (calls then need the slow path)."""
        return self != Faults()


@dataclass
class _Stored:
    """A message as the broker keeps it in a topic's log."""

    message_id: str
    topic: str
    body: bytes
    tag: str | None
    keys: list[str]
    properties: dict[str, str]
    message_group: str | None
    born_timestamp: int
    born_host: str | None = None


@dataclass
class _Lease:
    handle: str
    visible_at: float


@dataclass
class _GroupTopic:
    """One consumer group's view of one topic."""

    cursor: int = 0  # next log offset never delivered to this group
    retry: deque[int] = field(default_factory=deque)  # offsets whose lease expired
    attempts: dict[int, int] = field(default_factory=dict)  # offset -> deliveries so far
    leases: dict[int, _Lease] = field(default_factory=dict)  # offset -> current lease
    expiries: list[tuple[float, int, str]] = field(default_factory=list)  # heap
    acked: int = 0
    dead_lettered: int = 0
    deliveries: int = 0
    redeliveries: int = 0
    expired: int = 0
    rejected: int = 0
    filtered: int = 0


def _check_invisible_duration(value: float) -> None:
    """The broker's check (the SDK sends any value): 0 < value <= 12 h, else code 40011.

    The real broker also refuses values under 10 s; the fake accepts them so tests are fast.
    """
    if not isinstance(value, int | float) or not 0 < value <= MAX_INVISIBLE_DURATION:
        raise BadRequestException(
            f"invisible_duration must be > 0 and <= {MAX_INVISIBLE_DURATION} s, got {value!r}",
            ILLEGAL_INVISIBLE_TIME,
        )


class Broker:
    """A thread-safe in-process broker. Normally reached through the SDK-shaped clients."""

    def __init__(self, name: str = "default", *, seed: int | None = None) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._logs: dict[str, list[_Stored]] = {}
        self._groups: dict[str, dict[str, _GroupTopic]] = {}
        self._max_attempts: dict[str, int] = {}
        self._faults = Faults()
        self._faults_set = False  # fast path: no knob set, nothing to apply before a call
        self._random = random.Random(seed)
        self._handles = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._id_prefix = uuid.uuid4().hex[:16].upper()  # message ids: prefix + counter
        self._epoch = uuid.uuid4().hex[:8]  # handles from before a purge are never valid after it

    # ---- producing -------------------------------------------------------------------

    def send(self, record: dict[str, Any], timeout: float = 3.0) -> dict[str, Any]:
        """Append a message to its topic; returns ``{"message_id", "offset"}``."""
        topic = record.get("topic")
        if not topic or not TOPIC_PATTERN.match(topic):
            raise IllegalArgumentException(f"invalid topic {topic!r}")
        if not record.get("body"):
            raise IllegalArgumentException("body should not be blank.")
        self._before_call("send", timeout)
        stored = _Stored(
            message_id=f"{self._id_prefix}{next(self._message_ids):016X}",
            topic=topic,
            body=bytes(record["body"]),
            tag=record.get("tag"),
            keys=list(record.get("keys") or ()),
            properties=dict(record.get("properties") or {}),
            message_group=record.get("message_group"),
            born_timestamp=int(time.time() * 1000),
            born_host=record.get("born_host"),
        )
        with self._changed:
            log = self._logs.setdefault(topic, [])
            log.append(stored)
            self._changed.notify_all()
            return {"message_id": stored.message_id, "offset": len(log) - 1}

    # ---- consuming -------------------------------------------------------------------

    def receive(
        self,
        group: str,
        subscriptions: dict[str, str],
        max_message_num: int,
        invisible_duration: float,
        await_duration: float,
        timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        """Lease up to ``max_message_num`` ready messages; long-poll up to ``await_duration``.

        Blocks the calling thread. Returns delivery records (message fields plus
        ``delivery_attempt`` and ``receipt_handle``), or ``[]`` when nothing arrived in time.
        ``timeout`` (the request timeout) bounds the added ``receive_latency``.
        """
        if not subscriptions:
            raise IllegalArgumentException("There is no topic to receive message")
        if not isinstance(max_message_num, int) or max_message_num <= 0:
            raise IllegalArgumentException("max_message_num must be greater than 0")
        _check_invisible_duration(invisible_duration)
        if await_duration is None or await_duration < 0:
            raise IllegalArgumentException("await_duration must be >= 0")
        filters = {topic: tag_set(expression) for topic, expression in subscriptions.items()}
        deadline = time.monotonic() + await_duration
        self._before_call("receive", timeout, wait_if_paused=False)
        with self._changed:
            while True:
                now = time.monotonic()
                if not self._faults.paused:
                    taken = self._take(group, filters, max_message_num, invisible_duration, now)
                    if taken:
                        return taken
                remaining = deadline - now
                if remaining <= 0:
                    return []
                self._changed.wait(min(remaining, self._next_expiry(group, filters, now)))

    def ack(self, group: str, topic: str, receipt_handle: str, timeout: float = 3.0) -> None:
        """Acknowledge a message: it will not be delivered to ``group`` again."""
        self._before_call("ack", timeout)
        with self._changed:
            state, offset = self._valid_lease(group, topic, receipt_handle, "ack")
            del state.leases[offset]
            state.attempts.pop(offset, None)
            state.acked += 1

    def change_invisible_duration(
        self,
        group: str,
        topic: str,
        receipt_handle: str,
        invisible_duration: float,
        timeout: float = 3.0,
    ) -> str:
        """Make a leased message invisible for ``invisible_duration`` from now.

        Returns the new receipt handle; the old one is no longer valid.
        """
        _check_invisible_duration(invisible_duration)
        self._before_call("ack", timeout)
        with self._changed:
            state, offset = self._valid_lease(group, topic, receipt_handle, "change invisible")
            lease = self._lease(state, offset, invisible_duration, time.monotonic())
            self._changed.notify_all()  # a waiting receiver may need a new wake-up time
            return lease.handle

    # ---- introspection and knobs -------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts per topic and per group: ready, in flight, acked, DLQ, deliveries, …"""
        with self._changed:
            now = time.monotonic()
            topics = {topic: {"messages": len(log)} for topic, log in self._logs.items()}
            groups: dict[str, dict[str, Any]] = {}
            for group, by_topic in self._groups.items():
                groups[group] = {}
                for topic, state in by_topic.items():
                    self._expire(state, now)
                    log = self._logs.get(topic, [])
                    groups[group][topic] = {
                        "ready": len(log) - state.cursor + len(state.retry),
                        "in_flight": len(state.leases),
                        "acked": state.acked,
                        "dlq": state.dead_lettered,
                        "deliveries": state.deliveries,
                        "redeliveries": state.redeliveries,
                        "expired": state.expired,
                        "rejected_acks": state.rejected,
                        "filtered": state.filtered,
                    }
            return {"topics": topics, "groups": groups, "faults": asdict(self._faults)}

    def messages(self, topic: str) -> list[dict[str, Any]]:
        """Every message stored in ``topic`` (for example ``%DLQ%my-group``), oldest first."""
        with self._changed:
            return [asdict(stored) for stored in self._logs.get(topic, [])]

    def purge(self, topic: str | None = None) -> None:
        """Forget the messages of ``topic`` (every topic if None) and every group's state of it."""
        with self._changed:
            topics = [topic] if topic is not None else list(self._logs)
            for name in topics:
                self._logs.pop(name, None)
                for by_topic in self._groups.values():
                    by_topic.pop(name, None)
            if topic is None:
                self._groups.clear()
            self._epoch = uuid.uuid4().hex[:8]
            self._changed.notify_all()

    def set_faults(self, **knobs: Any) -> dict[str, Any]:
        """Change fault knobs (see :class:`Faults`); returns all knobs as they now are."""
        unknown = set(knobs) - Faults.names()
        if unknown:
            raise IllegalArgumentException(f"unknown fault knob(s): {', '.join(sorted(unknown))}")
        for name, value in knobs.items():
            _check_knob(name, value)
        with self._changed:
            for name, value in knobs.items():
                setattr(self._faults, name, value)
            self._faults_set = self._faults.any_set()
            self._changed.notify_all()
            return asdict(self._faults)

    def set_max_delivery_attempts(self, group: str, attempts: int) -> None:
        """How many deliveries ``group`` gets before a message goes to ``%DLQ%{group}``."""
        if not isinstance(attempts, int) or attempts < 1:
            raise IllegalArgumentException("max delivery attempts must be an integer >= 1")
        with self._changed:
            self._max_attempts[group] = attempts

    def reset(self) -> None:
        """Purge everything and clear every knob."""
        self.purge()
        with self._changed:
            self._faults = Faults()
            self._faults_set = False
            self._max_attempts.clear()

    # ---- internals ---------------------------------------------------------------------

    def _before_call(self, kind: str, timeout: float | None, wait_if_paused: bool = True) -> None:
        """Apply the fault knobs: added latency, injected errors, a paused broker.

        A call gets ``timeout`` seconds in all (the client's request timeout): added latency
        that uses it up, or a pause that outlasts it, raises ``ProxyTimeoutException``.
        Receives pass ``wait_if_paused=False``: a paused broker just has nothing for them.
        """
        if not self._faults_set:
            return
        faults = self._faults
        deadline = None if timeout is None else time.monotonic() + timeout
        latency = getattr(faults, f"{kind}_latency")
        if latency:
            if timeout is not None and latency >= timeout:
                time.sleep(timeout)
                raise ProxyTimeoutException(
                    f"{kind} took longer than the request timeout ({timeout:g}s)", PROXY_TIMEOUT
                )
            time.sleep(latency)
        rate = getattr(faults, f"{kind}_error_rate")
        if rate and self._random.random() < rate:
            raise InternalErrorException(f"injected {kind} error", INTERNAL_ERROR)
        if deadline is not None and wait_if_paused and faults.paused:
            self._wait_until_resumed(kind, deadline)

    def _wait_until_resumed(self, kind: str, deadline: float) -> None:
        with self._changed:
            while self._faults.paused:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProxyTimeoutException(f"broker paused: {kind} timed out", PROXY_TIMEOUT)
                self._changed.wait(remaining)

    def _state(self, group: str, topic: str) -> _GroupTopic:
        by_topic = self._groups.setdefault(group, {})
        state = by_topic.get(topic)
        if state is None:
            state = by_topic[topic] = _GroupTopic()
        return state

    def _lease(self, state: _GroupTopic, offset: int, duration: float, now: float) -> _Lease:
        handle = f"{self._epoch}-{offset}-{next(self._handles)}"
        lease = state.leases[offset] = _Lease(handle, now + duration)
        heapq.heappush(state.expiries, (lease.visible_at, offset, handle))
        return lease

    def _expire(self, state: _GroupTopic, now: float) -> None:
        """Move messages whose lease ran out back to the group's ready list."""
        heap = state.expiries
        while heap and heap[0][0] <= now:
            _, offset, handle = heapq.heappop(heap)
            lease = state.leases.get(offset)
            if lease is not None and lease.handle == handle:  # else acked or renewed since
                del state.leases[offset]
                state.retry.append(offset)
                state.expired += 1

    def _next_expiry(self, group: str, filters: dict[str, Any], now: float) -> float:
        """Seconds until the next lease of this group ends (a receiver must wake up then)."""
        soonest = float("inf")
        for topic in filters:
            state = self._groups.get(group, {}).get(topic)
            if state is not None and state.expiries:
                soonest = min(soonest, state.expiries[0][0] - now)
        return max(soonest, 0.001)

    def _take(
        self,
        group: str,
        filters: dict[str, frozenset[str] | None],
        limit: int,
        invisible_duration: float,
        now: float,
    ) -> list[dict[str, Any]]:
        taken: list[dict[str, Any]] = []
        max_attempts = self._max_attempts.get(group, DEFAULT_MAX_DELIVERY_ATTEMPTS)
        topics = list(filters)
        start = self._random.randrange(len(topics)) if len(topics) > 1 else 0
        for topic in topics[start:] + topics[:start]:
            state = self._state(group, topic)
            self._expire(state, now)
            log = self._logs.get(topic, [])
            accepted = filters[topic]
            while len(taken) < limit:
                if state.retry:
                    offset = state.retry.popleft()
                elif state.cursor < len(log):
                    offset = state.cursor
                    state.cursor += 1
                    if accepted is not None and log[offset].tag not in accepted:
                        state.filtered += 1
                        continue
                else:
                    break
                attempt = state.attempts.get(offset, 0) + 1
                if attempt > max_attempts:
                    self._dead_letter(group, state, offset, log[offset])
                    continue
                state.attempts[offset] = attempt
                state.deliveries += 1
                if attempt > 1:
                    state.redeliveries += 1
                lease = self._lease(state, offset, invisible_duration, now)
                stored = log[offset]
                taken.append(
                    {
                        "message_id": stored.message_id,
                        "topic": stored.topic,
                        "body": stored.body,
                        "tag": stored.tag,
                        "keys": stored.keys,
                        "properties": stored.properties,
                        "message_group": stored.message_group,
                        "born_timestamp": stored.born_timestamp,
                        "born_host": stored.born_host,
                        "delivery_attempt": attempt,
                        "receipt_handle": lease.handle,
                    }
                )
            if len(taken) >= limit:
                break
        return taken

    def _dead_letter(self, group: str, state: _GroupTopic, offset: int, stored: _Stored) -> None:
        state.attempts.pop(offset, None)
        state.dead_lettered += 1
        dlq_topic = f"{DLQ_PREFIX}{group}"
        properties = dict(stored.properties, ORIGIN_TOPIC=stored.topic)
        dead = _Stored(**{**asdict(stored), "topic": dlq_topic, "properties": properties})
        self._logs.setdefault(dlq_topic, []).append(dead)

    def _valid_lease(
        self, group: str, topic: str, receipt_handle: str, action: str
    ) -> tuple[_GroupTopic, int]:
        state = self._groups.get(group, {}).get(topic)
        offset = _offset_of(receipt_handle)
        if state is not None:
            self._expire(state, time.monotonic())
            lease = state.leases.get(offset) if offset is not None else None
            if lease is not None and lease.handle == receipt_handle:
                return state, offset
            state.rejected += 1
        raise BadRequestException(
            f"{action} failed: receipt handle is stale, superseded or unknown ({receipt_handle})",
            INVALID_RECEIPT_HANDLE,
        )


def _check_knob(name: str, value: Any) -> None:
    """Refuse a fault knob value of the wrong type or range (IllegalArgumentException)."""
    if name == "paused":
        if not isinstance(value, bool):
            raise IllegalArgumentException(f"paused must be True or False, got {value!r}")
        return
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise IllegalArgumentException(f"{name} must be a number, got {value!r}")
    if name.endswith("_rate") and not 0 <= value <= 1:
        raise IllegalArgumentException(f"{name} must be between 0 and 1")
    if name.endswith("_latency") and value < 0:
        raise IllegalArgumentException(f"{name} must be >= 0")


def _offset_of(receipt_handle: str) -> int | None:
    try:
        return int(str(receipt_handle).split("-")[1])
    except (IndexError, ValueError):
        return None


_memory_brokers: dict[str, Broker] = {}
_memory_lock = threading.Lock()


def memory_broker(name: str = "default") -> Broker:
    """The in-process broker called ``name`` (``memory://NAME``), created on first use.

    This registry is the fake's one piece of process-wide state: every client in the process
    that names the same broker shares it, like services sharing one real broker.
    """
    with _memory_lock:
        broker = _memory_brokers.get(name)
        if broker is None:
            broker = _memory_brokers[name] = Broker(name)
        return broker


def drop_memory_broker(name: str) -> None:
    """Forget the in-process broker called ``name`` (tests use a fresh name each)."""
    with _memory_lock:
        _memory_brokers.pop(name, None)
