"""Stage 01: async handlers share one event loop; the model is loaded lazily."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from course.testing import running


def loads(caplog: pytest.LogCaptureFixture) -> int:
    return sum(record.getMessage() == "loading model" for record in caplog.records)


async def timed_post(client, path: str = "/work") -> float:
    started = time.perf_counter()
    response = await client.post(path, json={"text": "hi"})
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_health_answers(impl):
    app = impl.get("app", "create_app")()
    async with running(app) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_concurrent_work_shares_the_loop(impl):
    """20 concurrent POST /work finish in less than 3x the time of one."""
    settings_cls = impl.get("settings", "Settings")
    app = impl.get("app", "create_app")(settings_cls(work_seconds=0.2, model_load_seconds=0.05))
    async with running(app) as client:
        await timed_post(client)  # warm up: whatever loads lazily, loads now
        one = await timed_post(client)
        started = time.perf_counter()
        await asyncio.gather(*(timed_post(client) for _ in range(20)))
        twenty = time.perf_counter() - started
    assert one >= 0.2
    assert twenty < 3 * one, f"20 concurrent calls took {twenty:.3f}s, one took {one:.3f}s"


@pytest.mark.problem
@pytest.mark.timeout(30)
async def test_first_requests_load_the_model_lazily(impl, caplog):
    """Concurrent first requests each load the model; the first request pays the load time."""
    caplog.set_level(logging.INFO)
    settings_cls = impl.get("settings", "Settings")
    app = impl.get("app", "create_app")(settings_cls(work_seconds=0.05, model_load_seconds=0.5))
    async with running(app) as client:
        loaded_at_startup = loads(caplog)
        first = await asyncio.gather(*(timed_post(client) for _ in range(5)))
        later = await timed_post(client)
    assert loaded_at_startup == 0, "the model was loaded before the first request"
    assert loads(caplog) > 1, "concurrent first requests loaded the model only once"
    # The first requests waited for the load; a later one did not.
    assert min(first) >= 0.5
    assert later < 0.5 * min(first)
