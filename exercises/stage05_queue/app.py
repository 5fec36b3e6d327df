"""The service: ``GET /health``, ``POST /work``, and a consumer of the ``email`` topic.

The lifespan loads resources, starts the MQ clients, and starts the consume loop and a
heartbeat as background tasks, then yields at once so the server can start serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from pydantic import BaseModel

from .consumer import heartbeat, periodic_consume, worker
from .resources import (
    DatabaseClient,
    create_consumer,
    create_email_provider,
    create_producer,
    load_model,
)
from .settings import Settings

log = logging.getLogger("app")

SHUTDOWN_SECONDS = 5.0  # how long shutdown waits for cancelled tasks


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.model = await load_model(settings)
    app.state.db = DatabaseClient(settings.database_url)
    await app.state.db.connect()
    log.info("models loaded")
    app.state.email = create_email_provider(settings)
    app.state.producer = create_producer(settings)
    app.state.producer.startup()
    app.state.consumer = create_consumer(settings)
    app.state.consumer.startup()
    # TODO: a bounded asyncio.Queue (settings.queue_maxsize) on app.state.queue
    raise NotImplementedError("a bounded asyncio.Queue (settings.queue_maxsize) on app.state.queue")
    app.state.tasks = [
        asyncio.create_task(periodic_consume(app), name="consume"),
        asyncio.create_task(heartbeat(settings.heartbeat_seconds), name="heartbeat"),
    ]
    # TODO: start settings.workers worker(app) tasks, kept on app.state.workers
    raise NotImplementedError("start settings.workers worker(app) tasks, kept on app.state.workers")
    try:
        yield
    finally:
        for task in app.state.tasks:
            task.cancel()
        for task in app.state.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # TODO: with the puller stopped, cancel the workers and wait for them (bounded)
        raise NotImplementedError("with the puller stopped, cancel the workers and wait for them (bounded)")
        app.state.consumer.shutdown()
        app.state.producer.shutdown()
        await app.state.db.close()
        log.info("cleanup")


class WorkRequest(BaseModel):
    text: str = "hello"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(title="mq-consumer course service", lifespan=lifespan)
    app.state.settings = settings

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/work")
    async def work(request: Request, body: WorkRequest | None = None) -> dict[str, float | str]:
        model = request.app.state.model
        await asyncio.sleep(settings.work_seconds)  # an awaited I/O call: the loop serves others
        text = body.text if body else "hello"
        return {"model": model.name, "score": model.predict(text)}

    return app


app = create_app()
