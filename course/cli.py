"""The ``course`` command: read, diff, run and test the stages; do and check the exercises.

Every subcommand has ``--help``. Errors a user can make (an unknown stage, a stage not written
yet, no workspace) print one red line and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from . import checking, diffs, exercises, workspace
from .exercises import ExerciseError
from .markers import Todo
from .stages import STAGES, StageError, find, find_existing, previous
from .workspace import WorkspaceError, display

DEFAULT_EMAIL_LATENCY = 0.05

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def say(*objects: Any, **options: Any) -> None:
    """Print on stdout without wrapping long lines (tables and Markdown still fit the width)."""
    console.print(*objects, soft_wrap=True, **options)


EPILOG = """\
a learner's day:   course show 4 · course diff 4 · course test 4 · course init · course check 4
an instructor:     course run 3 --burst 1000   (the frozen loop), then course run 4 --burst 1000
stages are named by number (4), padded number (04) or name (to_thread, stage04_to_thread)."""


class Fail(Exception):
    """A user-facing error: printed as one red line, exit ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------------- list, show


def cmd_list(args: argparse.Namespace) -> int:
    """Print the stage table."""
    table = Table(title="The course: ten stages, seven days", title_justify="left", expand=False)
    table.add_column("#", justify="right", style="bold")
    table.add_column("stage", no_wrap=True)
    table.add_column("adds", overflow="fold")
    table.add_column("day", justify="center")
    table.add_column("problem it leaves", overflow="fold")
    table.add_column("written", no_wrap=True)
    for stage in STAGES:
        written = stage.exists()
        exercise = (stage.exercise_path() / "__init__.py").is_file()
        status = ("[green]yes[/]" if written else "not yet") + (" + exercise" if exercise else "")
        style = None if written else "dim"
        table.add_row(
            f"{stage.number:02d}",
            stage.package,
            stage.mechanism,
            str(stage.day),
            stage.problem,
            status,
            style=style,
        )
    console.print(table)
    say("Read one: course show N · what changed: course diff N · tests: course test N")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Render the stage README."""
    stage = find_existing(args.stage)
    readme = stage.path() / "README.md"
    if not readme.is_file():
        raise Fail(f"stage {stage.label} has no README.md yet")
    say(Text(f"stage {stage.label} · day {stage.day} · {stage.title}", style="bold cyan"))
    console.print(Markdown(readme.read_text("utf-8"), code_theme="ansi_dark"))
    return 0


# ---------------------------------------------------------------------------------------- diff


def cmd_diff(args: argparse.Namespace) -> int:
    """Show what changed from the previous stage."""
    stage = find_existing(args.stage)
    before = previous(stage)
    if before is None:
        raise Fail(
            f"stage {stage.label} is the first stage: nothing to diff against "
            f"(read it with `course show {stage.number}`)"
        )
    if not before.exists():
        raise Fail(f"stage {before.label} is not written yet, so there is nothing to diff against")
    changes = diffs.diff_stages(before, stage, code_only=args.code_only)
    say(
        Text(f"{before.package} → {stage.package}", style="bold cyan")
        + Text("  (both read as stage/; markers left out)", style="dim")
    )
    if not changes:
        say("no differences")
        return 0
    if args.stat:
        _print_stat(changes)
        return 0
    if not console.is_terminal:  # piped or redirected: a plain unified diff, no wrapping
        sys.stdout.write("".join(change.text for change in changes))
        return 0
    for change in changes:
        console.print(Rule(f"{change.path} ({change.status})", align="left", style="dim"))
        syntax = Syntax(change.text, "diff", theme="ansi_dark", background_color="default")
        console.print(syntax, soft_wrap=True)
    return 0


def _print_stat(changes: list[diffs.FileDiff]) -> None:
    width = max(len(change.path) for change in changes)
    biggest = max(change.added + change.removed for change in changes) or 1
    for change in changes:
        total = change.added + change.removed
        scale = min(1.0, 40 / biggest)
        plus = max(round(change.added * scale), 1 if change.added else 0)
        minus = max(round(change.removed * scale), 1 if change.removed else 0)
        line = Text(f" {change.path.ljust(width)} | {total:4d} ")
        line.append("+" * plus, style="green")
        line.append("-" * minus, style="red")
        if change.status != "modified":
            line.append(f"  ({change.status})", style="dim")
        if change.binary:
            line.append("  (binary)", style="dim")
        say(line)
    added = sum(change.added for change in changes)
    removed = sum(change.removed for change in changes)
    say(f" {len(changes)} files changed, {added} insertions(+), {removed} deletions(-)")


# --------------------------------------------------------------------------------- test, check


def cmd_test(args: argparse.Namespace) -> int:
    """Run the stage's tests with pytest."""
    stage = find_existing(args.stage)
    extra = list(args.pytest_args)
    say(f"[dim]$ pytest tests/{stage.package} {' '.join(extra)}[/]")
    return checking.run_tests(stage, extra)


