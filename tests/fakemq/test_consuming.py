"""The simple-consumer rules: long polling, futures, leases, receipt handles, DLQ, groups."""

from __future__ import annotations

import copy
import threading
import time
from concurrent.futures import Future

import pytest

from fakemq import INVALID_RECEIPT_HANDLE, BadRequestException, FilterExpression

pytestmark = pytest.mark.timeout(20)


def assert_stale(error: pytest.ExceptionInfo[BadRequestException]) -> None:
    assert error.value.code == INVALID_RECEIPT_HANDLE == 40013


# ---- long polling -------------------------------------------------------------------------


def test_receive_blocks_up_to_await_duration_then_returns_empty(mq) -> None:
    consumer = mq.consumer(await_duration=0.4)
    started = time.monotonic()
    assert consumer.receive(4, 5) == []
    took = mq.elapsed(started)
    assert 0.38 <= took < 0.4 + 2.0


def test_receive_returns_early_when_a_message_is_published_mid_poll(mq) -> None:
    await_duration = 6.0
    consumer = mq.consumer(await_duration=await_duration)
    polling = threading.Event()

    def publish_mid_poll() -> None:
        polling.wait(5)
        time.sleep(0.3)  # let the receive below reach its long poll
        mq.send(b"mid-poll")

    publisher, outcome = mq.in_thread(publish_mid_poll)
    polling.set()
    started = time.monotonic()
    received = consumer.receive(4, 5)
    took = mq.elapsed(started)
    publisher.join(5)
    assert "error" not in outcome
    assert [m.body for m in received] == [b"mid-poll"]
    assert 0.25 <= took < await_duration * 0.4  # woke on the publish, not on the timeout


def test_receive_returns_ready_messages_without_waiting(mq) -> None:
    mq.send(b"ready")
    consumer = mq.consumer(await_duration=6)
    started = time.monotonic()
    assert [m.body for m in consumer.receive(4, 5)] == [b"ready"]
    assert mq.elapsed(started) < 6 * 0.4


# ---- receive_async ------------------------------------------------------------------------


def test_receive_async_returns_a_future_resolved_on_another_thread(mq) -> None:
    consumer = mq.consumer(await_duration=5)
    started = time.monotonic()
    future = consumer.receive_async(4, 5)
    assert mq.elapsed(started) < 1.0  # returned at once: the caller does not long-poll
    assert isinstance(future, Future)
    resolved_on: list[int] = []
    done = threading.Event()

    def on_done(_: Future) -> None:
        resolved_on.append(threading.get_ident())
        done.set()

    future.add_done_callback(on_done)  # added while pending: runs where the future resolves
    assert not future.done()
    mq.send(b"async")
    assert done.wait(5)
    assert resolved_on and resolved_on[0] != threading.get_ident()
    assert [m.body for m in future.result()] == [b"async"]


def test_receive_async_future_returns_empty_after_await_duration(mq) -> None:
    consumer = mq.consumer(await_duration=0.3)
    assert consumer.receive_async(1, 5).result(timeout=5) == []


# ---- leases and receipt handles -----------------------------------------------------------


def test_unacked_message_is_redelivered_after_its_invisible_duration(mq) -> None:
    receipt = mq.send(b"again")
    consumer = mq.consumer(await_duration=3)
    started = time.monotonic()
    [first] = consumer.receive(1, 0.4)
    [second] = consumer.receive(1, 5)
    took = mq.elapsed(started)
    assert first.message_id == second.message_id == receipt.message_id
    assert (first.delivery_attempt, second.delivery_attempt) == (1, 2)
    assert second.receipt_handle != first.receipt_handle
    assert second.body == b"again" and second.topic == mq.topic
    assert took >= 0.39  # not before the lease ran out
    with pytest.raises(BadRequestException) as stale:
        consumer.ack(first)  # the expired lease's handle is dead
    assert_stale(stale)
    consumer.ack(second)
    assert mq.group_stats()["acked"] == 1


def test_message_is_not_redelivered_while_invisible(mq) -> None:
    mq.send()
    consumer = mq.consumer(await_duration=0.2)
    assert len(consumer.receive(1, 10)) == 1
    other = mq.consumer(await_duration=0.2)  # same group, another receiver
    assert other.receive(1, 10) == []


def test_acked_message_is_never_delivered_again(mq) -> None:
    mq.send()
    consumer = mq.consumer(await_duration=0.25)
    [received] = consumer.receive(1, 0.1)
    consumer.ack(received)
    assert consumer.receive(1, 0.1) == []  # waited past the old lease
    assert mq.group_stats()["deliveries"] == 1


