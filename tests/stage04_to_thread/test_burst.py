"""Stage 04's problem: nothing bounds how much of a burst the consumer takes in at once.

The consume loop receives as fast as the broker answers and starts a task per message; the
tasks wait for one of the default executor's threads. A burst that is already waiting on the
broker becomes thousands of tasks at once (see ``course.scenarios.burst``).
"""

from __future__ import annotations

import pytest

from course.scenarios import burst


@pytest.mark.problem
@pytest.mark.timeout(60)
async def test_burst_becomes_thousands_of_tasks(impl):
    """10,000 waiting messages: most of them are tasks in the process at the same time."""
    result = await burst.run(impl, 10_000, email_latency=0.02)
    assert result.peak_tasks >= 0.5 * result.burst, result
    assert result.peak_held >= 0.5 * result.burst, result


@pytest.mark.problem
@pytest.mark.timeout(120)
async def test_memory_grows_with_the_burst(impl):
    """The consumer's peak memory for 10,000 messages is several times that for 2,000.

    Memory is measured in this process with ``tracemalloc``, started after the burst was
    published, and counts what the consumer allocates (received messages, tasks, coroutines,
    futures, thread-pool work items). Allocations made by the broker and the email service
    (``fakemq/broker.py``, ``fakemq/downstream.py``, …: other processes in production), by
    logging and by the measuring code are left out. See ``burst.consumer_memory``.
    """
    small = await burst.run(impl, 2_000, memory=True)
    large = await burst.run(impl, 10_000, memory=True)
    assert small.peak_memory and large.peak_memory
    assert large.peak_memory >= 2.5 * small.peak_memory, (small, large)


@pytest.mark.problem
@pytest.mark.timeout(60)
async def test_burst_exceeds_the_downstream_limit(impl):
    """The email service allows 4 concurrent calls; the default executor makes up to 6."""
    result = await burst.run(impl, 10_000, email_limit=4)
    assert result.peak_in_flight > 4, result
    assert result.rate_limited > 0, result