def _todo_for(message: str, todos: list[Todo]) -> Todo | None:
    """The TODO whose ``NotImplementedError`` made a test fail, if that is what happened."""
    for todo in todos:
        if todo.hint in message:
            return todo
    return None


def cmd_check(args: argparse.Namespace) -> int:
    """Run the stage's acceptance tests against the learner's copy."""
    stage = find_existing(args.stage)
    root = workspace.workspace_root(args.workspace)
    copy = workspace.exercise_copy(stage, root)
    original = exercises.todos_in(stage.exercise_path())
    say(
        f"checking [bold]{display(copy)}[/] against the acceptance tests of stage {stage.label}…",
    )
    run = checking.check_copy(stage, copy, list(args.pytest_args))
    if not run.results:
        tail = "\n".join(run.output.strip().splitlines()[-20:])
        say(Text(tail, style="dim"))
        raise Fail(f"no acceptance test ran (pytest exit code {run.returncode}); see above", 1)
    left = exercises.todos_in(copy)
    for result in run.results:
        passed = result.outcome in ("passed", "skipped")
        mark = Text(
            "  PASS " if passed else "  FAIL ", style="bold green" if passed else "bold red"
        )
        line = mark + Text(result.name) + Text(f"  {result.doc}" if result.doc else "", "dim")
        say(line)
        if passed:
            continue
        todo = _todo_for(result.message, left or original)
        if todo is not None and "NotImplementedError" in result.message:
            where = f"{display(copy / todo.file)}:{todo.line}" if left else todo.file
            text = f"         not written yet: TODO at {where}: {todo.hint}"
            say(Text(text, style="yellow"))
        else:
            say(Text(f"         {result.message}", style="red"))
    failed = [result for result in run.results if result.outcome in ("failed", "error")]
    total = len(run.results)
    if not failed and run.returncode == 0:
        say(f"[bold green]all {total} acceptance tests pass[/]: stage {stage.label} done.")
        say(f"Compare with the course's version: course diff {stage.number}")
        return 0
    say(f"[bold red]{len(failed)} of {total} acceptance tests fail.[/]")
    if left:
        say("[yellow]TODOs left in your copy:[/]")
        for todo in left:
            where = f"{display(copy / todo.file)}:{todo.line}"
            say(f"  {where}  {todo.hint}", markup=False)
    elif original:
        say("[yellow]The exercise's hints:[/]")
        for todo in original:
            say(f"  {todo.where}  {todo.hint}", markup=False)
    say(
        f"More: course show {stage.number} · full pytest output: course test "
        f"{stage.number} -- -m acceptance --impl {display(copy)}",
    )
    return 1


# -------------------------------------------------------------------------- init, exercises


def cmd_init(args: argparse.Namespace) -> int:
    """Copy the starters into the workspace."""
    root = workspace.workspace_root(args.workspace)
    chosen = [find(name) for name in args.stages] if args.stages else None
    report = workspace.init(chosen, workspace=root, force=args.force)
    where = display(root)
    for stage in report.copied:
        say(f"[green]copied[/]      exercises/{stage.package} → {where}/{stage.package}")
    for stage in report.overwritten:
        say(f"[yellow]overwritten[/] {where}/{stage.package} with a fresh copy (--force)")
    for stage in report.kept:
        say(
            f"[dim]kept[/]        {where}/{stage.package} (exists; `course init "
            f"{stage.number} --force` replaces it with a fresh starter)"
        )
    if chosen is not None and report.kept:
        raise Fail("not overwriting your work; pass --force to start over", 1)
    done = report.copied + report.overwritten
    if done:
        say(
            f"Your workspace is {where}/ (git ignores it). Next: fill the TODOs, then "
            f"`course check {done[0].number}`."
        )
    else:
        say(f"Nothing to copy: every exercise is already in {where}/.")
    return 0


