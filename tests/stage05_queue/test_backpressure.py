"""Stage 05: a bounded queue between one puller and N workers bounds what a burst can do.

Every test runs ``course.scenarios.burst`` with 10,000 messages already waiting on the broker,
WORKERS=3, QUEUE_MAXSIZE=16 and BATCH_SIZE=32, and fails on the previous stage, which starts a
task per message.
"""

from __future__ import annotations

import pytest

from course.scenarios import burst

WORKERS = 3
QUEUE_MAXSIZE = 16
BATCH_SIZE = 32
BOUND = QUEUE_MAXSIZE + WORKERS + BATCH_SIZE  # in the queue + in the workers + one batch


async def run_burst(impl, messages: int = 10_000, **options) -> burst.Burst:
    result = await burst.run(
        impl,
        messages,
        workers=WORKERS,
        queue_maxsize=QUEUE_MAXSIZE,
        batch_size=BATCH_SIZE,
        **options,
    )
    # Holding little is easy when nothing is handled: the workers must be working.
    assert result.handled >= 20, f"only {result.handled} messages were handled: {result}"
    return result


@pytest.mark.acceptance
@pytest.mark.timeout(60)
async def test_messages_held_stay_within_the_bound(impl):
    """Received but not yet handled never exceeds maxsize + N + one batch; tasks stay few."""
    result = await run_burst(impl)
    assert result.peak_held <= BOUND, result
    assert result.peak_tasks <= 50, result


@pytest.mark.acceptance
@pytest.mark.timeout(60)
async def test_downstream_sees_at_most_n_calls(impl):
    result = await run_burst(impl)
    assert result.peak_in_flight <= WORKERS, result


@pytest.mark.acceptance
@pytest.mark.timeout(60)
async def test_no_429_when_n_is_below_the_downstream_limit(impl):
    """The email service allows 4 concurrent calls; with 3 workers none is refused."""
    result = await run_burst(impl, email_limit=WORKERS + 1)
    assert result.rate_limited == 0, result


@pytest.mark.acceptance
@pytest.mark.timeout(120)
async def test_memory_is_flat_in_the_burst_size(impl):
    """The consumer's peak memory for 50,000 waiting messages is within 20% of that for 10,000.

    Memory is measured in this process with ``tracemalloc``, started after the burst was
    published, and counts what the consumer allocates (received messages, tasks, coroutines,
    futures, thread-pool work items, queue slots). Allocations made by the broker and the
    email service (``fakemq/broker.py``, ``fakemq/downstream.py``, …: other processes in
    production), by logging and by the measuring code are left out. See
    ``burst.consumer_memory``.

    A run stops once the consumer's holdings stop growing (2 s), or, for a consumer that never
    stops taking messages in, once it holds 15,000: by then it holds more than the whole
    smaller burst, which is all this test needs to tell.
    """
    small = await run_burst(impl, 10_000, memory=True, held_limit=15_000)
    large = await run_burst(impl, 50_000, memory=True, held_limit=15_000)
    assert small.peak_memory and large.peak_memory
    assert large.peak_memory <= 1.2 * small.peak_memory, (small, large)
