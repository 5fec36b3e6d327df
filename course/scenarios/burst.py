"""A burst of messages is already waiting when the consumer starts: does it bound what it holds?

The burst is published straight to the broker before the app starts. The app then consumes
while a sampler on the loop records:

- ``peak_tasks``: the most asyncio tasks alive at once (``len(asyncio.all_tasks())``);
- ``peak_held``: the most messages inside the process at once, received but not yet handled:
  the broker's ``deliveries`` to the group minus the email calls that have returned. The
  email stats are read second, so a sample is never higher than the truth at the moment the
  broker was read (a bound is never exceeded by a measuring race);
- ``peak_memory`` (with ``memory=True``): the most memory the consumer itself held, measured
  with ``tracemalloc`` in this process (see :func:`consumer_memory`);
- from the email service: ``peak_in_flight`` (most concurrent ``send`` calls) and
  ``rate_limited`` (calls refused with a 429 because the service's concurrency limit was hit).

The scenario does not wait for the burst to be processed (shutdown cancels what is left). It
stops sampling at the first of:

- the whole burst was received: nothing more can pile up;
- ``held_limit`` messages are held: the consumer is plainly unbounded, more costs only time;
- ``settle`` seconds without the held count growing by more than one batch: the consumer
  bounds itself, and its figures will not change. A gap between two samples counts for at
  most ``MAX_QUIET_STEP``: while the loop is stalled (a snapshot, a busy machine) the
  consumer cannot take more in either, and such a gap must not pass for "settled";
- ``window`` seconds: a hard limit.
"""

from __future__ import annotations

import asyncio
import gc
import re
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import translate
from typing import Any

from fakemq import BrokerAdmin, EmailProvider, drop_memory_broker

from ..impl import Impl, ImplError
from ..testing import running
from . import Endpoints, has_consumer, make_app, publish

GROUP = "email-sender"
MAX_QUIET_STEP = 0.25  # seconds: the most one gap between samples adds to the quiet time
TOPIC = "email"

# What tracemalloc leaves out: the broker and the email service (in production they are other
# processes), logging (test runs capture log records), and the measuring harness itself.
NOT_THE_CONSUMER = (
    "*/fakemq/broker.py",
    "*/fakemq/downstream.py",
    "*/fakemq/server.py",
    "*/fakemq/transport.py",
    "*/fakemq/admin.py",
    "*/logging/*",
    "*/_pytest/*",
    "*/tracemalloc.py",
    "*/course/*",
)
_NOT_THE_CONSUMER = re.compile("|".join(translate(pattern) for pattern in NOT_THE_CONSUMER))


@dataclass
class Burst:
    burst: int
    seconds: float  # how long the consumer ran before sampling stopped
    received: int  # deliveries to the group when sampling stopped
    handled: int  # email calls that had returned when sampling stopped
    peak_tasks: int
    peak_held: int
    peak_memory: int | None  # bytes; None when memory was not measured
    peak_in_flight: int  # most concurrent email sends
    rate_limited: int  # email calls refused with a 429
    email_limit: int  # the email service's concurrency limit (0: none)
    workers: int | None  # the stage's WORKERS, if it has that setting
    bound: int | None  # QUEUE_MAXSIZE + WORKERS + BATCH_SIZE, if the stage has a queue
    stopped: str  # why sampling stopped: all received, held limit, settled, window

    @property
    def healthy(self) -> bool:
        """Held messages stay within the bound, the downstream sees at most N calls, no 429."""
        return (
            self.bound is not None
            and self.peak_held <= self.bound
            and self.rate_limited == 0
            and self.workers is not None
            and self.peak_in_flight <= self.workers
        )

    @property
    def broken(self) -> bool:
        """The burst turned into thousands of tasks at once."""
        return self.peak_tasks >= 0.3 * self.burst

    def __str__(self) -> str:
        memory = "-" if self.peak_memory is None else f"{self.peak_memory / 2**20:.2f} MiB"
        return (
            f"burst {self.burst}: {self.seconds:.2f} s ({self.stopped}), received "
            f"{self.received}, handled {self.handled}, peak tasks {self.peak_tasks}, peak held "
            f"{self.peak_held} "
            f"(bound {self.bound}), peak memory {memory}, email peak in flight "
            f"{self.peak_in_flight} (workers {self.workers}, limit {self.email_limit}), "
            f"429s {self.rate_limited}"
        )


