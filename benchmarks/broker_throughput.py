"""Throughput of the in-memory broker: send, receive in batches of 32, ack.

Run: ``.venv/bin/python benchmarks/broker_throughput.py [--messages N]``. One process, one
thread per role; prints messages per second for the whole send → receive → ack path.
"""

from __future__ import annotations

import argparse
import time
import uuid

from fakemq import (
    ClientConfiguration,
    Credentials,
    FilterExpression,
    Message,
    Producer,
    SimpleConsumer,
    drop_memory_broker,
)


def run(count: int, batch: int = 32) -> float:
    name = f"bench-{uuid.uuid4().hex}"
    config = ClientConfiguration(f"memory://{name}", Credentials())
    producer = Producer(config)
    consumer = SimpleConsumer(config, "bench", {"bench": FilterExpression()}, await_duration=1)
    producer.startup()
    consumer.startup()
    started = time.perf_counter()
    for number in range(count):
        message = Message()
        message.topic = "bench"
        message.body = b"%d" % number
        producer.send(message)
    done = 0
    while done < count:
        for received in consumer.receive(batch, 30):
            consumer.ack(received)
            done += 1
    elapsed = time.perf_counter() - started
    producer.shutdown()
    consumer.shutdown()
    drop_memory_broker(name)  # so that the next run does not share memory (and GC) with it
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rates = [run(args.messages) for _ in range(args.runs)]
    print(f"in-memory broker, send + receive(32) + ack, {args.messages} messages:")
    for rate in rates:
        print(f"  {rate:,.0f} messages/s")
    print(f"best {max(rates):,.0f} messages/s")


if __name__ == "__main__":
    main()
