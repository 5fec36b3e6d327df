"""Stage 03: a consume task started from the lifespan, calling the SDK's blocking receive."""

from __future__ import annotations

import asyncio

import pytest

from course.scenarios import (
    Endpoints,
    consume_basic,
    loop_freeze,
    make_app,
    publish,
    publish_during_poll,
    shutdown_during_poll,
    wait_until,
)
from course.testing import running
from fakemq import (
    BrokerAdmin,
    ClientConfiguration,
    Credentials,
    EmailProvider,
    Message,
    Producer,
)


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_consumes_while_serving(impl):
    """Startup finishes, the API answers, heartbeats are logged, every message is processed."""
    result = await consume_basic.run(impl, messages=5)
    assert result.health_status == 200
    assert result.heartbeats >= 1, "no heartbeat was logged"
    assert result.processed == result.published, result


@pytest.mark.acceptance
@pytest.mark.timeout(30)
async def test_bad_messages_are_pushed_back_not_lost(impl):
    endpoints = Endpoints.fresh()
    app = make_app(impl, endpoints, await_duration=0.2, model_load_seconds=0.01)
    admin = BrokerAdmin(endpoints.mq)
    async with running(app):
        producer = Producer(ClientConfiguration(endpoints.mq, Credentials()))
        producer.startup()
        for body in (b"not json", b'{"order_id": 1}', b"[]"):
            message = Message()
            message.topic = "email"
            message.body = body
            producer.send(message)
        producer.shutdown()
        await asyncio.to_thread(publish, endpoints, 1)  # and one good message
        pushed = await wait_until(lambda: len(admin.messages("email-pushback")) >= 3, within=10)
    assert pushed, "malformed messages were not pushed back"
    bodies = sorted(m["body"] for m in admin.messages("email-pushback"))
    assert bodies == sorted([b"not json", b'{"order_id": 1}', b"[]"])
    reasons = [m["properties"]["reason"] for m in admin.messages("email-pushback")]
    assert all("not an email job" in reason for reason in reasons)
    sent = await wait_until(lambda: EmailProvider(endpoints.email).stats()["accepted"] == 1, 5)
    assert sent, "the good message after the bad ones was not sent"


@pytest.mark.problem
@pytest.mark.timeout(30)
async def test_idle_long_poll_freezes_the_loop(impl):
    """With the topic empty, the loop is blocked for the whole long poll (D = 1.5 s)."""
    result = await loop_freeze.run(impl, await_duration=1.5)
    assert result.max_lag >= 0.5 * result.await_duration, result
    assert result.health_max >= 0.5 * result.await_duration, result


@pytest.mark.problem
@pytest.mark.timeout(30)
async def test_message_published_during_a_poll_starts_late(impl):
    """A publish due 0.2 s into a 1 s poll cannot run until the poll returns."""
    result = await publish_during_poll.run(impl, await_duration=1.0)
    assert len(result.delays) == 3, "messages were not processed"
    assert result.median_delay >= 0.5 * result.await_duration, result


@pytest.mark.problem
@pytest.mark.timeout(30)
async def test_shutdown_waits_for_the_poll(impl):
    """Shutdown asked for 0.3 s into a 1.5 s poll completes only after the poll returns."""
    result = await shutdown_during_poll.run(impl, await_duration=1.5)
    assert result.shutdown_seconds >= 0.5 * result.await_duration, result