def consumer_memory() -> int:
    """Bytes traced by ``tracemalloc`` and still alive, minus what is not the consumer's.

    Each allocation is attributed to the Python line that made it (one frame). Left out are
    allocations made in the broker and email service code of ``fakemq`` and in the measuring
    harness (:data:`NOT_THE_CONSUMER`). What counts is what the consumer keeps per message:
    the received ``Message`` objects (made by the SDK client), tasks, coroutines, futures,
    thread-pool work items, queue slots.
    """
    gc.collect()  # garbage waiting for the cyclic collector is nobody's memory
    snapshot = tracemalloc.take_snapshot()
    excluded: dict[str, bool] = {}
    total = 0
    for size, filename in _sizes_and_files(snapshot):
        skip = excluded.get(filename)
        if skip is None:
            skip = excluded[filename] = bool(_NOT_THE_CONSUMER.match(filename))
        if not skip:
            total += size
    return total


def _sizes_and_files(snapshot: tracemalloc.Snapshot) -> Iterator[tuple[int, str]]:
    """``(size, filename)`` of every trace. ``Snapshot.statistics()`` takes ~0.5 s for 140k
    traces, which would stall the consumer under test; the raw trace tuples take ~5 ms."""
    raw = getattr(snapshot.traces, "_traces", None)
    if raw is None:  # not CPython's layout: the public (slower) way
        for trace in snapshot.traces:
            yield trace.size, trace.traceback[0].filename
        return
    for trace in raw:  # (domain, size, ((filename, lineno), ...), ...)
        yield trace[1], trace[2][0][0]


class Sampler:
    """Samples tasks, held messages and (optionally) memory on the running loop."""

    def __init__(
        self, admin: BrokerAdmin, email: EmailProvider, memory: bool, interval: float = 0.02
    ) -> None:
        self.admin = admin
        self.email = email
        self.memory = memory
        self.interval = interval
        self.peak_tasks = 0
        self.peak_held = 0
        self.peak_memory = 0
        self.received = 0
        self.handled = 0
        self.stopped = ""  # why sampling stopped
        self._next_memory = 0.0

    def sample(self, force_memory: bool = False) -> None:
        self.received = self.admin.group_stats(GROUP, TOPIC)["deliveries"]
        email = self.email.stats()  # second: a call that returns in between counts as handled
        self.handled = email["calls"] - email["in_flight"]
        self.peak_held = max(self.peak_held, self.received - self.handled)
        self.peak_tasks = max(self.peak_tasks, len(asyncio.all_tasks()))
        now = time.monotonic()
        if self.memory and (force_memory or now >= self._next_memory):
            self.peak_memory = max(self.peak_memory, consumer_memory())
            cost = time.monotonic() - now
            # A snapshot stalls the loop: keep that under a fifth of the consumer's time.
            self._next_memory = time.monotonic() + max(self.interval, 4 * cost)

    async def run(
        self, burst: int, batch: int, window: float, settle: float, held_limit: int | None
    ) -> float:
        """Sample until one of the stop conditions (module docstring); returns the seconds."""
        started = previous = time.monotonic()
        grown_to, quiet = 0, 0.0
        while True:
            self.sample()
            now = time.monotonic()
            if self.peak_held > grown_to + batch:
                grown_to, quiet = self.peak_held, 0.0
            else:
                # A long gap between samples is a stalled loop (a snapshot, a busy machine):
                # the consumer could not ask for more either, so it counts as a short one.
                quiet += min(now - previous, MAX_QUIET_STEP)
            previous = now
            if self.received >= burst:
                self.stopped = "all received"
            elif held_limit is not None and self.peak_held >= held_limit:
                self.stopped = "held limit"
            elif quiet >= settle:
                self.stopped = "settled"
            elif now - started >= window:
                self.stopped = "window"
            if self.stopped:
                break
            await asyncio.sleep(self.interval)
        # Let the last batch turn into tasks (or queue items), then take a last full sample.
        await asyncio.sleep(self.interval)
        self.sample(force_memory=True)
        return time.monotonic() - started


