"""The consume loop, with every blocking call off the event loop.

``periodic_consume`` awaits the SDK's ``receive_async`` future with ``asyncio.wrap_future``:
the long poll runs on an SDK thread and the loop stays free. Each message then gets its own
task, which acks it and runs the blocking handler with ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from fakemq import Message

from .handlers import handle_message
from .settings import Settings

log = logging.getLogger("consumer")


async def periodic_consume(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    consumer = app.state.consumer
    while True:
        try:
            # TODO: await receive_async with wrap_future, then start one task per message
            raise NotImplementedError("await receive_async with wrap_future, then start one task per message")
        except Exception:
            log.exception("consume failed; retrying after the poll interval")
        await asyncio.sleep(settings.poll_interval)


async def process(app: FastAPI, message: Message) -> None:
    """Ack ``message``, then handle it; both are blocking calls, so both run in a thread."""
    settings: Settings = app.state.settings
    try:
        # TODO: ack in a thread (to_thread), then run handle_message in a thread; log the outcome
        raise NotImplementedError("ack in a thread (to_thread), then run handle_message in a thread; log the outcome")
    except Exception:
        log.exception("message %s failed", message.message_id)


async def heartbeat(interval: float) -> None:
    while True:
        log.info("heartbeat")
        await asyncio.sleep(interval)
