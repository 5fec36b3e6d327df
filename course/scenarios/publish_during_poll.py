"""A message published by the service itself while the consumer long-polls: when is it sent?

The service publishes from its event loop (a request handler or a timer would do the same).
If the consumer blocks the loop in ``receive``, the publishing code itself cannot run until the
poll returns, so the message starts late. Delay = email accepted − time the publish was due.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from fakemq import EmailProvider

from ..impl import Impl
from ..testing import running
from . import Endpoints, polling_app, publish, wait_until


@dataclass
class PublishDuringPoll:
    await_duration: float
    delays: list[float] = field(default_factory=list)

    @property
    def median_delay(self) -> float:
        return statistics.median(self.delays) if self.delays else float("inf")

    @property
    def healthy(self) -> bool:
        """Processing starts within 50 ms of the publish being due."""
        return self.median_delay <= 0.05

    @property
    def broken(self) -> bool:
        """Processing starts half a long poll late, or later."""
        return self.median_delay >= 0.5 * self.await_duration


async def run(
    impl: Impl, await_duration: float = 1.0, trials: int = 3, due_after: float = 0.2
) -> PublishDuringPoll:
    endpoints = Endpoints.fresh()
    app = polling_app(impl, endpoints, await_duration)
    email = EmailProvider(endpoints.email)
    result = PublishDuringPoll(await_duration)
    async with running(app):
        for trial in range(trials):
            due = time.time() + due_after
            await asyncio.sleep(due_after)  # the consumer is mid-poll by now
            publish(endpoints, 1, start=trial)  # from the loop, as the service would
            expected = trial + 1
            await wait_until(lambda n=expected: email.stats()["accepted"] >= n, within=10)
            deliveries = email.deliveries()
            if len(deliveries) < expected:
                break
            result.delays.append(deliveries[-1]["accepted_at"] - due)
    return result
