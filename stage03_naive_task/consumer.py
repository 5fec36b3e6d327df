"""The consume loop, written the naive way.

``periodic_consume`` runs as a task on the event loop and calls the MQ SDK's blocking
``receive`` directly. While ``receive`` long-polls, nothing else on the loop runs: no request,
no heartbeat, no shutdown.
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
            # >>> new: receive a batch, then ack and handle each message
            # Blocks the event loop for up to await_duration when the topic is empty.
            # consumer.receive_async(...).result() is the same mistake: .result() blocks too.
            messages = consumer.receive(settings.batch_size, settings.invisible_duration)
            for message in messages:
                consumer.ack(message)  # ack first, then process (the service's original way)
                outcome = handle_message(
                    message, app.state.email, app.state.producer, settings.pushback_topic
                )
                log.info("message %s %s", message.message_id, outcome)
            # <<< new
        except Exception:
            log.exception("consume failed; retrying after the poll interval")
        await asyncio.sleep(settings.poll_interval)


async def heartbeat(interval: float) -> None:
    while True:
        log.info("heartbeat")
        await asyncio.sleep(interval)
