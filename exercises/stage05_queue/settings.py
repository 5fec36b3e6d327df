"""Settings from the environment, read once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    work_seconds: float = 0.1  # how long POST /work awaits (stands for an async I/O call)
    model_load_seconds: float = 0.5  # how long loading the model takes
    database_url: str = "memory://default"
    mq_endpoints: str = "memory://default"
    email_endpoint: str = "memory://default"
    topic: str = "email"
    consumer_group: str = "email-sender"
    pushback_topic: str = "email-pushback"
    await_duration: float = 5.0  # long poll: how long receive waits when nothing is ready
    invisible_duration: float = 30.0  # how long a received message stays leased
    batch_size: int = 16  # messages per receive
    poll_interval: float = 0.1  # pause between two receives
    heartbeat_seconds: float = 5.0
    workers: int = 4  # tasks that take messages from the queue
    queue_maxsize: int = 8  # messages waiting in the process; see README on sizing

    def __post_init__(self) -> None:
        # QUEUE_MAXSIZE=0 would make asyncio.Queue unbounded: the opposite of this stage.
        if self.workers < 1 or self.queue_maxsize < 1:
            raise ValueError("WORKERS and QUEUE_MAXSIZE must be at least 1")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            host=env("HOST", cls.host),
            port=int(env("PORT", cls.port)),
            work_seconds=float(env("WORK_SECONDS", cls.work_seconds)),
            model_load_seconds=float(env("MODEL_LOAD_SECONDS", cls.model_load_seconds)),
            database_url=env("DATABASE_URL", cls.database_url),
            mq_endpoints=env("MQ_ENDPOINTS", cls.mq_endpoints),
            email_endpoint=env("EMAIL_ENDPOINT", cls.email_endpoint),
            topic=env("MQ_TOPIC", cls.topic),
            consumer_group=env("MQ_GROUP", cls.consumer_group),
            pushback_topic=env("PUSHBACK_TOPIC", cls.pushback_topic),
            await_duration=float(env("AWAIT_DURATION", cls.await_duration)),
            invisible_duration=float(env("INVISIBLE_DURATION", cls.invisible_duration)),
            batch_size=int(env("BATCH_SIZE", cls.batch_size)),
            poll_interval=float(env("POLL_INTERVAL", cls.poll_interval)),
            heartbeat_seconds=float(env("HEARTBEAT_SECONDS", cls.heartbeat_seconds)),
            workers=int(env("WORKERS", cls.workers)),
            queue_maxsize=int(env("QUEUE_MAXSIZE", cls.queue_maxsize)),
        )
