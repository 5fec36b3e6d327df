"""An idle consumer long-polls an empty topic: is the event loop still free?

Measures event-loop lag (sleep overshoot) and ``/health`` latency while the consumer waits in
``receive`` for ``await_duration`` seconds. A consumer that calls the SDK's blocking receive on
the loop freezes it for the whole poll.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fakemq import EmailProvider

from ..impl import Impl
from ..probes import LatencyProbe, LoopLagProbe
from ..testing import running
from . import Endpoints, polling_app, publish, wait_until


@dataclass
class LoopFreeze:
    await_duration: float
    max_lag: float
    ticks: int
    expected_ticks: float
    health_max: float
    health_median: float
    health_calls: int
    consumed: bool  # a message published after the window was processed: the consumer runs

    @property
    def healthy(self) -> bool:
        """Lag and /health latency stay at most a tenth of the long poll, and it consumes."""
        limit = 0.1 * self.await_duration
        return self.consumed and self.max_lag <= limit and self.health_max <= limit

    @property
    def broken(self) -> bool:
        """Lag and /health latency reach at least half the long poll."""
        limit = 0.5 * self.await_duration
        return self.max_lag >= limit and self.health_max >= limit


async def run(impl: Impl, await_duration: float = 1.5, window: float | None = None) -> LoopFreeze:
    window = window if window is not None else 2 * await_duration
    endpoints = Endpoints.fresh()
    app = polling_app(impl, endpoints, await_duration)
    async with running(app) as client:
        lag = LoopLagProbe(interval=0.01)
        latency = LatencyProbe(client, "/health", interval=0.02)
        lag.start()
        latency.start()
        await asyncio.sleep(window)
        latency_report = await latency.stop()
        lag_report = await lag.stop()
        # An app that never polls would pass the timing checks: show that it consumes.
        await asyncio.to_thread(publish, endpoints, 1)
        email = EmailProvider(endpoints.email)
        consumed = await wait_until(lambda: email.stats()["accepted"] >= 1, within=5)
    return LoopFreeze(
        await_duration=await_duration,
        max_lag=lag_report.max_lag,
        ticks=lag_report.ticks,
        expected_ticks=lag_report.expected_ticks,
        health_max=latency_report.max,
        health_median=latency_report.median,
        health_calls=len(latency_report.latencies),
        consumed=consumed,
    )
