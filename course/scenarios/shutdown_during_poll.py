"""Shutdown is asked for while the consumer long-polls: how long until the service is down?

The request comes from another thread (like a signal), lands on the loop with
``call_soon_threadsafe``, and the lifespan then shuts down. A consumer blocking the loop in
``receive`` delays both until the poll returns.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

from fakemq import EmailProvider

from ..impl import Impl
from ..testing import running
from . import Endpoints, polling_app, publish, wait_until


@dataclass
class ShutdownDuringPoll:
    await_duration: float
    shutdown_seconds: float
    consumed: bool  # a message published first was processed: the consumer was running

    @property
    def healthy(self) -> bool:
        return self.consumed and self.shutdown_seconds <= 0.1 * self.await_duration

    @property
    def broken(self) -> bool:
        return self.shutdown_seconds >= 0.5 * self.await_duration


async def run(
    impl: Impl, await_duration: float = 1.5, ask_after: float | None = None
) -> ShutdownDuringPoll:
    """Ask for shutdown ``ask_after`` seconds in (default: a fifth of the long poll)."""
    ask_after = ask_after if ask_after is not None else await_duration / 5
    endpoints = Endpoints.fresh()
    app = polling_app(impl, endpoints, await_duration)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    asked_at: list[float] = []

    def ask_to_stop() -> None:
        asked_at.append(time.perf_counter())
        loop.call_soon_threadsafe(stop.set)

    email = EmailProvider(endpoints.email)
    async with running(app, shutdown_timeout=await_duration + 10):
        # An app that never polls would shut down at once: show that this one consumes.
        await asyncio.to_thread(publish, endpoints, 1)
        consumed = await wait_until(lambda: email.stats()["accepted"] >= 1, within=5)
        timer = threading.Timer(ask_after, ask_to_stop)
        timer.start()
        await stop.wait()
    done = time.perf_counter()
    timer.join()
    return ShutdownDuringPoll(await_duration, done - asked_at[0], consumed)
