"""The service starts, stays up, heartbeats, and processes the messages published to it."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from fakemq import EmailProvider

from ..impl import Impl
from ..testing import running
from . import Endpoints, has_consumer, make_app, publish, wait_until


@dataclass
class ConsumeBasic:
    startup_seconds: float
    published: int
    processed: int
    heartbeats: int
    health_status: int

    @property
    def healthy(self) -> bool:
        return (
            self.processed == self.published and self.heartbeats >= 1 and self.health_status == 200
        )

    @property
    def broken(self) -> bool:
        return self.processed == 0


class _Count(logging.Handler):
    def __init__(self, text: str) -> None:
        super().__init__(logging.INFO)
        self.text = text
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == self.text:
            self.count += 1


async def run(impl: Impl, messages: int = 5, await_duration: float = 0.3) -> ConsumeBasic:
    endpoints = Endpoints.fresh()
    app = make_app(
        impl,
        endpoints,
        await_duration=await_duration,
        heartbeat_seconds=0.05,
        model_load_seconds=0.01,
        poll_interval=0.05,
    )
    heartbeats = _Count("heartbeat")
    consumer_log = logging.getLogger("consumer")
    consumer_log.addHandler(heartbeats)
    previous_level = consumer_log.level
    consumer_log.setLevel(logging.INFO)
    email = EmailProvider(endpoints.email)
    try:
        started = time.perf_counter()
        async with running(app, startup_timeout=5) as client:
            startup = time.perf_counter() - started
            await asyncio.to_thread(publish, endpoints, messages)
            patience = 10 if has_consumer(impl) else 1  # no consumer: nothing will come
            await wait_until(lambda: email.stats()["accepted"] >= messages, within=patience)
            await wait_until(lambda: heartbeats.count >= 1, within=patience / 5)
            status = (await client.get("/health")).status_code
    finally:
        consumer_log.removeHandler(heartbeats)
        consumer_log.setLevel(previous_level)
    return ConsumeBasic(startup, messages, email.stats()["accepted"], heartbeats.count, status)
