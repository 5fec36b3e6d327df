"""Bad input gets a clear exception at once: never a hang, never a silent drop."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from course.processes import free_port
from fakemq import (
    BadRequestException,
    BrokerUnreachableException,
    ClientConfiguration,
    ClientException,
    Credentials,
    FilterExpression,
    IllegalArgumentException,
    IllegalStateException,
    Message,
    Producer,
    ProxyTimeoutException,
    SimpleConsumer,
)

pytestmark = pytest.mark.timeout(15)


@pytest.mark.parametrize("count", [0, -1])
def test_max_message_num_must_be_positive(mq, count: int) -> None:
    consumer = mq.consumer()
    with pytest.raises(IllegalArgumentException, match="max_message_num"):
        consumer.receive(count, 10)
    with pytest.raises(IllegalArgumentException, match="max_message_num"):
        consumer.receive_async(count, 10)  # raised by the call, not hidden in the future


@pytest.mark.parametrize("duration", [0, -1, 12 * 3600 + 1, "10"])
def test_invalid_invisible_duration_is_refused_by_the_broker_with_40011(mq, duration) -> None:
    consumer = mq.consumer()
    with pytest.raises(BadRequestException) as refused:
        consumer.receive(1, duration)
    assert refused.value.code == 40011
    error = consumer.receive_async(1, duration).exception(timeout=5)
    assert isinstance(error, BadRequestException) and error.code == 40011


def test_invalid_duration_on_change_invisible_duration(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 10)
    with pytest.raises(BadRequestException) as refused:
        consumer.change_invisible_duration(received, 0)
    assert refused.value.code == 40011
    consumer.ack(received)  # the refused call left the lease alone


def test_consumer_calls_before_startup_raise_illegal_state(mq) -> None:
    mq.send()
    consumer = mq.consumer(start=False)
    assert not consumer.is_running
    with pytest.raises(IllegalStateException):
        consumer.receive(1, 10)
    with pytest.raises(IllegalStateException):
        consumer.receive_async(1, 10)
    with pytest.raises(IllegalStateException):
        consumer.subscribe(mq.topic)
    with pytest.raises(IllegalStateException):
        consumer.unsubscribe(mq.topic)


def test_consumer_calls_after_shutdown_raise_illegal_state(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 10)
    consumer.shutdown()
    assert not consumer.is_running
    for call in (
        lambda: consumer.receive(1, 10),
        lambda: consumer.receive_async(1, 10),
        lambda: consumer.ack(received),
        lambda: consumer.ack_async(received),
        lambda: consumer.change_invisible_duration(received, 10),
        consumer.startup,  # no restart after shutdown
    ):
        with pytest.raises(IllegalStateException):
            call()
    consumer.shutdown()  # a second shutdown is harmless, as in the SDK


def test_producer_calls_before_startup_and_after_shutdown_raise_illegal_state(mq) -> None:
    producer = Producer(mq.config())
    with pytest.raises(IllegalStateException):
        producer.send(mq.message(mq.topic))
    producer.startup()
    with pytest.raises(IllegalStateException):
        producer.startup()  # already running
    producer.shutdown()
    with pytest.raises(IllegalStateException):
        producer.send(mq.message(mq.topic))
    with pytest.raises(IllegalStateException):
        producer.send_async(mq.message(mq.topic))


def test_receive_without_subscription(mq) -> None:
    consumer = mq.consumer(subscription={})
    with pytest.raises(IllegalArgumentException, match="no topic"):
        consumer.receive(1, 10)
    with pytest.raises(IllegalArgumentException, match="no topic"):
        consumer.receive_async(1, 10)
    consumer.subscribe(mq.topic)
    consumer.unsubscribe(mq.topic)
    with pytest.raises(IllegalArgumentException, match="no topic"):
        consumer.receive(1, 10)


def test_unsubscribe_unknown_topic(mq) -> None:
    consumer = mq.consumer()
    with pytest.raises(IllegalArgumentException, match="not subscribed"):
        consumer.unsubscribe(f"{mq.topic}-typo")
    assert set(consumer.subscriptions) == {mq.topic}


@pytest.mark.parametrize("topic", ["", "has space", "bad/char"])
def test_subscribe_invalid_topic(mq, topic: str) -> None:
    consumer = mq.consumer()
    with pytest.raises(IllegalStateException, match="invalid"):
        consumer.subscribe(topic)


@pytest.mark.parametrize("group", ["", "has space", "a/b"])
def test_invalid_consumer_group(mq, group: str) -> None:
    with pytest.raises(IllegalArgumentException):
        SimpleConsumer(mq.config(), group, {mq.topic: FilterExpression()})


def test_await_duration_must_be_given(mq) -> None:
    with pytest.raises(IllegalArgumentException):
        SimpleConsumer(mq.config(), mq.group, {}, await_duration=None)


def test_empty_body_is_refused(mq) -> None:
    outgoing = Message()
    with pytest.raises(IllegalArgumentException, match="body"):
        outgoing.body = b""
    outgoing.topic = mq.topic
    with pytest.raises(IllegalArgumentException, match="body"):
        mq.producer().send(outgoing)  # body never set
    assert mq.topic not in mq.admin.stats()["topics"]


def test_body_must_be_bytes_and_at_most_4_mib(mq) -> None:
    outgoing = Message()
    with pytest.raises(IllegalArgumentException, match="bytes"):
        outgoing.body = "text"
    outgoing.topic = mq.topic
    outgoing.body = b"x" * (4 * 1024 * 1024 + 1)
    with pytest.raises(IllegalArgumentException, match="size"):
        mq.producer().send(outgoing)


def test_message_without_topic_is_refused(mq) -> None:
    outgoing = Message()
    outgoing.body = b"x"
    with pytest.raises(IllegalArgumentException, match="topic"):
        mq.producer().send(outgoing)
    with pytest.raises(IllegalArgumentException):
        outgoing.topic = "bad topic"


@pytest.mark.parametrize("tag", ["", "a||b"])
def test_invalid_tag(tag: str) -> None:
    with pytest.raises(IllegalArgumentException):
        Message().tag = tag


def test_filter_expression_checks() -> None:
    assert FilterExpression().expression == "*"
    assert FilterExpression("a||b", 1).filter_type == 1
    with pytest.raises(IllegalArgumentException):
        FilterExpression("")
    with pytest.raises(IllegalArgumentException, match="tag filters only"):
        FilterExpression("a > 1", 2)  # SQL92


def test_configuration_checks() -> None:
    with pytest.raises(IllegalArgumentException):
        ClientConfiguration("", Credentials())
    with pytest.raises(IllegalArgumentException):
        ClientConfiguration("memory://x", Credentials(), request_timeout=0)
    with pytest.raises(TypeError):
        ClientConfiguration("memory://x")  # type: ignore[call-arg]  # as in the SDK
    with pytest.raises(IllegalArgumentException, match="unsupported endpoints"):
        Producer(ClientConfiguration("nonsense", Credentials())).startup()


def test_ack_of_a_message_that_was_never_received(mq) -> None:
    consumer = mq.consumer()
    with pytest.raises(IllegalArgumentException, match="receipt handle"):
        consumer.ack(mq.message(mq.topic))


def test_unknown_fault_knob_and_bad_values(mq) -> None:
    with pytest.raises(IllegalArgumentException, match="unknown"):
        mq.admin.set_faults(receive_latncy=1)
    with pytest.raises(IllegalArgumentException):
        mq.admin.set_faults(ack_error_rate=2)
    with pytest.raises(IllegalArgumentException):
        mq.admin.set_faults(send_latency=-1)
    with pytest.raises(IllegalArgumentException):
        mq.admin.set_faults(paused="yes")
    with pytest.raises(IllegalArgumentException):
        mq.admin.set_max_delivery_attempts(mq.group, 0)


# ---- an unreachable or silent server ------------------------------------------------------


def test_unreachable_server_fails_fast() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = ClientConfiguration(url, Credentials(), request_timeout=0.5)
    producer = Producer(config)
    consumer = SimpleConsumer(config, "group", {"topic": FilterExpression()})
    outgoing = Message()
    outgoing.topic, outgoing.body = "topic", b"x"
    producer.startup()  # like the SDK, startup does not need the broker
    consumer.startup()
    try:
        for call in (
            lambda: producer.send(outgoing),
            lambda: consumer.receive(1, 10),
            lambda: consumer.receive_async(1, 10).result(timeout=5),
        ):
            started = time.monotonic()
            with pytest.raises(BrokerUnreachableException) as failed:
                call()
            assert time.monotonic() - started < 0.5 + 1.0
            assert isinstance(failed.value, ClientException)
            assert "127.0.0.1" in str(failed.value)
    finally:
        producer.shutdown()
        consumer.shutdown()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_silent_server_times_out_within_the_request_timeout(silent_server: str) -> None:
    config = ClientConfiguration(silent_server, Credentials(), request_timeout=0.3)
    producer = Producer(config)
    consumer = SimpleConsumer(config, "group", {"topic": FilterExpression()}, await_duration=0.2)
    outgoing = Message()
    outgoing.topic, outgoing.body = "topic", b"x"
    producer.startup()
    consumer.startup()
    try:
        for call, budget in (
            (lambda: producer.send(outgoing), 0.3),
            (lambda: consumer.receive(1, 10), 0.3 + 0.2),  # request timeout + long poll
        ):
            started = time.monotonic()
            with pytest.raises(ProxyTimeoutException):
                call()
            took = time.monotonic() - started
            assert budget * 0.9 <= took < budget + 1.0
    finally:
        producer.shutdown()
        consumer.shutdown()
