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
            # TODO: receive a batch, then ack and handle each message
            raise NotImplementedError("receive a batch, then ack and handle each message")
        except Exception:
            log.exception("consume failed; retrying after the poll interval")
        await asyncio.sleep(settings.poll_interval)


async def heartbeat(interval: float) -> None:
    while True:
        log.info("heartbeat")
        await asyncio.sleep(interval)
