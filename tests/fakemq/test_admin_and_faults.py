"""BrokerAdmin in both modes: statistics, purge, and the fault knobs (latency, errors, pause)."""

from __future__ import annotations

import time

import pytest

from fakemq import BadRequestException, InternalErrorException, ProxyTimeoutException

pytestmark = pytest.mark.timeout(20)


def test_stats_count_every_state(mq) -> None:
    for n in range(4):
        mq.send(b"%d" % n)
    assert mq.admin.stats()["topics"][mq.topic] == {"messages": 4}
    assert mq.group_stats() == dict.fromkeys(mq.group_stats(), 0)  # group unknown yet: zeros

    consumer = mq.consumer(await_duration=2)
    first, second = consumer.receive(2, 10)
    counts = mq.group_stats()
    assert (counts["ready"], counts["in_flight"], counts["deliveries"]) == (2, 2, 2)

    consumer.ack(first)
    counts = mq.group_stats()
    assert (counts["ready"], counts["in_flight"], counts["acked"]) == (2, 1, 1)

    consumer.change_invisible_duration(second, 0.1)  # let it expire and come back
    redelivered = [m for m in consumer.receive(3, 10) if m.message_id == second.message_id]
    while not redelivered:
        redelivered = [m for m in consumer.receive(3, 10) if m.message_id == second.message_id]
    counts = mq.group_stats()
    assert counts["redeliveries"] == 1 and counts["expired"] == 1
    assert counts["deliveries"] == 5 and counts["in_flight"] == 3 and counts["ready"] == 0

    with pytest.raises(BadRequestException):
        consumer.ack(first)
    assert mq.group_stats()["rejected_acks"] == 1


def test_stats_count_dead_letters(mq) -> None:
    mq.admin.set_max_delivery_attempts(mq.group, 1)
    mq.send()
    consumer = mq.consumer(await_duration=0.3)
    assert len(consumer.receive(1, 0.05)) == 1
    assert consumer.receive(1, 0.05) == []
    counts = mq.group_stats()
    assert (counts["dlq"], counts["in_flight"], counts["ready"]) == (1, 0, 0)
    assert len(mq.admin.dlq_messages(mq.group)) == 1


def test_purge_a_topic(mq) -> None:
    other_topic = f"{mq.topic}-kept"
    for _ in range(3):
        mq.send()
    mq.send(b"kept", topic=other_topic)
    consumer = mq.consumer(await_duration=0.2)
    [held] = consumer.receive(1, 10)
    mq.admin.purge(mq.topic)
    assert mq.topic not in mq.admin.stats()["topics"]
    assert mq.admin.stats()["topics"][other_topic] == {"messages": 1}
    assert consumer.receive(5, 10) == []
    with pytest.raises(BadRequestException):
        consumer.ack(held)  # handles from before the purge are dead
    mq.send(b"after")
    assert [m.body for m in consumer.receive(5, 10)] == [b"after"]


def test_purge_everything_and_reset(mq) -> None:
    mq.send()
    mq.admin.set_faults(ack_latency=0.1)
    mq.admin.purge()
    assert mq.admin.stats()["topics"] == {} and mq.admin.stats()["groups"] == {}
    assert mq.admin.stats()["faults"]["ack_latency"] == 0.1  # purge keeps the knobs
    mq.admin.reset()
    assert mq.admin.stats()["faults"]["ack_latency"] == 0


def test_receive_and_ack_latency_knobs_add_latency(mq) -> None:
    for _ in range(2):
        mq.send()
    consumer = mq.consumer(await_duration=2)
    faults = mq.admin.set_faults(receive_latency=0.3, ack_latency=0.2)
    assert (faults["receive_latency"], faults["ack_latency"]) == (0.3, 0.2)
    started = time.monotonic()
    [slow] = consumer.receive(1, 10)
    assert mq.elapsed(started) >= 0.29
    started = time.monotonic()
    consumer.ack(slow)
    assert mq.elapsed(started) >= 0.19
    mq.admin.set_faults(receive_latency=0, ack_latency=0)
    started = time.monotonic()
    [fast] = consumer.receive(1, 10)
    consumer.ack(fast)
    assert mq.elapsed(started) < 0.2  # and gone again


def test_send_latency_knob(mq) -> None:
    producer = mq.producer()
    mq.admin.set_faults(send_latency=0.3)
    started = time.monotonic()
    producer.send(mq.message(mq.topic))
    assert mq.elapsed(started) >= 0.29


