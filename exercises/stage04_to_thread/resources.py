"""What the service needs before it can serve: a model, a database client, MQ and email clients."""

from __future__ import annotations

import asyncio
import hashlib
import logging

from fakemq import (
    ClientConfiguration,
    Credentials,
    EmailProvider,
    FilterExpression,
    Producer,
    SimpleConsumer,
)

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


def mq_configuration(settings: Settings) -> ClientConfiguration:
    return ClientConfiguration(settings.mq_endpoints, Credentials())


def create_consumer(settings: Settings) -> SimpleConsumer:
    subscription = {settings.topic: FilterExpression("*")}
    return SimpleConsumer(
        mq_configuration(settings),
        settings.consumer_group,
        subscription,
        await_duration=settings.await_duration,
    )


def create_producer(settings: Settings) -> Producer:
    return Producer(mq_configuration(settings), topics=[settings.pushback_topic])


def create_email_provider(settings: Settings) -> EmailProvider:
    return EmailProvider(settings.email_endpoint)
