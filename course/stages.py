"""The ten stages of the course: what each adds, when to study it, what it leaves unsolved.

The table here is the course plan. It describes every stage, written or
not; :func:`Stage.exists` says whether a stage's package is on disk yet, so the CLI can list
stages that are still to come.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: stage packages, ``tests/`` and ``exercises/`` live here."""

STAGE_DIR_PATTERN = re.compile(r"^stage(\d\d)_[a-z0-9_]+$")


class StageError(Exception):
    """A stage was asked for that does not exist (unknown, or not written yet)."""


@dataclass(frozen=True)
class Stage:
    """One stage of the course; ``package`` is its folder and import name (``stage04_x``)."""

    number: int
    package: str
    title: str
    mechanism: str
    """The new mechanism in a few words (the stage table)."""
    adds: str
    """The new mechanism in a sentence (exercise READMEs)."""
    day: int
    problem: str
    """The problem the stage leaves, in a few words (the stage table)."""
    problem_detail: str
    """The problem in a sentence: what a test shows and why."""

    @property
    def short(self) -> str:
        """The name without the number: ``to_thread``."""
        return self.package.split("_", 1)[1]

    @property
    def label(self) -> str:
        """``04 to_thread``: how the CLI names a stage in messages."""
        return f"{self.number:02d} {self.short}"

    def path(self, root: Path = ROOT) -> Path:
        """The stage's package folder."""
        return root / self.package

    def tests_path(self, root: Path = ROOT) -> Path:
        """The stage's test folder, ``tests/stageNN_x``."""
        return root / "tests" / self.package

    def exercise_path(self, root: Path = ROOT) -> Path:
        """The generated starter, ``exercises/stageNN_x``."""
        return root / "exercises" / self.package

    def exists(self, root: Path = ROOT) -> bool:
        """Whether the stage's package is on disk (has an ``__init__.py``)."""
        return (self.path(root) / "__init__.py").is_file()


