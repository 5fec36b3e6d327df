"""The service: ``GET /health`` and ``POST /work``.

Resources are created in the lifespan: loaded once, before the first request, and closed on
shutdown. Handlers find them on ``app.state``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from pydantic import BaseModel

from .resources import DatabaseClient, load_model
from .settings import Settings

log = logging.getLogger("app")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # TODO: load app.state.model, connect app.state.db, then log "models loaded"
    raise NotImplementedError("load app.state.model, connect app.state.db, then log \"models loaded\"")
    try:
        yield
    finally:
        # TODO: close app.state.db, then log "cleanup"
        raise NotImplementedError("close app.state.db, then log \"cleanup\"")


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