def test_ack_and_change_with_a_settled_handle_raise_40013(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 10)
    consumer.ack(received)
    with pytest.raises(BadRequestException) as twice:
        consumer.ack(received)
    assert_stale(twice)
    with pytest.raises(BadRequestException) as change:
        consumer.change_invisible_duration(received, 5)
    assert_stale(change)
    assert mq.group_stats()["rejected_acks"] == 2


def test_expired_handle_is_stale_even_before_redelivery(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 0.1)
    time.sleep(0.2)
    with pytest.raises(BadRequestException) as stale:
        consumer.ack(received)
    assert_stale(stale)


def test_garbage_handle_is_rejected(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 10)
    forged = copy.copy(received)
    forged.receipt_handle = "not-a-handle"
    with pytest.raises(BadRequestException) as stale:
        consumer.ack(forged)
    assert_stale(stale)


def test_change_invisible_duration_replaces_the_handle(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 10)
    old = copy.copy(received)
    assert consumer.change_invisible_duration(received, 10) is None
    assert received.receipt_handle and received.receipt_handle != old.receipt_handle
    with pytest.raises(BadRequestException) as superseded:
        consumer.ack(old)
    assert_stale(superseded)
    with pytest.raises(BadRequestException) as superseded_change:
        consumer.change_invisible_duration(old, 10)
    assert_stale(superseded_change)
    consumer.ack(received)  # the new handle is the valid one
    assert mq.group_stats()["acked"] == 1


def test_change_invisible_duration_keeps_the_message_invisible_for_the_new_duration(mq) -> None:
    mq.send()
    consumer = mq.consumer(await_duration=5)
    [received] = consumer.receive(1, 0.2)
    changed_at = time.monotonic()
    consumer.change_invisible_duration(received, 0.6)  # counted from now, beyond the 0.2 s
    [again] = consumer.receive(1, 10)
    waited = mq.elapsed(changed_at)
    assert again.message_id == received.message_id and again.delivery_attempt == 2
    assert waited >= 0.58  # invisible for the new duration, not the original one
    assert waited < 0.6 + 3.0  # and visible again once it ended


def test_change_invisible_duration_can_shorten_the_lease(mq) -> None:
    mq.send()
    consumer = mq.consumer(await_duration=5)
    [received] = consumer.receive(1, 30)
    started = time.monotonic()
    consumer.change_invisible_duration(received, 0.2)  # "retry in 0.2 s"
    [again] = consumer.receive(1, 30)
    assert again.delivery_attempt == 2
    assert mq.elapsed(started) < 3.0


def test_change_invisible_duration_async_returns_a_future(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 10)
    old_handle = received.receipt_handle
    future = consumer.change_invisible_duration_async(received, 10)
    assert isinstance(future, Future)
    assert future.result(timeout=5) is None
    assert received.receipt_handle != old_handle


# ---- dead letters ---------------------------------------------------------------------------


def test_message_goes_to_the_dlq_after_max_delivery_attempts(mq) -> None:
    mq.admin.set_max_delivery_attempts(mq.group, 2)
    receipt = mq.send(b"poison", tag="bad")
    consumer = mq.consumer(await_duration=3)
    attempts = [m.delivery_attempt for m in consumer.receive(1, 0.1)]
    attempts += [m.delivery_attempt for m in consumer.receive(1, 0.1)]
    assert attempts == [1, 2]
    consumer.await_duration = 0.4
    assert consumer.receive(1, 0.1) == []  # the third delivery went to the DLQ instead
    [dead] = mq.admin.dlq_messages(mq.group)
    assert dead["message_id"] == receipt.message_id
    assert dead["topic"] == f"%DLQ%{mq.group}"
    assert dead["body"] == b"poison" and dead["tag"] == "bad"
    assert dead["properties"]["ORIGIN_TOPIC"] == mq.topic
    counts = mq.group_stats()
    assert (counts["dlq"], counts["deliveries"], counts["acked"]) == (1, 2, 0)
    assert mq.admin.stats()["topics"][f"%DLQ%{mq.group}"]["messages"] == 1


def test_dlq_is_per_group(mq) -> None:
    mq.admin.set_max_delivery_attempts(mq.group, 1)
    mq.send()
    doomed = mq.consumer(await_duration=0.3)
    healthy = mq.consumer(group=f"{mq.group}-other", await_duration=0.3)
    assert len(doomed.receive(1, 0.1)) == 1
    assert doomed.receive(1, 0.1) == []
    [received] = healthy.receive(1, 10)  # the other group still has its copy
    healthy.ack(received)
    assert len(mq.admin.dlq_messages(mq.group)) == 1
    assert mq.admin.dlq_messages(f"{mq.group}-other") == []


def test_default_max_delivery_attempts_is_seventeen() -> None:
    from fakemq import DEFAULT_MAX_DELIVERY_ATTEMPTS

    assert DEFAULT_MAX_DELIVERY_ATTEMPTS == 17  # RocketMQ: 16 retries after the first


