"""The consume loop, with backpressure: one puller fills a bounded queue, N workers drain it.

``periodic_consume`` is the puller: it awaits the SDK's ``receive_async`` future with
``asyncio.wrap_future``, acks each message in a thread, and puts it on ``app.state.queue``.
When the queue is full, ``put`` waits, so the puller stops receiving until a worker frees a
slot. ``worker`` takes one message at a time and handles it. The handler is still a blocking
call, made right on the event loop: while it runs, nothing else on the loop does.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from .handlers import handle_message
from .settings import Settings

log = logging.getLogger("consumer")


async def periodic_consume(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    consumer = app.state.consumer
    while True:
        try:
            # wrap_future waits on the SDK's own thread: no thread of ours is held meanwhile.
            future = consumer.receive_async(settings.batch_size, settings.invisible_duration)
            messages = await asyncio.wrap_future(future)
            # TODO: ack each message in a thread, then put it on app.state.queue (waits if full)
            raise NotImplementedError("ack each message in a thread, then put it on app.state.queue (waits if full)")
        except Exception:
            log.exception("consume failed; retrying after the poll interval")
        await asyncio.sleep(settings.poll_interval)


async def worker(app: FastAPI) -> None:
    """Handle messages from the queue, one at a time, until cancelled."""
    settings: Settings = app.state.settings
    queue: asyncio.Queue = app.state.queue
    while True:
        # TODO: get a message, handle it (handle_message), log the outcome, then task_done()
        raise NotImplementedError("get a message, handle it (handle_message), log the outcome, then task_done()")


async def heartbeat(interval: float) -> None:
    while True:
        log.info("heartbeat")
        await asyncio.sleep(interval)
