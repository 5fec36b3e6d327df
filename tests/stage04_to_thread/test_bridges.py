"""Three ways to await the SDK's ``receive_async`` future, measured (the table in the README).

- ``await asyncio.wrap_future(fut)`` holds no thread: the future's done-callback wakes the loop.
- ``await asyncio.to_thread(fut.result)`` and ``await loop.run_in_executor(None, fut.result)``
  each hold a thread of the loop's default executor for the whole long poll, and cancelling
  the awaiting task does not give the thread back.

The default executor has ``min(32, cpu + 4)`` threads (6 on 2 cores). These tests start that
many long polls at once, then time a trivial ``to_thread`` call: it runs at once if the polls
hold no thread, and waits for the polls to end if they hold them all.

These are facts about asyncio and the SDK, not about a stage: they carry no marker and do not
use ``--impl``.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import Future

import pytest

from fakemq import ClientConfiguration, Credentials, FilterExpression, SimpleConsumer

POLL = 0.8  # seconds each receive long-polls on an empty topic
STARTED = 0.1  # seconds to let the polls start before measuring
cpu_count = getattr(os, "process_cpu_count", os.cpu_count)  # 3.13+ counts the usable CPUs
DEFAULT_THREADS = min(32, (cpu_count() or 1) + 4)


async def via_wrap_future(fut: Future) -> object:
    return await asyncio.wrap_future(fut)


async def via_to_thread(fut: Future) -> object:
    return await asyncio.to_thread(fut.result)


async def via_run_in_executor(fut: Future) -> object:
    return await asyncio.get_running_loop().run_in_executor(None, fut.result)


Bridge = Callable[[Future], Coroutine[None, None, object]]
BRIDGES: dict[str, Bridge] = {
    "wrap_future": via_wrap_future,
    "to_thread(fut.result)": via_to_thread,
    "run_in_executor(None, fut.result)": via_run_in_executor,
}
HOLDS_A_THREAD = {
    "wrap_future": False,
    "to_thread(fut.result)": True,
    "run_in_executor(None, fut.result)": True,
}


def empty_topic_consumer() -> SimpleConsumer:
    config = ClientConfiguration(f"memory://bridges-{uuid.uuid4().hex[:12]}", Credentials())
    consumer = SimpleConsumer(config, "bridges", {"bridges": FilterExpression()}, POLL)
    consumer.startup()
    return consumer


async def wait_for_a_thread() -> float:
    """Seconds a trivial ``to_thread`` call takes: the wait for a free default-pool thread."""
    started = time.perf_counter()
    await asyncio.to_thread(lambda: None)
    return time.perf_counter() - started


async def start_polls(bridge: Bridge) -> tuple[SimpleConsumer, list[Future], list[asyncio.Task]]:
    """``DEFAULT_THREADS`` long polls on an empty topic, each awaited through ``bridge``."""
    consumer = empty_topic_consumer()
    futures = [consumer.receive_async(1, 10) for _ in range(DEFAULT_THREADS)]
    waiters = [asyncio.create_task(bridge(future)) for future in futures]
    await asyncio.sleep(STARTED)
    return consumer, futures, waiters


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", list(BRIDGES))
async def test_waiting_on_long_polls(name):
    """While the polls wait, is the default executor still free for other to_thread calls?"""
    consumer, _, waiters = await start_polls(BRIDGES[name])
    try:
        waited = await wait_for_a_thread()
        await asyncio.gather(*waiters)
    finally:
        consumer.shutdown()
    if HOLDS_A_THREAD[name]:
        # Every default thread sits in fut.result() until the polls return.
        assert waited >= 0.5 * (POLL - STARTED), f"{name}: waited only {waited:.3f}s"
    else:
        assert waited <= 0.1 * POLL, f"{name}: a to_thread call waited {waited:.3f}s"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", list(BRIDGES))
async def test_cancelling_the_waiting_tasks(name):
    """Cancelling the awaiting tasks frees no thread; wrap_future cancels the SDK future."""
    consumer, futures, waiters = await start_polls(BRIDGES[name])
    try:
        for waiter in waiters:
            waiter.cancel()
        results = await asyncio.gather(*waiters, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        waited = await wait_for_a_thread()
    finally:
        consumer.shutdown()
    if HOLDS_A_THREAD[name]:
        # The tasks are gone, but their threads still sit in fut.result() until the poll ends.
        assert waited >= 0.5 * (POLL - STARTED), f"{name}: waited only {waited:.3f}s"
        assert not any(future.cancelled() for future in futures)
    else:
        assert waited <= 0.1 * POLL, f"{name}: a to_thread call waited {waited:.3f}s"
        # The SDK future is cancelled, though the SDK's own call runs on until the poll ends:
        # a batch it receives meanwhile is dropped and comes back after invisible_duration.
        assert all(future.cancelled() for future in futures)


@pytest.mark.timeout(30)
async def test_default_executor_size():
    """``min(32, cpu + 4)`` calls start at once; the next ones wait for a free thread."""
    started_at: list[float] = []
    block = 0.3

    def blocking_call() -> None:
        started_at.append(time.perf_counter())
        time.sleep(block)

    submitted = time.perf_counter()
    await asyncio.gather(*(asyncio.to_thread(blocking_call) for _ in range(2 * DEFAULT_THREADS)))
    at_once = sum(1 for moment in started_at if moment - submitted < 0.5 * block)
    assert at_once == DEFAULT_THREADS, f"{at_once} calls started at once"
