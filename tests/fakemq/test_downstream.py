"""The fake downstream in both modes: EmailProvider's knobs and record, render_attachment."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from fakemq import (
    EmailBadRequest,
    EmailError,
    EmailFailed,
    EmailProvider,
    EmailRateLimited,
    EmailTimeout,
    render_attachment,
)

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def email(endpoints: str) -> Iterator[EmailProvider]:
    """The email provider next to the test's broker (fresh in memory mode, reset in http)."""
    provider = EmailProvider(endpoints)
    provider.reset()
    yield provider
    provider.reset()  # also releases calls still hung
    provider.close()


def send(provider: EmailProvider, key: str | None = None, timeout: float | None = 5) -> dict:
    return provider.send("a@example.com", "subject", "body", idempotency_key=key, timeout=timeout)


def test_send_records_the_delivery(email: EmailProvider) -> None:
    result = email.send("to@example.com", "Order 1", "thanks", idempotency_key="order-1")
    assert result["duplicate"] is False
    [delivery] = email.deliveries()
    assert delivery["delivery_id"] == result["delivery_id"]
    assert (delivery["to"], delivery["subject"], delivery["body"]) == (
        "to@example.com",
        "Order 1",
        "thanks",
    )
    assert delivery["idempotency_key"] == "order-1"
    stats = email.stats()
    assert (stats["calls"], stats["accepted"], stats["in_flight"]) == (1, 1, 0)


def test_latency_knob_blocks_the_caller(email: EmailProvider) -> None:
    assert email.configure(latency=0.3)["latency"] == 0.3
    started = time.monotonic()
    send(email)
    assert time.monotonic() - started >= 0.29


def test_latency_beyond_the_call_timeout_raises_email_timeout(email: EmailProvider) -> None:
    email.configure(latency=5)
    started = time.monotonic()
    with pytest.raises(EmailTimeout):
        send(email, timeout=0.3)
    assert 0.29 <= time.monotonic() - started < 0.3 + 1.5
    assert email.deliveries() == [] and email.stats()["timeouts"] == 1


def test_excess_concurrent_calls_get_429(email: EmailProvider) -> None:
    email.configure(latency=0.6, max_concurrency=2)
    callers = 5
    start = threading.Barrier(callers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        email.stats()  # connect first (http mode), so that the calls below really overlap
        start.wait(5)
        try:
            send(email)
            outcome = "ok"
        except EmailRateLimited as error:
            assert error.status == 429 and "429" in str(error)
            outcome = "429"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["429", "429", "429", "ok", "ok"]
    stats = email.stats()
    assert (stats["accepted"], stats["rate_limited"], stats["calls"]) == (2, 3, 5)
    assert stats["peak_in_flight"] >= 3  # the excess calls were counted while the 2 ran
    assert stats["in_flight"] == 0
    assert len(email.deliveries()) == 2


def test_calls_within_the_limit_all_succeed_and_peak_is_counted(email: EmailProvider) -> None:
    email.configure(latency=0.3, max_concurrency=3)
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def call() -> None:
        email.stats()  # connect first (http mode)
        start.wait(5)
        try:
            send(email)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert email.stats()["peak_in_flight"] == 3


def test_failure_rate(email: EmailProvider) -> None:
    email.configure(failure_rate=1.0)
    with pytest.raises(EmailFailed) as failed:
        send(email)
    assert failed.value.status == 503 and isinstance(failed.value, EmailError)
    assert email.deliveries() == [] and email.stats()["failed"] == 1
    email.configure(failure_rate=0)
    send(email)
    assert len(email.deliveries()) == 1


def test_hung_call_blocks_until_its_timeout(email: EmailProvider) -> None:
    email.configure(hang_rate=1.0)
    started = time.monotonic()
    with pytest.raises(EmailTimeout) as timed_out:
        send(email, timeout=0.4)
    assert 0.39 <= time.monotonic() - started < 0.4 + 1.5
    assert isinstance(timed_out.value, TimeoutError) and timed_out.value.status == 504
    stats = email.stats()
    assert (stats["hung"], stats["timeouts"], stats["accepted"]) == (1, 1, 0)


def test_release_hung_frees_calls_without_a_timeout(email: EmailProvider) -> None:
    email.configure(hang_rate=1.0)
    outcomes: list[BaseException] = []

    def call() -> None:
        try:
            send(email, timeout=None)  # would hang forever
        except BaseException as error:
            outcomes.append(error)

    threads = [threading.Thread(target=call, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    waiting = threading.Event()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not waiting.is_set():
        if email.stats()["hung"] == 2:
            waiting.set()
        time.sleep(0.01)
    assert waiting.is_set()
    time.sleep(0.2)
    assert all(thread.is_alive() for thread in threads)  # still hung
    assert email.release_hung() == 2
    for thread in threads:
        thread.join(5)
    assert len(outcomes) == 2 and all(isinstance(e, EmailFailed) for e in outcomes)
    assert email.stats()["in_flight"] == 0 and email.deliveries() == []


def test_idempotency_key_is_accepted_once(email: EmailProvider) -> None:
    first = send(email, key="order-7")
    again = send(email, key="order-7")
    other = send(email, key="order-8")
    assert again == {"delivery_id": first["delivery_id"], "duplicate": True}
    assert other["duplicate"] is False
    assert [d["idempotency_key"] for d in email.deliveries()] == ["order-7", "order-8"]
    stats = email.stats()
    assert (stats["accepted"], stats["duplicates"], stats["calls"]) == (2, 1, 3)


def test_calls_without_a_key_are_all_recorded(email: EmailProvider) -> None:
    send(email)
    send(email)
    assert len(email.deliveries()) == 2


def test_bad_requests(email: EmailProvider) -> None:
    with pytest.raises(EmailBadRequest):
        email.send("not-an-address", "s", "b")
    with pytest.raises(EmailBadRequest):
        email.send("a@example.com", "s", "b", timeout=0)
    with pytest.raises(EmailBadRequest):
        email.configure(latncy=1)
    with pytest.raises(EmailBadRequest):
        email.configure(failure_rate=2)
    with pytest.raises(EmailBadRequest):
        email.configure(max_concurrency=-1)
    assert email.deliveries() == []


def test_reset_forgets_everything(email: EmailProvider) -> None:
    email.configure(latency=0.01)
    send(email, key="k")
    email.reset()
    assert email.deliveries() == []
    assert email.stats()["knobs"]["latency"] == 0 and email.stats()["accepted"] == 0
    assert send(email, key="k")["duplicate"] is False  # keys are forgotten too


# ---- render_attachment -----------------------------------------------------------------------


def test_render_attachment_is_deterministic() -> None:
    assert render_attachment("order-1", 1000) == render_attachment("order-1", 1000)
    assert render_attachment("order-1", 1000) != render_attachment("order-2", 1000)
    assert render_attachment("order-1", 1000) != render_attachment("order-1", 1001)
    assert len(render_attachment("order-1", 0)) == 64
    with pytest.raises(ValueError):
        render_attachment("order-1", -1)


def test_render_attachment_cost_scales_the_cpu_time() -> None:
    def cpu_time(cost: int) -> float:
        started = time.process_time()
        render_attachment("order-1", cost)
        return time.process_time() - started

    cheap = min(cpu_time(20_000) for _ in range(3))
    dear = min(cpu_time(200_000) for _ in range(2))
    assert dear > cheap * 3  # 10x the cost; wide margin for noise