def cmd_exercises(args: argparse.Namespace) -> int:
    """Regenerate exercises/ or check that it is up to date."""
    if args.check:
        report = exercises.check()
        for label, paths in (
            ("stale", report.stale),
            ("missing", report.missing),
            ("extra", report.extra),
        ):
            for path in paths:
                errors.print(f"[red]{label}:[/] exercises/{path}")
        for stage in report.unmarked:
            errors.print(f"[red]no exercise:[/] {stage.package} has no '# >>> new: <hint>' markers")
        if not report.ok:
            errors.print("[red]error:[/] exercises/ is out of date: run `course exercises`")
            return 1
        say(f"exercises/ is up to date ({len(report.starters)} starters)")
        return 0
    report = exercises.generate()
    for starter in report.starters:
        say(f"[green]exercises/{starter.stage.package}[/]: {len(starter.todos)} TODOs")
    for path in report.written:
        say(f"  wrote   exercises/{path}", style="dim")
    for path in report.removed:
        say(f"  removed exercises/{path}", style="dim")
    for stage in report.unmarked:
        errors.print(
            f"[yellow]warning:[/] {stage.package} has no '# >>> new: <hint>' markers: no exercise"
        )
    if not report.written and not report.removed:
        say("exercises/ was already up to date")
    return 0


# ------------------------------------------------------------------------------ run, matrix


def cmd_run(args: argparse.Namespace) -> int:
    """Serve a stage with traffic and a live status line."""
    from .runner import RunOptions, run  # uvicorn and fakemq load only for `course run`

    stage = find_existing(args.stage)
    options = RunOptions(
        stage=stage,
        host=args.host,
        port=args.port,
        rate=args.rate,
        burst=args.burst,
        email_latency=args.email_latency,
        hang_rate=args.hang_rate,
        failure_rate=args.failure_rate,
        broker_latency=args.broker_latency,
        duration=args.duration,
        log_level=args.log_level,
        access_log=not args.no_access_log,
    )
    return run(options, console)


def _matrix_available() -> bool:
    try:
        importlib.import_module("course.matrix")
    except ModuleNotFoundError as error:
        if error.name != "course.matrix":
            raise
        return False
    return True


def cmd_matrix(args: argparse.Namespace) -> int:
    """Delegate to ``course.matrix.main(argv)`` when it exists."""
    if not _matrix_available():
        raise Fail("the scenario matrix is not available yet", 1)
    matrix = importlib.import_module("course.matrix")
    return int(matrix.main(list(args.matrix_args)) or 0)


# ------------------------------------------------------------------------------------ parser


