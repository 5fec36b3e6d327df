"""Each stage runs as a real process (``python -m stageNN_x``) against a served fake MQ.

The broker and the email API live in ``python -m fakemq serve``; the stage reaches them over
HTTP, as a service reaches a real broker. Messages published to the broker get emailed.
"""

from __future__ import annotations

import time

import httpx
import pytest

from course.impl import load_impl
from course.processes import serve_stage
from course.scenarios import Endpoints, has_consumer, publish
from course.stages import STAGES
from fakemq import BrokerAdmin, EmailProvider

WRITTEN = [stage for stage in STAGES if stage.exists()]


@pytest.mark.drill
@pytest.mark.timeout(60)
@pytest.mark.parametrize("stage", WRITTEN, ids=lambda stage: stage.package)
def test_stage_serves_and_consumes_over_http(stage, fakemq_server):
    admin = BrokerAdmin(fakemq_server.url)
    admin.reset()
    email = EmailProvider(fakemq_server.url)
    email.reset()
    env = {
        "MQ_ENDPOINTS": fakemq_server.url,
        "EMAIL_ENDPOINT": fakemq_server.url,
        "AWAIT_DURATION": "0.5",
        "MODEL_LOAD_SECONDS": "0.05",
    }
    with serve_stage(stage.package, env) as served:
        response = httpx.get(f"{served.url}/health", timeout=5)
        assert response.status_code == 200
        if not has_consumer(load_impl(stage.package)):
            return
        publish(Endpoints(mq=fakemq_server.url, email=fakemq_server.url), 5)
        deadline = time.monotonic() + 20
        while email.stats()["accepted"] < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert email.stats()["accepted"] == 5, served.read_output()[-2000:]
