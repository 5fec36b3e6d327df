"""The service: ``GET /health`` and ``POST /work``.

The model is loaded on first use, inside a request. That is the weakness here: the
first request pays for the load, and requests that arrive together each load it again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from fastapi import FastAPI, Request
from pydantic import BaseModel

from .settings import Settings

log = logging.getLogger("app")


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


async def get_model(app: FastAPI) -> Model:
    # Lazy: whoever comes first loads it, and so does everyone who comes before it is ready.
    if app.state.model is None:
        app.state.model = await load_model(app.state.settings)
    return app.state.model


class WorkRequest(BaseModel):
    text: str = "hello"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(title="mq-consumer course service")
    app.state.settings = settings
    app.state.model = None

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/work")
    async def work(request: Request, body: WorkRequest | None = None) -> dict[str, float | str]:
        model = await get_model(request.app)
        await asyncio.sleep(settings.work_seconds)  # an awaited I/O call: the loop serves others
        text = body.text if body else "hello"
        return {"model": model.name, "score": model.predict(text)}

    return app


app = create_app()
