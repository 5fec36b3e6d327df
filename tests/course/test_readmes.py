"""The English and Chinese guides list the same stages and commands; stage READMEs keep shape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course.stages import STAGES

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = [
    "## Goal",
    "## What changed",
    "## Run it",
    "## Acceptance",
    "## The problem you will hit next",
    "## Exercise",
]


def stages_named(text: str) -> set[str]:
    return set(re.findall(r"\bstage\d\d_[a-z0-9_]+", text))


def commands(text: str) -> list[str]:
    """Shell commands in fenced code blocks, without their comments."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if command:
                found.append(command)
    return found


def test_both_guides_list_the_same_stages_and_commands():
    english = (ROOT / "README.md").read_text(encoding="utf-8")
    chinese = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    assert stages_named(english) == stages_named(chinese)
    assert commands(english) == commands(chinese)
    for stage in STAGES:
        assert stage.package in english, f"README.md does not mention {stage.package}"


def test_guides_link_every_stage_on_disk():
    for name in ("README.md", "README.zh-CN.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        for stage in STAGES:
            link = f"]({stage.package}/README.md)"
            assert (link in text) == stage.exists(), f"{name}: link to {stage.package}"


@pytest.mark.parametrize("stage", [s for s in STAGES if s.exists()], ids=lambda s: s.package)
def test_stage_readme_has_the_sections_in_order(stage):
    text = (stage.path() / "README.md").read_text(encoding="utf-8")
    positions = [text.find(section + "\n") for section in SECTIONS]
    assert all(p >= 0 for p in positions), (
        f"missing: {[s for s, p in zip(SECTIONS, positions, strict=True) if p < 0]}"
    )
    assert positions == sorted(positions), "sections out of order"
