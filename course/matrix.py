"""``course matrix``: every scenario against every stage, as one table of measured figures.

A cell is ``ok`` when the scenario's problem is absent at that stage, ``PROBLEM`` when it is
clearly present, ``?`` when neither verdict holds, ``n/a`` when the stage lacks what the
scenario exercises (no consumer yet, say). Once a scenario is ``ok`` at some stage it must stay
``ok`` at every later stage: :func:`regressions` lists the cells that break that rule.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .impl import Impl, ImplError, load_impl
from .scenarios import (
    blocking_worker,
    burst,
    consume_basic,
    has_consumer,
    lazy_model,
    loop_freeze,
    publish_during_poll,
    shutdown_during_poll,
)
from .stages import STAGES, Stage


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


@dataclass(frozen=True)
class Scenario:
    """One row of the matrix."""

    name: str
    question: str
    run: Callable[[Impl], Awaitable[Any]]
    figure: Callable[[Any], str]
    applies: Callable[[Impl], bool] = lambda impl: True


def scenarios(poll: float = 1.0) -> tuple[Scenario, ...]:
    """The matrix's rows. ``poll`` is the long-poll duration the loop scenarios use."""
    return (
        Scenario(
            "lazy model",
            "is the model loaded once, before serving?",
            lambda impl: lazy_model.run(impl),
            lambda r: f"{r.loads_total} load(s), first call {_ms(r.slowest_first_request)}",
        ),
        Scenario(
            "consumes",
            "does startup finish, and are messages processed?",
            lambda impl: consume_basic.run(impl),
            lambda r: f"{r.processed}/{r.published} sent, {r.heartbeats} heartbeats",
        ),
        Scenario(
            "loop freeze",
            "is the loop free while the consumer long-polls?",
            lambda impl: loop_freeze.run(impl, await_duration=poll),
            lambda r: f"lag {_ms(r.max_lag)}, /health {_ms(r.health_max)}",
            has_consumer,
        ),
        Scenario(
            "publish mid-poll",
            "does a message published mid-poll start at once?",
            lambda impl: publish_during_poll.run(impl, await_duration=poll, trials=2),
            lambda r: f"starts {_ms(r.median_delay)} late",
            has_consumer,
        ),
        Scenario(
            "shutdown mid-poll",
            "does shutdown wait for the poll?",
            lambda impl: shutdown_during_poll.run(impl, await_duration=poll),
            lambda r: f"shutdown {_ms(r.shutdown_seconds)}",
            has_consumer,
        ),
        Scenario(
            "burst",
            "does a 2,000-message burst stay bounded in the process?",
            lambda impl: burst.run(impl, 2_000),
            lambda r: f"held {r.peak_held}, {r.peak_tasks} tasks, {r.peak_in_flight} sends at once",
            has_consumer,
        ),
        Scenario(
            "blocking worker",
            "do more workers add throughput when sends block?",
            lambda impl: blocking_worker.run(impl),
            lambda r: f"8 vs 1 workers: {r.speedup:.1f}x, lag {_ms(r.lag_many)}",
            has_workers,
        ),
    )


def has_workers(impl: Impl) -> bool:
    """True if the stage has a WORKERS setting (stage 05 on)."""
    return has_consumer(impl) and "workers" in impl.get("settings", "Settings").__dataclass_fields__


@dataclass
class Cell:
    """One scenario measured on one stage."""

    scenario: str
    stage: int
    verdict: str  # "ok", "PROBLEM", "?", "n/a", "error"
    figure: str
    seconds: float


async def measure(scenario: Scenario, stage: Stage, impl: Impl) -> Cell:
    """Run one scenario on one stage; never raises."""
    started = time.perf_counter()
    if not scenario.applies(impl):
        return Cell(scenario.name, stage.number, "n/a", "", 0.0)
    try:
        result = await asyncio.wait_for(scenario.run(impl), timeout=60)
    except (ImplError, Exception) as error:
        text = f"{type(error).__name__}: {error}"
        return Cell(scenario.name, stage.number, "error", text, time.perf_counter() - started)
    verdict = "ok" if result.healthy else "PROBLEM" if result.broken else "?"
    elapsed = time.perf_counter() - started
    return Cell(scenario.name, stage.number, verdict, scenario.figure(result), elapsed)


async def run_matrix(stages: Sequence[Stage], rows: Sequence[Scenario] | None = None) -> list[Cell]:
    """Measure every scenario on every stage, one at a time (timings need a quiet machine)."""
    cells = []
    for stage in stages:
        impl = load_impl(stage.package)
        for scenario in rows if rows is not None else scenarios():
            cells.append(await measure(scenario, stage, impl))
    return cells


def regressions(cells: Sequence[Cell]) -> list[Cell]:
    """Cells that are not ``ok`` although an earlier stage was ``ok`` for the same scenario."""
    bad = []
    for name in dict.fromkeys(cell.scenario for cell in cells):
        fixed = False
        for cell in sorted((c for c in cells if c.scenario == name), key=lambda c: c.stage):
            if cell.verdict == "ok":
                fixed = True
            elif fixed:
                bad.append(cell)
    return bad


def render(cells: Sequence[Cell], stages: Sequence[Stage]) -> Any:
    """A rich table: one row per scenario, one column per stage."""
    from rich.table import Table

    table = Table(title="scenario matrix (ok = problem absent)", show_lines=True)
    table.add_column("scenario", style="bold")
    for stage in stages:
        table.add_column(stage.label, overflow="fold")
    styles = {"ok": "green", "PROBLEM": "red", "?": "yellow", "n/a": "dim", "error": "magenta"}
    for name in dict.fromkeys(cell.scenario for cell in cells):
        row = [name]
        for stage in stages:
            cell = next(c for c in cells if c.scenario == name and c.stage == stage.number)
            style = styles[cell.verdict]
            text = cell.verdict if not cell.figure else f"{cell.verdict}\n{cell.figure}"
            row.append(f"[{style}]{text}[/]")
        table.add_row(*row)
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``course matrix``; returns the exit status (1 on a regression)."""
    import logging

    from rich.console import Console

    parser = argparse.ArgumentParser(
        prog="course matrix", description="Run every scenario against every stage."
    )
    parser.add_argument("--stages", help="comma-separated stage numbers (default: all on disk)")
    parser.add_argument(
        "--poll", type=float, default=1.0, help="long-poll seconds for the loop scenarios"
    )
    args = parser.parse_args(argv)
    console = Console()
    stages = [stage for stage in STAGES if stage.exists()]
    if args.stages:
        wanted = {int(part) for part in args.stages.split(",") if part.strip()}
        stages = [stage for stage in stages if stage.number in wanted]
    # The stages log every message; keep the table readable (scenarios still count records).
    logging.getLogger().addHandler(logging.NullHandler())
    with console.status("measuring…"):
        cells = asyncio.run(run_matrix(stages, scenarios(args.poll)))
    console.print(render(cells, stages))
    bad = regressions(cells)
    for cell in bad:
        console.print(
            f"[red]regression:[/] {cell.scenario} is {cell.verdict} at stage {cell.stage}"
        )
    if not bad:
        console.print("[green]once fixed, stays fixed: no regressions[/]")
    return 1 if bad else 0
