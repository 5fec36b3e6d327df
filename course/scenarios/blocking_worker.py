"""Does adding workers add throughput when the handler makes a blocking call?

The email service answers each ``send`` after ``email_latency`` seconds (L). The same number of
messages is consumed twice, with ``few`` workers and with ``many`` workers, each time on a fresh
broker and app, and timed from the publish to the last accepted email. A loop-lag probe runs
meanwhile.

If the workers call the blocking ``send`` right on the event loop, only one runs at a time:
the time is about ``messages × L`` whatever the number of workers, and the loop is stalled for
at least L at a time. If each blocking call runs in a thread of its own, ``many`` workers
finish about ``many / few`` times sooner and the loop stays free.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fakemq import EmailProvider

from ..impl import Impl, ImplError
from ..probes import LoopLagProbe
from ..testing import running
from . import Endpoints, make_app, publish, wait_until


@dataclass
class BlockingWorker:
    messages: int
    email_latency: float
    few: int
    many: int
    seconds_few: float  # publish → last email accepted, with ``few`` workers
    seconds_many: float  # the same with ``many`` workers
    lag_few: float  # the loop's largest lag during each run
    lag_many: float

    @property
    def throughput_few(self) -> float:
        return self.messages / self.seconds_few

    @property
    def throughput_many(self) -> float:
        return self.messages / self.seconds_many

    @property
    def speedup(self) -> float:
        """Throughput with ``many`` workers over throughput with ``few``."""
        return self.seconds_few / self.seconds_many

    @property
    def healthy(self) -> bool:
        """Workers add throughput (3× at least) and the loop never stalls for half a send."""
        return self.speedup >= 3 and self.lag_many < 0.5 * self.email_latency

    @property
    def broken(self) -> bool:
        """More workers add almost nothing (< 1.5×) and the loop stalls for a send or more."""
        return self.speedup < 1.5 and self.lag_many >= 0.5 * self.email_latency

    def __str__(self) -> str:
        return (
            f"{self.messages} messages, send latency {self.email_latency * 1000:.0f} ms: "
            f"{self.few} worker(s) {self.throughput_few:.1f}/s (max lag "
            f"{self.lag_few * 1000:.0f} ms), {self.many} workers {self.throughput_many:.1f}/s "
            f"(max lag {self.lag_many * 1000:.0f} ms), speedup {self.speedup:.2f}x"
        )


async def _timed_run(
    impl: Impl, workers: int, messages: int, email_latency: float, queue_maxsize: int
) -> tuple[float, float]:
    """Consume ``messages`` with ``workers`` workers: (seconds, max loop lag)."""
    endpoints = Endpoints.fresh()
    email = EmailProvider(endpoints.email)
    email.configure(latency=email_latency)
    app = make_app(
        impl,
        endpoints,
        workers=workers,
        queue_maxsize=queue_maxsize,
        batch_size=16,
        poll_interval=0.001,
        await_duration=0.5,
        invisible_duration=60.0,
        heartbeat_seconds=1.0,
        model_load_seconds=0.01,
    )
    # Generous, but bounded: one worker at a time, plus start-up, plus a slow machine.
    deadline = 3 * messages * email_latency + 10
    async with running(app, shutdown_timeout=deadline):
        async with LoopLagProbe(interval=0.01) as probe:
            started = time.time()
            await asyncio.to_thread(publish, endpoints, messages)
            done = await wait_until(lambda: email.stats()["accepted"] >= messages, deadline)
    if not done:
        accepted = email.stats()["accepted"]
        raise TimeoutError(f"only {accepted} of {messages} emails were sent in {deadline:.0f} s")
    last = max(delivery["accepted_at"] for delivery in email.deliveries())
    assert probe.report is not None
    return last - started, probe.report.max_lag


async def run(
    impl: Impl,
    messages: int = 40,
    email_latency: float = 0.05,
    few: int = 1,
    many: int = 8,
    queue_maxsize: int = 16,
) -> BlockingWorker:
    """Time ``messages`` messages with ``few`` and then ``many`` workers."""
    known = impl.get("settings", "Settings").__dataclass_fields__
    if "workers" not in known:
        raise ImplError(f"{impl.label}: Settings has no 'workers': the scenario does not apply")
    seconds_few, lag_few = await _timed_run(impl, few, messages, email_latency, queue_maxsize)
    seconds_many, lag_many = await _timed_run(impl, many, messages, email_latency, queue_maxsize)
    return BlockingWorker(
        messages, email_latency, few, many, seconds_few, seconds_many, lag_few, lag_many
    )
