"""A pytest plugin that writes one JSON line per test phase, for ``course check``.

Loaded with ``-p course.pytest_report``; writes to the file named by ``$COURSE_REPORT`` (does
nothing without it). Each line: ``nodeid``, ``when``, ``outcome``, ``message`` (the exception's
one-line summary) and ``doc`` (the first line of the test's docstring).
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import pytest

ENV_VAR = "COURSE_REPORT"


def _first_line(text: str | None) -> str:
    for line in (text or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _message(call: pytest.CallInfo[Any], report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    if call.excinfo is None:
        return ""
    summary = call.excinfo.exconly().strip()
    if summary.startswith("Failed: "):
        summary = summary.removeprefix("Failed: ")
    lines = [line.strip() for line in summary.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith('File "'):  # SyntaxError: where, then what
        return f"{lines[-1]} ({lines[0]})"
    return lines[0] if lines else ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each phase of each test in ``$COURSE_REPORT``."""
    report = yield
    path = os.environ.get(ENV_VAR)
    if path and (report.when == "call" or report.outcome != "passed"):
        function = getattr(item, "function", None)
        record = {
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "message": _message(call, report),
            "doc": _first_line(getattr(function, "__doc__", None)),
        }
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")
    return report