def test_latency_beyond_the_request_timeout_times_out(mq) -> None:
    mq.send()
    mq.admin.set_faults(ack_latency=5)
    consumer = mq.consumer(request_timeout=0.3)
    [received] = consumer.receive(1, 10)
    started = time.monotonic()
    with pytest.raises(ProxyTimeoutException):
        consumer.ack(received)
    assert 0.29 <= mq.elapsed(started) < 0.3 + 1.0
    mq.admin.set_faults(ack_latency=0)
    consumer.ack(received)  # the timed-out ack did not settle it


def test_receive_errors_lose_nothing(mq) -> None:
    receipt = mq.send()
    consumer = mq.consumer()
    mq.admin.set_faults(receive_error_rate=1.0)
    with pytest.raises(InternalErrorException):
        consumer.receive(1, 10)
    error = consumer.receive_async(1, 10).exception(timeout=5)
    assert isinstance(error, InternalErrorException)
    mq.admin.set_faults(receive_error_rate=0)
    [received] = consumer.receive(1, 10)
    assert received.message_id == receipt.message_id and received.delivery_attempt == 1


def test_ack_errors_lose_nothing_the_message_is_redelivered(mq) -> None:
    receipt = mq.send()
    consumer = mq.consumer(await_duration=3)
    [received] = consumer.receive(1, 0.2)
    mq.admin.set_faults(ack_error_rate=1.0)
    with pytest.raises(InternalErrorException) as failed:
        consumer.ack(received)
    assert failed.value.code == 50001
    assert isinstance(consumer.ack_async(received).exception(timeout=5), InternalErrorException)
    mq.admin.set_faults(ack_error_rate=0)
    [again] = consumer.receive(1, 10)  # the failed ack left the lease to run out
    assert again.message_id == receipt.message_id and again.delivery_attempt == 2
    consumer.ack(again)
    assert mq.group_stats()["acked"] == 1


def test_send_errors_are_reported_and_store_nothing(mq) -> None:
    producer = mq.producer()
    mq.admin.set_faults(send_error_rate=1.0)
    with pytest.raises(InternalErrorException):
        producer.send(mq.message(mq.topic))
    assert isinstance(
        producer.send_async(mq.message(mq.topic)).exception(5), InternalErrorException
    )
    assert mq.topic not in mq.admin.stats()["topics"]


def test_error_rate_is_a_probability(mq) -> None:
    producer = mq.producer()
    mq.admin.set_faults(send_error_rate=0.5)
    outcomes = []
    for _ in range(60):
        try:
            producer.send(mq.message(mq.topic))
            outcomes.append(True)
        except InternalErrorException:
            outcomes.append(False)
    assert 5 <= outcomes.count(False) <= 55  # ~30 expected; bounds far outside chance
    assert mq.admin.stats()["topics"][mq.topic]["messages"] == outcomes.count(True)


def test_pause_stalls_the_broker_and_resume_restores_it(mq) -> None:
    mq.send(b"before the pause")
    producer = mq.producer(request_timeout=0.4)
    consumer = mq.consumer(await_duration=0.4)
    mq.admin.pause()
    assert mq.admin.stats()["faults"]["paused"] is True

    started = time.monotonic()
    assert consumer.receive(1, 10) == []  # a message is ready, but the broker is stalled
    assert 0.38 <= mq.elapsed(started) < 0.4 + 1.5

    started = time.monotonic()
    with pytest.raises(ProxyTimeoutException):
        producer.send(mq.message(mq.topic, b"during the pause"))
    assert 0.38 <= mq.elapsed(started) < 0.4 + 1.5

    mq.admin.resume()
    assert [m.body for m in consumer.receive(5, 10)] == [b"before the pause"]
    producer.send(mq.message(mq.topic, b"after"))
    assert [m.body for m in consumer.receive(5, 10)] == [b"after"]


def test_resume_wakes_a_waiting_send(mq) -> None:
    producer = mq.producer(request_timeout=5)
    mq.admin.pause()
    thread, outcome = mq.in_thread(lambda: producer.send(mq.message(mq.topic)))
    time.sleep(0.2)
    assert thread.is_alive()  # waiting for the broker
    started = time.monotonic()
    mq.admin.resume()
    thread.join(5)
    assert "result" in outcome and mq.elapsed(started) < 2.0
