"""What the service needs before it can serve: a model and a database client."""

from __future__ import annotations

import asyncio
import hashlib
import logging

from .settings import Settings

log = logging.getLogger("resources")


class Model:
    """Stands for an ML model or a template set: slow to load, fast to use."""

    def __init__(self, name: str) -> None:
        self.name = name

    def predict(self, text: str) -> float:
        digest = hashlib.sha256(text.encode()).digest()
        return digest[0] / 255


async def load_model(settings: Settings) -> Model:
    log.info("loading model")
    await asyncio.sleep(settings.model_load_seconds)  # stands for reading weights from disk
    return Model("scorer-v1")


class DatabaseClient:
    """Stands for a connection pool: opened once, closed on shutdown."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connected = False
        self.closed = False

    async def connect(self) -> None:
        await asyncio.sleep(0.01)  # stands for the network handshake
        self.connected = True

    async def close(self) -> None:
        self.connected = False
        self.closed = True
