"""Helpers for driving a stage's app in tests and scenarios, in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI


@asynccontextmanager
async def running(
    app: FastAPI, startup_timeout: float = 10, shutdown_timeout: float = 10
) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan and yield an HTTP client that talks to it over ASGI.

    ``httpx.ASGITransport`` alone does not run the lifespan; this does, with bounded startup
    and shutdown (``TimeoutError`` when either takes longer).
    """
    async with LifespanManager(app, startup_timeout, shutdown_timeout) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client
