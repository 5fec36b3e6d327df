"""Test harness shared by every test folder.

- ``--impl`` swaps the implementation under test (a stage package name or a folder path).
  Without it, tests in ``tests/stageNN_x/`` test the package ``stageNN_x``.
- ``impl`` fixture: the implementation under test (see :mod:`course.impl`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.impl import Impl, ImplError, load_impl
from course.processes import ServedProcess, serve_fakemq

STAGE_DIR = re.compile(r"^stage\d\d_[a-z0-9_]+$")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--impl",
        default=None,
        help="implementation under test: a stage package (stage03_naive_task) or a folder path",
    )


def stage_of(path: Path) -> str | None:
    """The stage a test file belongs to, from its folder name (tests/stageNN_x/...)."""
    for part in path.parts:
        if STAGE_DIR.match(part):
            return part
    return None


@pytest.fixture
def impl(request: pytest.FixtureRequest) -> Impl:
    spec = request.config.getoption("--impl") or stage_of(Path(str(request.node.path)))
    if spec is None:
        pytest.fail(
            "this test needs an implementation: run it from tests/stageNN_x/ or pass --impl"
        )
    try:
        return load_impl(spec)
    except ImplError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    # A missing function in a learner's copy is a friendly message, not a traceback.
    try:
        return (yield)
    except ImplError as error:
        pytest.fail(str(error), pytrace=False)


# ---- helper processes (course.processes) ----------------------------------------------


@pytest.fixture(scope="session")
def fakemq_server() -> Iterator[ServedProcess]:
    """One ``python -m fakemq serve`` subprocess for the whole session (see course.processes).

    Its state is shared: call ``BrokerAdmin(fakemq_server.url).reset()`` and use unique topic
    and group names in each test. The process is stopped at the end of the session.
    """
    with serve_fakemq() as served:
        yield served
