"""Stage 02: resources are created once, in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from course.testing import running


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


async def timed_post(client) -> float:
    started = time.perf_counter()
    response = await client.post("/work", json={"text": "hi"})
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


def make_app(impl, **overrides):
    settings = impl.get("settings", "Settings")(**overrides)
    return impl.get("app", "create_app")(settings)


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_model_loaded_once_before_first_request(impl, caplog):
    caplog.set_level(logging.INFO)
    app = make_app(impl, work_seconds=0.05, model_load_seconds=0.3)
    async with running(app) as client:
        loaded_before_serving = messages(caplog).count("loading model")
        first = await asyncio.gather(*(timed_post(client) for _ in range(10)))
    assert loaded_before_serving == 1, "the model was not loaded before serving"
    assert messages(caplog).count("loading model") == 1, "the model was loaded more than once"
    # No request paid for the load.
    assert max(first) < 0.3, f"slowest first request took {max(first):.3f}s"


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_logs_in_order_and_db_closed_on_shutdown(impl, caplog):
    caplog.set_level(logging.INFO)
    app = make_app(impl, model_load_seconds=0.01)
    async with running(app) as client:
        assert (await client.get("/health")).status_code == 200
        db = getattr(app.state, "db", None)
        assert db is not None, "no database client on app.state.db"
        assert db.connected and not db.closed
        assert "cleanup" not in messages(caplog)
    assert db.closed, "the database client was not closed on shutdown"
    logged = messages(caplog)
    assert "models loaded" in logged and "cleanup" in logged
    assert logged.index("models loaded") < logged.index("cleanup")


async def consume_forever(stop: asyncio.Event) -> None:
    """Stands for a consume loop: it runs for as long as the service does (here, until stop)."""
    await stop.wait()


@pytest.mark.problem
@pytest.mark.timeout(30)
async def test_consume_loop_in_lifespan_blocks_startup(impl):
    """Awaiting a consume loop inside the lifespan means startup never finishes.

    The obvious next step, "start consuming in the lifespan", written the obvious way:
    the lifespan awaits the loop before it yields, so the server never starts serving.
    """
    app = make_app(impl, model_load_seconds=0.01)
    original = app.router.lifespan_context
    stop = asyncio.Event()

    @asynccontextmanager
    async def lifespan_with_consumer(app) -> AsyncIterator[None]:
        async with original(app):
            await consume_forever(stop)  # never returns while the service runs
            yield

    app.router.lifespan_context = lifespan_with_consumer
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        async with running(app, startup_timeout=1.0):
            pass
    stop.set()
    assert time.perf_counter() - started >= 1.0
