"""Stage 05's problem: the workers call the blocking handler on the event loop.

``course.scenarios.blocking_worker`` times 40 messages with 1 worker and with 8 workers, with
an email service that answers after 50 ms. On this stage both take about 40 × 50 ms: a worker
inside ``send`` blocks the loop, so no other worker (and nothing else) runs meanwhile.
"""

from __future__ import annotations

import pytest

from course.scenarios import blocking_worker

LATENCY = 0.05


@pytest.mark.problem
@pytest.mark.timeout(60)
async def test_more_workers_add_no_throughput(impl):
    result = await blocking_worker.run(impl, messages=40, email_latency=LATENCY, few=1, many=8)
    assert result.speedup < 1.5, result
    assert result.lag_many >= 0.5 * LATENCY, result
