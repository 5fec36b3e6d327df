"""The ``course`` CLI on the real repository, run as a learner would run it (a subprocess).

Every user error must be one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import cli
from course.stages import ROOT, STAGES, existing, find

pytestmark = pytest.mark.timeout(120)

WRITTEN = [stage for stage in existing() if stage.number >= 2]
NEEDS_STAGE_02 = pytest.mark.skipif(not find(2).exists(), reason="stage 02 is not written yet")
UNWRITTEN = next((stage for stage in reversed(STAGES) if not stage.exists()), None)


def course(
    *args: str, workspace: Path | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """Run ``course ARGS`` in the repository; the workspace is never the real ``work/``."""
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    env["COURSE_WORKSPACE"] = str(workspace) if workspace else "/nonexistent/course-workspace"
    return subprocess.run(
        [sys.executable, "-m", "course.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines
    for word in words:
        assert word in lines[0], lines[0]


def test_help_explains_every_command() -> None:
    result = course("--help")
    assert result.returncode == 0
    commands = ["list", "show", "diff", "run", "test", "check", "init", "exercises", "matrix"]
    for command in commands:
        assert command in result.stdout
        sub = course(command, "--help")
        assert sub.returncode == 0, sub.stderr
        assert len(sub.stdout.split("\n\n")[1]) > 20, f"{command} --help has no description"


def test_list_shows_all_ten_stages() -> None:
    result = course("list")
    assert result.returncode == 0, result.stderr
    for stage in STAGES:
        assert stage.package in result.stdout
    assert "not yet" in result.stdout or all(stage.exists() for stage in STAGES)


@NEEDS_STAGE_02
def test_show_renders_the_stage_readme() -> None:
    result = course("show", "2")
    assert result.returncode == 0, result.stderr
    assert "Goal" in result.stdout and "lifespan" in result.stdout
    assert "##" not in result.stdout  # rendered, not raw Markdown


@NEEDS_STAGE_02
def test_diff_normalizes_stage_names_and_drops_markers() -> None:
    result = course("diff", "2")
    assert result.returncode == 0, result.stderr
    assert "--- stage/app.py" in result.stdout and "+++ stage/app.py" in result.stdout
    assert "stage02_lifespan/app.py" not in result.stdout
    assert ">>> new" not in result.stdout and "<<< new" not in result.stdout
    assert "+++ stage/resources.py" in result.stdout  # a file the stage adds


@NEEDS_STAGE_02
def test_diff_stat_summarizes() -> None:
    result = course("diff", "02", "--stat")
    assert result.returncode == 0, result.stderr
    assert "stage/app.py" in result.stdout
    assert "files changed" in result.stdout
    assert "@@" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [("show", "11"), ("diff", "0"), ("test", "99"), ("check", "eleven"), ("run", "42")],
)
def test_unknown_stage_is_one_line(args: tuple[str, ...]) -> None:
    assert_one_line_error(course(*args), "unknown stage")


@pytest.mark.skipif(UNWRITTEN is None, reason="every stage is written")
@pytest.mark.parametrize("command", ["show", "diff", "test", "check", "run"])
def test_stage_not_written_yet_is_one_line(command: str) -> None:
    assert UNWRITTEN is not None
    assert_one_line_error(course(command, str(UNWRITTEN.number)), "not written yet")


def test_diff_of_the_first_stage_is_one_line() -> None:
    assert_one_line_error(course("diff", "1"), "first stage")


@NEEDS_STAGE_02
def test_test_passes_arguments_to_pytest() -> None:
    result = course("test", "2", "--", "-m", "acceptance", "--collect-only", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tests/stage02_lifespan/" in result.stdout
    result = course("test", "2", "-k", "no_test_has_this_name", "-q")
    assert result.returncode == 5, result.stdout  # pytest's own exit code: nothing collected


@NEEDS_STAGE_02
def test_check_without_workspace_says_run_init(tmp_path: Path) -> None:
    assert_one_line_error(course("check", "2", workspace=tmp_path / "work"), "course init")


def test_init_copies_keeps_and_forces(tmp_path: Path) -> None:
    if not (ROOT / "exercises" / "README.md").exists():
        pytest.skip("no exercises generated yet")
    workspace = tmp_path / "work"
    first = course("init", workspace=workspace)
    assert first.returncode == 0, first.stderr
    copied = sorted(path.name for path in workspace.iterdir())
    expected = sorted(path.parent.name for path in (ROOT / "exercises").glob("*/__init__.py"))
    assert copied == expected and "copied" in first.stdout
    (workspace / copied[0] / "mine.txt").write_text("my work")
    again = course("init", workspace=workspace)
    assert again.returncode == 0 and "kept" in again.stdout
    assert (workspace / copied[0] / "mine.txt").exists()
    number = copied[0][5:7]
    refused = course("init", number, workspace=workspace)
    assert refused.returncode == 1 and "--force" in refused.stdout + refused.stderr
    forced = course("init", number, "--force", workspace=workspace)
    assert forced.returncode == 0 and "overwritten" in forced.stdout
    assert not (workspace / copied[0] / "mine.txt").exists()


@NEEDS_STAGE_02
@pytest.mark.timeout(240)
def test_check_reports_each_test_with_hints_then_passes(tmp_path: Path) -> None:
    if not (ROOT / "exercises" / "stage02_lifespan").is_dir():
        pytest.skip("no exercise for stage 02 yet")
    workspace = tmp_path / "work"
    assert course("init", "2", workspace=workspace).returncode == 0
    failing = course("check", "2", workspace=workspace, timeout=180)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "FAIL" in failing.stdout and "TODO at" in failing.stdout
    assert "TODOs left in your copy" in failing.stdout
    # The learner writes the mechanism (here: the course's own solution).
    shutil.copytree(ROOT / "stage02_lifespan", workspace / "stage02_lifespan", dirs_exist_ok=True)
    passing = course("check", "2", workspace=workspace, timeout=180)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "PASS" in passing.stdout and "FAIL" not in passing.stdout


@pytest.mark.timeout(240)
def test_committed_exercises_are_up_to_date() -> None:
    result = course("exercises", "--check", timeout=200)
    assert result.returncode == 0, result.stdout + result.stderr


def test_matrix_when_missing_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_import = cli.importlib.import_module

    def no_matrix(name: str, *args: object) -> object:
        if name == "course.matrix":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args)

    monkeypatch.setattr(cli.importlib, "import_module", no_matrix)
    assert cli.main(["matrix"]) == 1
    captured = capsys.readouterr()
    assert "the scenario matrix is not available yet" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


@NEEDS_STAGE_02
@pytest.mark.timeout(60)
def test_run_serves_stage_02_and_stops_by_itself() -> None:
    result = course("run", "2", "--port", "0", "--duration", "2", "--rate", "20", timeout=45)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "serving on http://127.0.0.1:" in result.stdout
    assert "published" in result.stdout and "loop lag" in result.stdout
    assert "Traceback" not in result.stderr
    assert "stopped after" in result.stdout


@pytest.mark.parametrize("stage", WRITTEN, ids=lambda stage: stage.package)
def test_written_stages_are_marked(stage) -> None:
    """Every written stage from 02 on marks its new code, so it gets an exercise."""
    from course.exercises import build_starter

    assert build_starter(stage).todos, f"{stage.package} has no '# >>> new: <hint>' markers"
