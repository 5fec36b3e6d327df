"""Many producer and consumer threads on one broker: nothing lost, nothing settled twice."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

import pytest

from fakemq import BadRequestException, SimpleConsumer

PRODUCERS = 3
MESSAGES_PER_PRODUCER = 80
GROUPS = 2
CONSUMERS_PER_GROUP = 3
LEASE = 0.2  # short, so that leases expire and messages are redelivered during the run
SKIP_ACK = 0.3  # share of deliveries a consumer "forgets" to ack


@dataclass
class Ledger:
    """What the consumer threads saw, recorded under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # (group, message_id) -> [(delivery_attempt, receive started, receive returned)]
    deliveries: dict[tuple[str, str], list[tuple[int, float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    acks: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    skipped: int = 0
    late_acks: int = 0  # acks refused with 40013 because the lease had already run out
    errors: list[BaseException] = field(default_factory=list)

    def acked(self, group: str) -> int:
        with self.lock:
            return sum(1 for (g, _), count in self.acks.items() if g == group and count)


def consume(consumer: SimpleConsumer, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    """Receive, then randomly ack or leave the lease to expire, until told to stop."""
    chance = random.Random(seed)
    group = consumer.consumer_group
    try:
        while not stop.is_set():
            started = time.monotonic()
            batch = consumer.receive(4, LEASE)
            returned = time.monotonic()
            for message in batch:
                key = (group, message.message_id)
                with ledger.lock:
                    ledger.deliveries[key].append((message.delivery_attempt, started, returned))
                if chance.random() < SKIP_ACK:
                    with ledger.lock:
                        ledger.skipped += 1
                    continue
                try:
                    consumer.ack(message)
                except BadRequestException as error:
                    assert error.code == 40013
                    with ledger.lock:
                        ledger.late_acks += 1
                    continue
                with ledger.lock:
                    ledger.acks[key] += 1
    except BaseException as error:
        with ledger.lock:
            ledger.errors.append(error)


def produce(mq, count: int, prefix: str, sent: list[str], ledger: Ledger) -> None:
    try:
        producer = mq.producer()
        for number in range(count):
            receipt = producer.send(mq.message(mq.topic, f"{prefix}-{number}".encode()))
            sent.append(receipt.message_id)
    except BaseException as error:
        with ledger.lock:
            ledger.errors.append(error)


@pytest.mark.timeout(45)
def test_concurrent_producers_and_consumers_lose_nothing_and_settle_once(mq) -> None:
    ledger, stop = Ledger(), threading.Event()
    groups = [f"{mq.group}-{n}" for n in range(GROUPS)]
    sent: list[str] = []
    threads = [
        threading.Thread(target=consume, args=(mq.consumer(g, await_duration=0.2), ledger, stop, n))
        for n, g in enumerate(groups * CONSUMERS_PER_GROUP)
    ]
    threads += [
        threading.Thread(target=produce, args=(mq, MESSAGES_PER_PRODUCER, f"p{n}", sent, ledger))
        for n in range(PRODUCERS)
    ]
    for thread in threads:
        thread.start()
    total = PRODUCERS * MESSAGES_PER_PRODUCER
    finished = mq.wait_until(
        lambda: ledger.errors or all(ledger.acked(g) >= total for g in groups), timeout=30
    )
    stop.set()
    for thread in threads:
        thread.join(5)
    assert not ledger.errors, ledger.errors
    assert finished and len(sent) == total == len(set(sent))

    for group in groups:
        # Every message acked exactly once per group; nothing lost, nothing extra.
        acked = {mid: n for (g, mid), n in ledger.acks.items() if g == group}
        assert set(acked) == set(sent)
        assert set(acked.values()) == {1}
        counts = mq.group_stats(group)
        assert counts["acked"] == total
        assert counts["dlq"] == 0
        assert counts["deliveries"] == sum(
            len(d) for (g, _), d in ledger.deliveries.items() if g == group
        )
    assert ledger.skipped > 0 and sum(mq.group_stats(g)["redeliveries"] for g in groups) > 0

    for (group, message_id), deliveries in ledger.deliveries.items():
        # One lease at a time: attempts are 1, 2, 3, … and delivery k + 1 cannot have been
        # handed out before delivery k's lease ran out (its receive started before the lease).
        ordered = sorted(deliveries)
        assert [attempt for attempt, _, _ in ordered] == list(range(1, len(ordered) + 1))
        for (_, started, _), (_, _, next_returned) in pairwise(ordered):
            assert next_returned - started >= LEASE - 0.005, (group, message_id, ordered)
