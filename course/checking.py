"""Run a stage's tests: all of them (``course test``) or its acceptance tests against a copy.

``course check N`` runs stage N's ``acceptance`` tests with ``--impl`` pointing at the learner's
workspace copy and returns one :class:`TestResult` per test, read from the JSON lines that
:mod:`course.pytest_report` writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .pytest_report import ENV_VAR
from .stages import ROOT, Stage, StageError


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test: ``passed``, ``failed``, ``error`` or ``skipped``."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str
    message: str
    doc: str

    @property
    def name(self) -> str:
        """The test's name without its file: ``test_x[param]``."""
        return self.nodeid.split("::", 1)[-1]


@dataclass
class CheckRun:
    """A finished ``course check``: pytest's exit code, the results and pytest's output."""

    returncode: int
    results: list[TestResult]
    output: str

    @property
    def passed(self) -> bool:
        """Every collected test passed (and at least one ran)."""
        return self.returncode == 0 and bool(self.results)


def pytest_command(stage: Stage, extra: list[str], root: Path = ROOT) -> list[str]:
    """The command ``course test N`` runs."""
    tests = stage.tests_path(root)
    if not tests.is_dir():
        raise StageError(f"stage {stage.label} has no tests yet (no tests/{stage.package}/)")
    return [sys.executable, "-m", "pytest", str(tests.relative_to(root)), *extra]


def run_tests(stage: Stage, extra: list[str], root: Path = ROOT) -> int:
    """Run pytest on the stage's test folder with ``extra`` arguments; pytest's exit code."""
    command = pytest_command(stage, extra, root)
    return subprocess.call(command, cwd=root)


def _merge(records: list[dict[str, str]]) -> list[TestResult]:
    """One result per test from its phases: a failed setup or teardown counts as an error."""
    merged: dict[str, TestResult] = {}
    for record in records:
        nodeid, when, outcome = record["nodeid"], record["when"], record["outcome"]
        if outcome == "failed" and when != "call":
            outcome = "error"
        current = merged.get(nodeid)
        if current is None or current.outcome in ("passed", "skipped"):
            merged[nodeid] = TestResult(nodeid, outcome, record["message"], record["doc"])
    return list(merged.values())


def check_copy(
    stage: Stage,
    copy: Path,
    extra: list[str] | None = None,
    root: Path = ROOT,
    timeout: float = 600,
) -> CheckRun:
    """Run ``stage``'s acceptance tests against the package folder ``copy``."""
    tests = stage.tests_path(root)
    if not tests.is_dir():
        raise StageError(f"stage {stage.label} has no tests yet (no tests/{stage.package}/)")
    with tempfile.TemporaryDirectory(prefix="course-check-") as scratch:
        report = Path(scratch) / "report.jsonl"
        command = [sys.executable, "-m", "pytest", str(tests.relative_to(root))]
        command += ["-m", "acceptance", f"--impl={copy}", "-p", "course.pytest_report"]
        command += ["-p", "no:cacheprovider", "-q", "--tb=short", "-rN", *(extra or [])]
        env = {**os.environ, ENV_VAR: str(report)}
        try:
            result = subprocess.run(
                command,
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            returncode, output = result.returncode, result.stdout + result.stderr
        except subprocess.TimeoutExpired as expired:
            partial = expired.stdout or b""
            if isinstance(partial, bytes):
                partial = partial.decode("utf-8", errors="replace")
            returncode = -1
            output = f"{partial}\nthe tests did not finish within {timeout:.0f} s"
        lines = report.read_text("utf-8").splitlines() if report.exists() else []
    return CheckRun(returncode, _merge([json.loads(line) for line in lines]), output)
