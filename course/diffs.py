"""The diff between two stages, as a learner should read it.

Both stages' folder names become ``stage`` in paths (and in code, where they should not appear
anyway), and the exercise markers are dropped from both sides, so the diff shows only the code
and prose that changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from .exercises import stage_files
from .markers import strip_markers
from .stages import ROOT, Stage

NORMALIZED = "stage"


@dataclass(frozen=True)
class FileDiff:
    """The diff of one file; ``status`` is ``added``, ``removed`` or ``modified``."""

    path: str
    status: str
    added: int
    removed: int
    text: str

    @property
    def binary(self) -> bool:
        """True for files that are not UTF-8 text (counted, not shown)."""
        return self.text.startswith("Binary files")


def _read(path: Path | None, package: str) -> list[str] | None:
    """The normalized lines of ``path``; None for binary files; [] for a missing file."""
    if path is None:
        return []
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix == ".py":  # prose may name stages on purpose; code never should
        text = strip_markers(text).replace(package, NORMALIZED)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def diff_stages(
    old: Stage, new: Stage, root: Path = ROOT, code_only: bool = False
) -> list[FileDiff]:
    """Every file that differs from ``old`` to ``new``: Python files first, then the others."""
    old_dir, new_dir = old.path(root), new.path(root)
    old_files = {p.relative_to(old_dir).as_posix(): p for p in stage_files(old_dir)}
    new_files = {p.relative_to(new_dir).as_posix(): p for p in stage_files(new_dir)}
    diffs: list[FileDiff] = []
    names = sorted(old_files.keys() | new_files.keys(), key=lambda p: (not p.endswith(".py"), p))
    for relative in names:
        if code_only and not relative.endswith(".py"):
            continue
        before_path, after_path = old_files.get(relative), new_files.get(relative)
        status = "added" if before_path is None else "removed" if after_path is None else "modified"
        before = _read(before_path, old.package)
        after = _read(after_path, new.package)
        shown = f"{NORMALIZED}/{relative}"
        if before is None or after is None:
            same = (
                before_path and after_path and before_path.read_bytes() == after_path.read_bytes()
            )
            if not same:
                diffs.append(FileDiff(shown, status, 0, 0, f"Binary files differ: {shown}\n"))
            continue
        if before == after:
            continue
        lines = list(
            difflib.unified_diff(
                before,
                after,
                fromfile=shown if before_path else "/dev/null",
                tofile=shown if after_path else "/dev/null",
                fromfiledate=old.package,
                tofiledate=new.package,
            )
        )
        added = sum(1 for line in lines[2:] if line.startswith("+"))
        removed = sum(1 for line in lines[2:] if line.startswith("-"))
        diffs.append(FileDiff(shown, status, added, removed, "".join(lines)))
    return diffs
