"""Concurrent first requests: is the model loaded once, before serving, or lazily per request?"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from ..impl import Impl
from ..testing import running
from . import Endpoints, make_app


@dataclass
class LazyModel:
    loads_before_serving: int
    loads_total: int
    slowest_first_request: float
    load_seconds: float

    @property
    def healthy(self) -> bool:
        """Loaded exactly once, before serving; no request waited for the load."""
        return (
            self.loads_before_serving == 1
            and self.loads_total == 1
            and self.slowest_first_request < self.load_seconds
        )

    @property
    def broken(self) -> bool:
        """Loaded more than once, by the requests themselves."""
        return self.loads_before_serving == 0 and self.loads_total > 1


class _Loads(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "loading model":
            self.count += 1


async def run(impl: Impl, requests: int = 5, load_seconds: float = 0.5) -> LazyModel:
    app = make_app(impl, Endpoints.fresh(), model_load_seconds=load_seconds, work_seconds=0.01)
    loads = _Loads()
    root = logging.getLogger()
    root.addHandler(loads)
    previous = root.level
    root.setLevel(min(previous, logging.INFO) if previous else logging.INFO)

    async def timed(client) -> float:
        started = time.perf_counter()
        await client.post("/work", json={"text": "hi"})
        return time.perf_counter() - started

    try:
        async with running(app) as client:
            before = loads.count
            latencies = await asyncio.gather(*(timed(client) for _ in range(requests)))
    finally:
        root.removeHandler(loads)
        root.setLevel(previous)
    return LazyModel(before, loads.count, max(latencies), load_seconds)
