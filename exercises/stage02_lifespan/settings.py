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

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("HOST", cls.host),
            port=int(os.environ.get("PORT", cls.port)),
            work_seconds=float(os.environ.get("WORK_SECONDS", cls.work_seconds)),
            model_load_seconds=float(os.environ.get("MODEL_LOAD_SECONDS", cls.model_load_seconds)),
            database_url=os.environ.get("DATABASE_URL", cls.database_url),
        )