def _stage_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stage", metavar="N", help="stage number (1–10) or name")


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a rate is between 0 and 1")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``course`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="course",
        description="Run a message-queue consumer inside FastAPI, in ten stages: read, diff, "
        "run and test each stage, then solve its exercise.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int], summary: str, text: str):
        command = sub.add_parser(
            name,
            help=summary,
            description=text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.set_defaults(handler=handler)
        return command

    add(
        "list",
        cmd_list,
        "the stage table",
        "The ten stages: what each adds, its day in the seven-day plan, the problem it leaves "
        "for the next stage, and whether it (and its exercise) is written yet.",
    )

    _stage_arg(
        add(
            "show",
            cmd_show,
            "read a stage's README",
            "Render stage N's README in the terminal: goal, what changed, how to run it, "
            "its acceptance tests, the problem it leaves, its exercise.",
        )
    )

    command = add(
        "diff",
        cmd_diff,
        "what stage N changed since stage N-1",
        "Unified diff of every file from stage N-1 to stage N, syntax-highlighted. "
        "Both folders read as stage/…, and the exercise markers (# >>> new / "
        "# <<< new) are left out, so only real changes show.",
    )
    _stage_arg(command)
    command.add_argument("--stat", action="store_true", help="only a per-file summary")
    command.add_argument("--code-only", action="store_true", help="only the .py files")

    command = add(
        "run",
        cmd_run,
        "serve a stage live, with traffic and faults",
        "Serve stage N in this process on an in-process fake broker, with synthetic "
        "'email' orders published at --rate per second, and a live status line: "
        "messages published / processed, in flight, queue depth, tasks, event-loop "
        "lag. The status line runs on the app's event loop: when the stage blocks "
        "the loop, the line freezes. Stage settings come from the environment as "
        "usual (for example WORKERS=8 course run 5).\n\n"
        "  course run 3 --burst 1000     the naive consumer freezes the service\n"
        "  course run 4 --burst 1000     the same burst, with the loop free",
    )
    _stage_arg(command)
    command.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    command.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any)")
    command.add_argument(
        "--rate",
        type=_non_negative,
        default=5.0,
        help="messages published per second (default 5; 0: none)",
    )
    command.add_argument(
        "--burst",
        type=_count,
        default=0,
        metavar="K",
        help="publish K messages at once after start",
    )
    command.add_argument(
        "--email-latency",
        type=_non_negative,
        default=DEFAULT_EMAIL_LATENCY,
        metavar="S",
        help=f"each email send blocks S seconds (default {DEFAULT_EMAIL_LATENCY:g}, like a real "
        "email API; 0 for an instant one)",
    )
    command.add_argument(
        "--hang-rate",
        type=_rate,
        metavar="R",
        help="fraction of email sends that hang until their timeout",
    )
    command.add_argument(
        "--failure-rate", type=_rate, metavar="R", help="fraction of email sends that fail (503)"
    )
    command.add_argument(
        "--broker-latency",
        type=_non_negative,
        metavar="S",
        help="every broker receive takes S seconds longer",
    )
    command.add_argument(
        "--duration", type=_non_negative, metavar="S", help="stop by itself after S seconds"
    )
    command.add_argument("--log-level", default="INFO", help="log level (default INFO)")
    command.add_argument("--no-access-log", action="store_true", help="no uvicorn access log")

    command = add(
        "test",
        cmd_test,
        "run a stage's tests",
        "Run pytest on tests/stageNN_x. Extra arguments go to pytest, e.g.\n\n"
        "  course test 4 -m acceptance\n"
        "  course test 2 -- --impl stage01_minimal -m acceptance\n\n"
        "The exit code is pytest's.",
    )
    _stage_arg(command)
    command.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")

    command = add(
        "check",
        cmd_check,
        "check your exercise for a stage",
        "Run stage N's acceptance tests against your copy in the workspace "
        "(work/stageNN_x, made by `course init`) and print pass/fail per test, with "
        "a hint for what failed. Exit 0 when all pass.",
    )
    _stage_arg(command)
    command.add_argument(
        "--workspace",
        metavar="DIR",
        help=f"workspace folder (default ${workspace.ENV_VAR} or work/)",
    )
    command.add_argument(
        "pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help="after --: passed to pytest"
    )

    command = add(
        "init",
        cmd_init,
        "copy the exercises into your workspace",
        "Copy the exercise starters (exercises/stageNN_x) into the workspace, work/ "
        f"at the repository root (git ignores it) or ${workspace.ENV_VAR}. An "
        "existing copy is kept unless --force.",
    )
    command.add_argument("stages", nargs="*", metavar="N", help="only these stages")
    command.add_argument("--force", action="store_true", help="replace existing copies")
    command.add_argument("--workspace", metavar="DIR", help="workspace folder")

    command = add(
        "exercises",
        cmd_exercises,
        "regenerate the exercise starters",
        "Regenerate exercises/ from the stages: each marked block of new code "
        "(# >>> new: <hint> … # <<< new) becomes a TODO with its hint, and each "
        "exercise gets a README. --check changes nothing and fails when exercises/ "
        "is stale (CI runs it).",
    )
    command.add_argument("--check", action="store_true", help="fail if exercises/ is stale")

    command = add(
        "matrix",
        cmd_matrix,
        "every scenario against every stage",
        "Run every scenario (loop freeze, burst, blocking handler, hung downstream, "
        "…) against every stage and print a table of measured figures with "
        "pass/fail. Arguments go to the matrix.",
    )
    command.add_argument("matrix_args", nargs="*", metavar="ARGS", help="passed to the matrix")
    # (main() hands everything after `matrix` to the matrix, options included)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``course`` console script; returns the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if argv[:1] == ["matrix"]:  # the matrix parses its own arguments
        argv, passthrough = argv[:1], argv[1:]
        if {"-h", "--help"} & set(passthrough) and not _matrix_available():
            argv = ["matrix", "--help"]
    elif "--" in argv:  # everything after -- goes to pytest
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    if hasattr(args, "pytest_args"):
        args.pytest_args = [*args.pytest_args, *passthrough]
    if hasattr(args, "matrix_args"):
        args.matrix_args = passthrough
    try:
        return args.handler(args)
    except (Fail, StageError, WorkspaceError, ExerciseError) as error:
        code = (
            error.code if isinstance(error, Fail) else 1 if isinstance(error, ExerciseError) else 2
        )
        message = str(error)
        first, _, rest = message.partition("\n")
        errors.print(Text("error: ", style="bold red") + Text(first, style="red"))
        if rest:
            errors.print(Text(rest, style="dim"))
        return code
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
