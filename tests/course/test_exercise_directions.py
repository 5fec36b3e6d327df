"""Both directions of every exercise: the starter fails its stage's acceptance tests, the stage
passes them. Otherwise an exercise could be "solved" without writing anything, or be unsolvable.

Runs pytest in a subprocess per exercise (its tests may start servers), so it is a ``drill``.
Exercises appear here as their stages and starters are written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course.stages import ROOT, STAGES, Stage

pytestmark = [pytest.mark.drill, pytest.mark.timeout(900)]

EXERCISED = [
    stage
    for stage in STAGES
    if (stage.exercise_path() / "__init__.py").is_file() and stage.tests_path().is_dir()
]


def acceptance(stage: Stage, impl: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", f"tests/{stage.package}", "-m", "acceptance"]
    command += [f"--impl={impl}", "-q", "-p", "no:cacheprovider", "-x"]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=420, check=False
    )


@pytest.mark.parametrize("stage", EXERCISED, ids=lambda stage: stage.package)
def test_starter_fails_and_stage_passes(stage: Stage) -> None:
    solved = acceptance(stage, stage.package)
    if solved.returncode == 5:
        pytest.skip(f"{stage.package} has no acceptance tests yet")
    assert solved.returncode == 0, f"the stage fails its own acceptance tests:\n{solved.stdout}"
    starter = acceptance(stage, stage.exercise_path().relative_to(ROOT))
    assert starter.returncode == 1, (
        f"the starter should fail its acceptance tests (exit 1), got {starter.returncode}:\n"
        f"{starter.stdout[-3000:]}"
    )
