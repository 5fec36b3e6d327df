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
            # >>> new: await receive_async with wrap_future, then start one task per message
            # wrap_future waits on the SDK's own thread: no thread of ours is held meanwhile.
            future = consumer.receive_async(settings.batch_size, settings.invisible_duration)
            messages = await asyncio.wrap_future(future)
            for message in messages:
                task = asyncio.create_task(process(app, message))
                # The loop keeps only a weak reference to a task: hold one until it is done.
                app.state.handler_tasks.add(task)
                task.add_done_callback(app.state.handler_tasks.discard)
            # <<< new
        except Exception:
            log.exception("consume failed; retrying after the poll interval")
        await asyncio.sleep(settings.poll_interval)


async def process(app: FastAPI, message: Message) -> None:
    """Ack ``message``, then handle it; both are blocking calls, so both run in a thread."""
    settings: Settings = app.state.settings
    try:
        # >>> new: ack in a thread (to_thread), then run handle_message in a thread; log the outcome
        await asyncio.to_thread(app.state.consumer.ack, message)  # ack first, then process
        outcome = await asyncio.to_thread(
            handle_message, message, app.state.email, app.state.producer, settings.pushback_topic
        )
        log.info("message %s %s", message.message_id, outcome)
        # <<< new
    except Exception:
        log.exception("message %s failed", message.message_id)


async def heartbeat(interval: float) -> None:
    while True:
        log.info("heartbeat")
        await asyncio.sleep(interval)