STAGES: tuple[Stage, ...] = (
    Stage(
        number=1,
        package="stage01_minimal",
        title="A minimal async API",
        mechanism="GET /health, async POST /work",
        adds="GET /health and POST /work (await asyncio.sleep(0.1)) on one event loop",
        day=1,
        problem="resources load lazily: the first call is slow, the model loads twice",
        problem_detail=(
            "resources are created lazily on the first request: the first call is slow "
            "and concurrent first calls load the model more than once"
        ),
    ),
    Stage(
        number=2,
        package="stage02_lifespan",
        title="Resources in the lifespan",
        mechanism="lifespan puts resources on app.state",
        adds=(
            "a lifespan loads the model and the DB client into app.state before serving and "
            "closes them on shutdown"
        ),
        day=1,
        problem="a consume loop in the lifespan never lets startup finish",
        problem_detail="a consumer loop placed directly in the lifespan never lets startup finish",
    ),
    Stage(
        number=3,
        package="stage03_naive_task",
        title="A naive consumer task",
        mechanism="create_task consumer, blocking receive",
        adds=(
            "asyncio.create_task(periodic_consume(app)) with a heartbeat; the loop calls the "
            "SDK's blocking receive / future.result()"
        ),
        day=2,
        problem="the long poll freezes the event loop",
        problem_detail=(
            "while the consumer long-polls the event loop is frozen: /health latency "
            "and loop lag reach the long-poll duration, messages start late, shutdown "
            "waits for the poll"
        ),
    ),
    Stage(
        number=4,
        package="stage04_to_thread",
        title="Blocking calls leave the loop",
        mechanism="wrap_future / to_thread, a task per message",
        adds=(
            "asyncio.wrap_future for receive_async and asyncio.to_thread for the other blocking "
            "calls; one task per message, references kept"
        ),
        day=3,
        problem="a burst becomes ~10k tasks: memory grows, 429s",
        problem_detail=(
            "a burst of 10,000 messages becomes ~10,000 tasks at once: memory grows "
            "with the burst and the downstream's limit is exceeded (429s)"
        ),
    ),
    Stage(
        number=5,
        package="stage05_queue",
        title="Backpressure with a bounded queue",
        mechanism="bounded Queue, one puller, N workers",
        adds="a bounded asyncio.Queue, one puller, N workers, task_done",
        day=4,
        problem="a blocking call in a worker freezes the loop again",
        problem_detail=(
            "a blocking call inside a worker freezes the loop again: throughput stays "
            "at one message at a time whatever N is"
        ),
    ),
    Stage(
        number=6,
        package="stage06_executors",
        title="Dedicated executors",
        mechanism="thread pool for I/O, process pool for CPU",
        adds=(
            "a named ThreadPoolExecutor for blocking I/O and a ProcessPoolExecutor for CPU work, "
            "via loop.run_in_executor"
        ),
        day=5,
        problem="a hung call holds a worker forever",
        problem_detail=(
            "a hung downstream call holds a worker forever; the pool's hidden queue "
            "makes waiting look like slowness"
        ),
    ),
    Stage(
        number=7,
        package="stage07_limits",
        title="Limits, timeouts, cancellation",
        mechanism="Semaphore, timeouts, cancellation",
        adds=(
            "an asyncio.Semaphore for in-flight work, a per-message timeout, timeouts on the "
            "blocking calls themselves, cancellation handled"
        ),
        day=5,
        problem="ack-first + a crash loses acked messages",
        problem_detail=(
            "with ack-first, a crash (kill -9) mid-processing loses every message that "
            "was acked but not finished"
        ),
    ),
    Stage(
        number=8,
        package="stage08_semantics",
        title="Delivery semantics",
        mechanism="ack after success, DLQ, leases, idempotency",
        adds=(
            "ack after success (redelivery, DLQ, retry delay, lease renewal) or ack-first made "
            "safe with an outbox; idempotency by message id / business key"
        ),
        day=6,
        problem="stopping under load is messy",
        problem_detail=(
            "stopping under load is messy: cancelled handlers, CancelledError "
            "tracebacks, buffered messages stay invisible until their invisible "
            "duration ends"
        ),
    ),
    Stage(
        number=9,
        package="stage09_final",
        title="The production template",
        mechanism="ConsumerManager, graceful stop",
        adds=(
            "a ConsumerManager (per consumer: queue, semaphore, pools, settings) and a graceful "
            "stop: stop pulling, release buffered messages, drain with a deadline, cancel"
        ),
        day=7,
        problem="nobody can tell where it is slow",
        problem_detail=(
            "when it is slow, nobody can say whether it is slow in pulling, queueing, "
            "processing or push-back"
        ),
    ),
    Stage(
        number=10,
        package="stage10_observability",
        title="Observability",
        mechanism="metrics, JSON logs, a load test",
        adds=(
            "Prometheus metrics, structured JSON logs, a load-test script with a per-stage "
            "latency report"
        ),
        day=7,
        problem="none: the end of the course",
        problem_detail="none: this is the end of the course",
    ),
)

_BY_NUMBER = {stage.number: stage for stage in STAGES}
_BY_NAME = {stage.package: stage for stage in STAGES} | {stage.short: stage for stage in STAGES}


def find(number_or_name: int | str) -> Stage:
    """The stage called ``4``, ``"04"``, ``"stage04_to_thread"`` or ``"to_thread"``.

    Raises :class:`StageError` with a one-line message for anything else.
    """
    text = str(number_or_name).strip().rstrip("/")
    if text.isdigit() and int(text) in _BY_NUMBER:
        return _BY_NUMBER[int(text)]
    if text in _BY_NAME:
        return _BY_NAME[text]
    first, last = STAGES[0].number, STAGES[-1].number
    raise StageError(f"unknown stage '{text}': stages are {first}–{last} (see `course list`)")


def find_existing(number_or_name: int | str, root: Path = ROOT) -> Stage:
    """Like :func:`find`, but the stage must also be on disk under ``root``."""
    stage = find(number_or_name)
    if not stage.exists(root):
        raise StageError(
            f"stage {stage.label} is not written yet (there is no {stage.package}/ folder)"
        )
    return stage


def on_disk(root: Path = ROOT) -> list[str]:
    """The ``stageNN_x`` package folders under ``root``, sorted (including unplanned ones)."""
    return sorted(
        path.name
        for path in root.iterdir()
        if path.is_dir() and STAGE_DIR_PATTERN.match(path.name) and (path / "__init__.py").exists()
    )


def existing(root: Path = ROOT) -> list[Stage]:
    """The planned stages whose package is on disk, in course order."""
    present = set(on_disk(root))
    return [stage for stage in STAGES if stage.package in present]


def previous(stage: Stage) -> Stage | None:
    """The stage before ``stage`` (None for the first)."""
    return _BY_NUMBER.get(stage.number - 1)
