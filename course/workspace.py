"""The learner's workspace: copies of the exercise starters that git ignores.

``course init`` copies ``exercises/stageNN_x/`` into the workspace (``work/`` at the repository
root, or ``$COURSE_WORKSPACE``); ``course check N`` tests the copy there.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .exercises import EXERCISES_DIR, SKIPPED_PARTS
from .stages import ROOT, STAGES, Stage

ENV_VAR = "COURSE_WORKSPACE"
DEFAULT_NAME = "work"


class WorkspaceError(Exception):
    """The workspace or an exercise is missing. The message says what to run."""


def workspace_root(override: str | Path | None = None, root: Path = ROOT) -> Path:
    """Where the learner's copies live: ``override``, else ``$COURSE_WORKSPACE``, else ``work/``."""
    chosen = override or os.environ.get(ENV_VAR)
    if chosen:
        path = Path(chosen).expanduser()
        return path if path.is_absolute() else Path.cwd() / path
    return root / DEFAULT_NAME


def display(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, else as is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass
class InitReport:
    """What ``course init`` did: the copies made, overwritten and kept."""

    workspace: Path
    copied: list[Stage] = field(default_factory=list)
    overwritten: list[Stage] = field(default_factory=list)
    kept: list[Stage] = field(default_factory=list)


def available_exercises(root: Path = ROOT) -> list[Stage]:
    """The stages whose starter exists under ``exercises/``."""
    return [stage for stage in STAGES if (stage.exercise_path(root) / "__init__.py").is_file()]


def init(
    stages: list[Stage] | None = None,
    *,
    workspace: Path,
    force: bool = False,
    root: Path = ROOT,
) -> InitReport:
    """Copy the starters of ``stages`` (all available if None) into ``workspace``.

    An existing copy is kept unless ``force``; the learner's work is never silently replaced.
    """
    available = available_exercises(root)
    if not available:
        raise WorkspaceError(
            f"no exercises in {EXERCISES_DIR}/ yet: run `course exercises` to generate them"
        )
    chosen = stages if stages is not None else available
    for stage in chosen:
        if stage not in available:
            raise WorkspaceError(f"stage {stage.label} has no exercise in {EXERCISES_DIR}/")
    report = InitReport(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    for stage in chosen:
        target = workspace / stage.package
        if target.exists() and not force:
            report.kept.append(stage)
            continue
        if target.exists():
            shutil.rmtree(target)
            report.overwritten.append(stage)
        else:
            report.copied.append(stage)
        shutil.copytree(
            stage.exercise_path(root), target, ignore=shutil.ignore_patterns(*SKIPPED_PARTS)
        )
    return report


def exercise_copy(stage: Stage, workspace: Path) -> Path:
    """The learner's copy of ``stage``'s exercise; :class:`WorkspaceError` if it is missing."""
    target = workspace / stage.package
    if not (target / "__init__.py").is_file():
        if not (stage.exercise_path() / "__init__.py").is_file():
            first = "it is the starting point" if stage.number == 1 else "not yet"
            raise WorkspaceError(f"stage {stage.label} has no exercise ({first})")
        raise WorkspaceError(
            f"no workspace copy of exercise {stage.number:02d} at {display(target)}: "
            "run `course init` first"
        )
    return target
