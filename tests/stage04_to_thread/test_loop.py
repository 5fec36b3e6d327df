"""Stage 04: blocking SDK calls leave the loop, so a long poll no longer freezes it."""

from __future__ import annotations

import pytest

from course.scenarios import loop_freeze, publish_during_poll, shutdown_during_poll


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_idle_long_poll_leaves_the_loop_free(impl):
    """Loop lag and /health latency stay at most a tenth of the long poll (D = 1.5 s)."""
    result = await loop_freeze.run(impl, await_duration=1.5)
    assert result.consumed, "the consumer did not process a message"
    assert result.max_lag <= 0.1 * result.await_duration, result
    assert result.health_max <= 0.1 * result.await_duration, result
    assert result.ticks >= 0.5 * result.expected_ticks, result


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_message_published_during_a_poll_starts_at_once(impl):
    """Processing starts within 50 ms of the publish (median of three)."""
    result = await publish_during_poll.run(impl, await_duration=1.0)
    assert len(result.delays) == 3, "messages were not processed"
    assert result.median_delay <= 0.05, result


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_shutdown_does_not_wait_for_the_poll(impl):
    result = await shutdown_during_poll.run(impl, await_duration=1.5)
    assert result.consumed, "the consumer did not process a message"
    assert result.shutdown_seconds <= 0.1 * result.await_duration, result
