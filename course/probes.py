"""Measuring tools shared by tests, the CLI and benchmarks.

- :class:`LoopLagProbe` measures how late the event loop wakes up a sleeping task (sleep
  overshoot). A loop blocked for B seconds shows a lag of about B, and fewer ticks.
- :class:`LatencyProbe` calls an HTTP endpoint (``/health``) over and over and records how
  long each call took, as a client of the service would see it.

Thresholds that hold on a busy 2-core machine, for a block of at
least 200 ms: "blocked" is ``max_lag >= 0.5 × block`` or fewer than half the expected ticks;
"not blocked" is ``max_lag <= 0.25 × block`` and at least half the expected ticks.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass, field

import httpx


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a probe's sampling task and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class LagReport:
    """What a :class:`LoopLagProbe` saw."""

    interval: float
    duration: float
    ticks: int
    lags: list[float] = field(default_factory=list)

    @property
    def max_lag(self) -> float:
        """The longest overshoot, in seconds (0 if none was recorded)."""
        return max(self.lags, default=0.0)

    @property
    def expected_ticks(self) -> float:
        """How many ticks an idle loop would have managed in ``duration``."""
        return self.duration / self.interval

    def blocked(self, block: float) -> bool:
        """True if the loop was blocked for about ``block`` seconds (or more)."""
        return self.max_lag >= 0.5 * block or self.ticks < 0.5 * self.expected_ticks

    def responsive(self, block: float) -> bool:
        """True if no stall anywhere near ``block`` seconds happened."""
        return self.max_lag <= 0.25 * block and self.ticks >= 0.5 * self.expected_ticks

    def __str__(self) -> str:
        return (
            f"max lag {self.max_lag * 1000:.1f} ms over {self.duration:.2f} s, "
            f"{self.ticks} ticks of {self.expected_ticks:.0f} expected"
        )


class LoopLagProbe:
    """Measure event-loop lag by sleep overshoot, from inside the loop.

    >>> async def measure():
    ...     async with LoopLagProbe() as probe:
    ...         await asyncio.sleep(0.05)
    ...     return probe.report
    """

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.report: LagReport | None = None
        self._lags: list[float] = []
        self._ticks = 0
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self._sleep_started = 0.0

    @property
    def current_max_lag(self) -> float:
        """Largest lag so far, including the sleep now in flight (for live displays)."""
        in_flight = time.perf_counter() - self._sleep_started - self.interval
        return max([*self._lags, in_flight if self._task else 0.0, 0.0])

    async def _run(self) -> None:
        while True:
            self._sleep_started = time.perf_counter()
            await asyncio.sleep(self.interval)
            overshoot = time.perf_counter() - self._sleep_started - self.interval
            self._lags.append(max(overshoot, 0.0))
            self._ticks += 1

    def start(self) -> None:
        """Start sampling on the running loop."""
        self._lags.clear()
        self._ticks = 0
        self._started = time.perf_counter()
        self._sleep_started = self._started
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag-probe")

    async def stop(self) -> LagReport:
        """Stop sampling and return the report.

        The sleep still in flight counts too: a block just before ``stop()`` would otherwise
        never be recorded, because the blocked sleep never woke up.
        """
        now = time.perf_counter()
        lags = list(self._lags)
        in_flight = now - self._sleep_started - self.interval
        if in_flight > 0:
            lags.append(in_flight)
        await _cancel(self._task)
        self._task = None
        self.report = LagReport(self.interval, now - self._started, self._ticks, lags)
        return self.report

    async def __aenter__(self) -> LoopLagProbe:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


@dataclass
class LatencyReport:
    """Latencies (seconds) of the calls a :class:`LatencyProbe` made."""

    latencies: list[float]
    errors: int = 0

    @property
    def max(self) -> float:
        return max(self.latencies, default=0.0)

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0

    def __str__(self) -> str:
        return (
            f"{len(self.latencies)} calls, median {self.median * 1000:.1f} ms, "
            f"max {self.max * 1000:.1f} ms, {self.errors} errors"
        )


class LatencyProbe:
    """Call ``GET path`` every ``interval`` seconds and record each call's latency.

    ``client`` is an ``httpx.AsyncClient`` (over ASGI in tests, or a real URL). Latency is
    counted from when the call was *due*, not from when the probe got round to sending it: a
    client outside the process does not wait for the server's loop before it sends, so a
    request due during a stall sees the stall. A call in flight when the probe stops counts
    with its latency so far.
    """

    def __init__(
        self, client: httpx.AsyncClient, path: str = "/health", interval: float = 0.02
    ) -> None:
        self.client = client
        self.path = path
        self.interval = interval
        self.report: LatencyReport | None = None
        self._latencies: list[float] = []
        self._errors = 0
        self._due: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        self._due = time.perf_counter()
        while True:
            await asyncio.sleep(max(0.0, self._due - time.perf_counter()))
            try:
                response = await self.client.get(self.path)
                if response.status_code >= 400:
                    self._errors += 1
            except httpx.HTTPError:
                self._errors += 1
            finished = time.perf_counter()
            self._latencies.append(finished - self._due)
            # The next call is due one interval later, but never before this one finished.
            self._due = max(self._due + self.interval, finished)

    def start(self) -> None:
        """Start calling on the running loop."""
        self._latencies.clear()
        self._errors = 0
        self._task = asyncio.get_running_loop().create_task(self._run(), name="latency-probe")

    async def stop(self) -> LatencyReport:
        """Stop calling and return the report."""
        latencies = list(self._latencies)
        if self._due is not None and time.perf_counter() > self._due:
            latencies.append(time.perf_counter() - self._due)
        await _cancel(self._task)
        self._task = None
        self.report = LatencyReport(latencies, self._errors)
        return self.report

    async def __aenter__(self) -> LatencyProbe:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