# ---- ack_async --------------------------------------------------------------------------------


def test_ack_async_returns_a_future_that_settles_the_message(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 10)
    future = consumer.ack_async(received)
    assert isinstance(future, Future)
    assert future.result(timeout=5) is None
    assert mq.group_stats()["acked"] == 1


def test_ack_async_future_carries_the_stale_handle_error(mq) -> None:
    mq.send()
    consumer = mq.consumer()
    [received] = consumer.receive(1, 10)
    consumer.ack(received)
    error = consumer.ack_async(received).exception(timeout=5)
    assert isinstance(error, BadRequestException) and error.code == 40013


# ---- filters, groups and competing receivers ---------------------------------------------------


def test_tag_filters(mq) -> None:
    for tag in ("a", "b", "c", None):
        mq.send(f"{tag}".encode(), tag=tag)
    everything = mq.consumer(group=f"{mq.group}-all")
    some = mq.consumer(group=f"{mq.group}-ab", subscription={mq.topic: FilterExpression("a||b")})
    assert sorted(m.body for m in everything.receive(10, 10)) == [b"None", b"a", b"b", b"c"]
    assert sorted(m.tag for m in some.receive(10, 10)) == ["a", "b"]
    assert mq.group_stats(f"{mq.group}-ab")["filtered"] == 2


def test_every_group_gets_every_message(mq) -> None:
    sent = {mq.send(b"%d" % n).message_id for n in range(5)}
    for name in ("one", "two", "three"):
        consumer = mq.consumer(group=f"{mq.group}-{name}")
        received = consumer.receive(10, 10)
        assert {m.message_id for m in received} == sent
        for m in received:
            consumer.ack(m)
    assert mq.group_stats(f"{mq.group}-two")["acked"] == 5


def test_within_a_group_each_message_goes_to_one_receiver(mq) -> None:
    sent = {mq.send(b"%d" % n).message_id for n in range(20)}
    first, second = mq.consumer(await_duration=0.1), mq.consumer(await_duration=0.1)
    seen: dict[str, list[str]] = {"first": [], "second": []}
    while True:
        batch_one = first.receive(3, 30)
        batch_two = second.receive(3, 30)
        seen["first"] += [m.message_id for m in batch_one]
        seen["second"] += [m.message_id for m in batch_two]
        if not batch_one and not batch_two:
            break
    assert seen["first"] and seen["second"]
    assert not set(seen["first"]) & set(seen["second"])
    assert sorted(seen["first"] + seen["second"]) == sorted(sent)


def test_batch_respects_max_message_num(mq) -> None:
    for n in range(5):
        mq.send(b"%d" % n)
    consumer = mq.consumer()
    assert len(consumer.receive(2, 10)) == 2
    assert len(consumer.receive(10, 10)) == 3


def test_one_receive_may_return_messages_of_several_topics(mq) -> None:
    other_topic = f"{mq.topic}-2"
    mq.send(b"one")
    mq.send(b"two", topic=other_topic)
    consumer = mq.consumer(
        subscription={mq.topic: FilterExpression(), other_topic: FilterExpression()}
    )
    received = consumer.receive(10, 10)
    assert sorted(m.topic for m in received) == sorted([mq.topic, other_topic])
    for m in received:
        consumer.ack(m)  # each ack goes to its own topic


def test_received_message_fields(mq) -> None:
    producer = mq.producer()
    outgoing = mq.message(mq.topic, b"\x00\xffbinary", tag="t")
    outgoing.keys = "order-1"
    outgoing.add_property("trace", "abc")
    receipt = producer.send(outgoing)
    assert outgoing.message_id == receipt.message_id
    [received] = mq.consumer().receive(1, 10)
    assert received.message_id == receipt.message_id
    assert received.body == b"\x00\xffbinary"
    assert received.tag == "t"
    assert received.keys == {"order-1"}
    assert received.properties == {"trace": "abc"}
    assert received.delivery_attempt == 1
    assert isinstance(received.born_timestamp, int)
    assert abs(received.born_timestamp / 1000 - time.time()) < 60


def test_a_new_group_reads_a_topic_from_its_first_message(mq) -> None:
    mq.send(b"before the group existed")
    late = mq.consumer(group=f"{mq.group}-late")
    assert [m.body for m in late.receive(1, 10)] == [b"before the group existed"]


def test_subscribe_and_unsubscribe_while_running(mq) -> None:
    other_topic = f"{mq.topic}-2"
    consumer = mq.consumer()
    consumer.subscribe(other_topic, FilterExpression("x"))
    consumer.unsubscribe(mq.topic)
    assert set(consumer.subscriptions) == {other_topic}
    mq.send(b"ignored")
    mq.send(b"wanted", tag="x", topic=other_topic)
    assert [m.body for m in consumer.receive(10, 10)] == [b"wanted"]