def _known_settings(impl: Impl, **wanted: Any) -> dict[str, Any]:
    known = impl.get("settings", "Settings").__dataclass_fields__
    return {name: value for name, value in wanted.items() if name in known}


async def run(
    impl: Impl,
    burst: int = 10_000,
    *,
    email_latency: float = 0.02,
    email_limit: int = 0,
    batch_size: int = 32,
    workers: int = 3,
    queue_maxsize: int = 16,
    memory: bool = False,
    held_limit: int | None = None,
    settle: float = 2.0,
    window: float = 20.0,
) -> Burst:
    """Publish ``burst`` messages, start the app, and sample until a stop condition.

    ``workers`` and ``queue_maxsize`` go to stages that have those settings. The email service
    answers after ``email_latency`` seconds; with ``email_limit`` > 0 it refuses calls beyond
    that many concurrent ones with a 429.
    """
    if not has_consumer(impl):
        raise ImplError(f"{impl.label} has no consumer (consumer.py): the burst does not apply")
    if memory:
        # Imports and caches filled on a first run would count as the consumer's memory.
        await _consume(
            impl, 50, email_latency, 0, batch_size, workers, queue_maxsize, 0.3, memory=True
        )
    return await _consume(
        impl,
        burst,
        email_latency,
        email_limit,
        batch_size,
        workers,
        queue_maxsize,
        window,
        settle=settle,
        held_limit=held_limit,
        memory=memory,
    )


async def _consume(
    impl: Impl,
    burst: int,
    email_latency: float,
    email_limit: int,
    batch_size: int,
    workers: int,
    queue_maxsize: int,
    window: float,
    *,
    settle: float | None = None,
    held_limit: int | None = None,
    memory: bool = False,
) -> Burst:
    endpoints = Endpoints.fresh()
    await asyncio.to_thread(publish, endpoints, burst, TOPIC)
    email = EmailProvider(endpoints.email)
    email.configure(latency=email_latency, max_concurrency=email_limit)
    admin = BrokerAdmin(endpoints.mq)
    overrides = _known_settings(impl, workers=workers, queue_maxsize=queue_maxsize)
    bound = None
    if {"workers", "queue_maxsize"} <= overrides.keys():
        bound = queue_maxsize + workers + batch_size
    collecting = gc.isenabled()
    if memory:
        gc.collect()
        gc.freeze()  # what exists now is not measured: spare the collector from walking it
        # Each snapshot collects first; automatic collections would stall the loop at random.
        gc.disable()
        tracemalloc.start(1)
    try:
        app = make_app(
            impl,
            endpoints,
            topic=TOPIC,
            consumer_group=GROUP,
            batch_size=batch_size,
            poll_interval=0.001,
            await_duration=0.5,
            invisible_duration=120.0,  # no lease runs out while the scenario runs
            heartbeat_seconds=1.0,
            model_load_seconds=0.01,
            **overrides,
        )
        sampler = Sampler(admin, email, memory)
        async with running(app, shutdown_timeout=15):
            seconds = await sampler.run(
                burst, batch_size, window, settle if settle is not None else window, held_limit
            )
    finally:
        if memory:
            tracemalloc.stop()
            gc.unfreeze()
            if collecting:
                gc.enable()
        drop_memory_broker(endpoints.mq.removeprefix("memory://"))  # up to 50,000 messages
    stats = email.stats()
    return Burst(
        burst=burst,
        seconds=seconds,
        received=sampler.received,
        handled=sampler.handled,
        peak_tasks=sampler.peak_tasks,
        peak_held=sampler.peak_held,
        peak_memory=sampler.peak_memory if memory else None,
        peak_in_flight=stats["peak_in_flight"],
        rate_limited=stats["rate_limited"],
        email_limit=email_limit,
        workers=overrides.get("workers"),
        bound=bound,
        stopped=sampler.stopped,
    )
