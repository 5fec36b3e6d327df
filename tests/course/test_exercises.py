"""The exercise generator and the stage diff, on tiny fake stages in a tmp folder."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course import diffs, exercises
from course.markers import MarkerError, find_blocks, make_starter, strip_markers
from course.stages import ROOT, find

pytestmark = pytest.mark.timeout(60)

APP = '''\
"""A tiny fake stage."""

import asyncio

# >>> new: import the queue module
import queue
# <<< new

LIMIT = 3


class Settings:
    name: str = "x"
    # >>> new: add a workers setting
    workers: int = 4
    # <<< new


async def lifespan(app):
    app.ready = False
    # >>> new: start the workers and mark the app ready
    app.workers = [asyncio.sleep(0) for _ in range(LIMIT)]
    app.ready = True
    # <<< new
    try:
        yield
    finally:
        if app.ready:
            # >>> new: say "bye" (the "quotes" \\ survive)
            print("bye")
            # <<< new
'''

README = """\
# Stage 02 · lifespan

## Goal

Make the thing start once.

## What changed

- `app.py`: the lifespan starts the workers.

```bash
## not a heading inside a fence
```

## Run it

Run it somehow.
"""


def fake_collect(stages, root):
    return {stage.package: [f"tests/{stage.package}/test_stage.py::test_ok"] for stage in stages}


def make_stage(root: Path, package: str = "stage02_lifespan", app: str = APP) -> Path:
    folder = root / package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text('"""Fake."""\n')
    (folder / "app.py").write_text(app)
    (folder / "README.md").write_text(README)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0junk")
    return folder


# ------------------------------------------------------------------------------ markers


def test_blocks_are_found_with_indentation_and_hints() -> None:
    blocks = find_blocks(APP, "app.py")
    assert [(b.start, b.indent, b.hint) for b in blocks] == [
        (5, "", "import the queue module"),
        (14, "    ", "add a workers setting"),
        (21, "    ", "start the workers and mark the app ready"),
        (29, "            ", 'say "bye" (the "quotes" \\ survive)'),
    ]


def test_starter_replaces_blocks_and_keeps_indentation() -> None:
    starter, todos = make_starter(APP, "app.py")
    lines = starter.splitlines()
    compile(starter, "app.py", "exec")
    assert ">>> new" not in starter and "<<< new" not in starter
    assert "import queue" not in starter and "workers: int" not in starter
    assert "app.ready = True" not in starter and 'print("bye")' not in starter
    # Module level and class level: the comment only (a raise there would break the import).
    assert lines[todos[0].line - 1] == "# TODO: import the queue module"
    assert lines[todos[0].line] == ""
    assert lines[todos[1].line - 1] == "    # TODO: add a workers setting"
    assert "raise" not in lines[todos[1].line]
    # Inside a function: the comment, then a raise at the same indentation.
    assert lines[todos[2].line - 1] == "    # TODO: start the workers and mark the app ready"
    assert lines[todos[2].line] == (
        '    raise NotImplementedError("start the workers and mark the app ready")'
    )
    assert lines[todos[3].line].startswith("            raise NotImplementedError(")
    namespace: dict[str, object] = {}
    exec(compile(starter, "app.py", "exec"), namespace)  # imports fine
    hint = todos[3].hint
    assert eval(lines[todos[3].line].strip()[len("raise ") :]).args[0] == hint


def test_starter_without_markers_is_unchanged() -> None:
    source = "x = 1\n"
    assert make_starter(source, "a.py") == (source, [])


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("def f():\n    # >>> new: a\n    x = 1\n", ["a.py:2", "never closed"]),
        ("x = 1\n# <<< new\n", ["a.py:2", "without"]),
        ("# >>> new: a\n# >>> new: b\n# <<< new\n", ["a.py:2", "nest"]),
        ("# >>> new\nx = 1\n# <<< new\n", ["a.py:1", "hint"]),
        ("# >>> new:   \nx = 1\n# <<< new\n", ["a.py:1", "hint"]),
        ("x = 1\n#>>>new: a\nx = 2\n", ["a.py:2", "malformed"]),
        ("x = 1  # >>> new: inline\n# <<< new\n", ["a.py:1", "malformed"]),
        ("if True:\n    # >>> new: all of it\n    x = 1\n    # <<< new\n", ["a.py", "valid"]),
    ],
)
def test_bad_markers_are_clear_errors(source: str, words: list[str]) -> None:
    with pytest.raises(MarkerError) as error:
        make_starter(source, "a.py")
    for word in words:
        assert word in str(error.value)


def test_strip_markers_keeps_the_code() -> None:
    stripped = strip_markers(APP)
    assert "new:" not in stripped and "<<< new" not in stripped
    assert "import queue" in stripped and 'print("bye")' in stripped


# ---------------------------------------------------------------------------- generator


def test_generate_writes_starter_and_readme(tmp_path: Path) -> None:
    make_stage(tmp_path)
    report = exercises.generate(tmp_path, collect=fake_collect)
    target = tmp_path / "exercises" / "stage02_lifespan"
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "__init__.py", "app.py"]
    assert "# TODO: import the queue module" in (target / "app.py").read_text()
    readme = (target / "README.md").read_text()
    assert "# Exercise 02 · lifespan" in readme
    assert "Make the thing start once." in readme  # the stage README's Goal
    assert "the lifespan starts the workers" in readme  # its What changed
    assert "Run it somehow" not in readme  # other sections stay out
    assert "`app.py:" in readme and "start the workers and mark the app ready" in readme
    assert "tests/stage02_lifespan/test_stage.py::test_ok" in readme
    assert "course check 2" in readme
    assert (tmp_path / "exercises" / "README.md").exists()
    assert "exercises/stage02_lifespan/app.py" not in report.removed
    assert not list((tmp_path / "exercises").rglob("__pycache__"))


def test_todo_lines_in_the_readme_point_at_the_todos(tmp_path: Path) -> None:
    make_stage(tmp_path)
    report = exercises.generate(tmp_path, collect=fake_collect)
    starter = (tmp_path / "exercises" / "stage02_lifespan" / "app.py").read_text().splitlines()
    for todo in report.starters[0].todos:
        assert starter[todo.line - 1].strip() == f"# TODO: {todo.hint}"


def test_generate_is_deterministic_and_check_finds_drift(tmp_path: Path) -> None:
    make_stage(tmp_path)
    exercises.generate(tmp_path, collect=fake_collect)
    again = exercises.generate(tmp_path, collect=fake_collect)
    assert again.written == [] and again.removed == []
    assert exercises.check(tmp_path, collect=fake_collect).ok

    app = tmp_path / "exercises" / "stage02_lifespan" / "app.py"
    app.write_text(app.read_text() + "# edited by hand\n")
    (tmp_path / "exercises" / "stage02_lifespan" / "extra.py").write_text("")
    (tmp_path / "exercises" / "stage02_lifespan" / "__init__.py").unlink()
    report = exercises.check(tmp_path, collect=fake_collect)
    assert not report.ok
    assert report.stale == ["stage02_lifespan/app.py"]
    assert report.extra == ["stage02_lifespan/extra.py"]
    assert report.missing == ["stage02_lifespan/__init__.py"]

    fixed = exercises.generate(tmp_path, collect=fake_collect)
    assert "stage02_lifespan/extra.py" in fixed.removed
    assert exercises.check(tmp_path, collect=fake_collect).ok


def test_stage_without_markers_has_no_exercise_and_fails_the_check(tmp_path: Path) -> None:
    make_stage(tmp_path)
    make_stage(tmp_path, "stage03_naive_task", app="x = 1\n")
    make_stage(tmp_path, "stage01_minimal", app="x = 1\n")  # stage 01 never has one
    report = exercises.generate(tmp_path, collect=fake_collect)
    assert [stage.package for stage in report.unmarked] == ["stage03_naive_task"]
    assert not (tmp_path / "exercises" / "stage03_naive_task").exists()
    assert not (tmp_path / "exercises" / "stage01_minimal").exists()
    assert not exercises.check(tmp_path, collect=fake_collect).ok


def test_bad_markers_fail_generation_with_the_stage_file_and_line(tmp_path: Path) -> None:
    make_stage(tmp_path, app="def f():\n    # >>> new: oops\n    return 1\n")
    with pytest.raises(exercises.ExerciseError, match=r"stage02_lifespan/app.py:2"):
        exercises.generate(tmp_path, collect=fake_collect)
    assert not (tmp_path / "exercises").exists()


def test_readme_sections_ignore_fenced_headings() -> None:
    sections = exercises.readme_sections(README)
    assert list(sections) == ["goal", "what changed", "run it"]
    assert "## not a heading" in sections["what changed"]


# ---------------------------------------------------------------------------------- diff


def test_diff_normalizes_paths_and_drops_markers(tmp_path: Path) -> None:
    make_stage(
        tmp_path, "stage01_minimal", app=strip_markers(APP).replace("LIMIT = 3", "LIMIT = 2")
    )
    make_stage(tmp_path)
    (tmp_path / "stage02_lifespan" / "consumer.py").write_text("def consume():\n    pass\n")
    changes = {change.path: change for change in diffs.diff_stages(find(1), find(2), tmp_path)}
    assert set(changes) == {"stage/app.py", "stage/consumer.py"}
    app = changes["stage/app.py"]
    assert (app.added, app.removed) == (1, 1)
    assert "-LIMIT = 2" in app.text and "+LIMIT = 3" in app.text
    assert ">>> new" not in app.text and "<<< new" not in app.text
    assert changes["stage/consumer.py"].status == "added"
    assert "--- /dev/null" in changes["stage/consumer.py"].text


# ---------------------------------------------------------------- the committed starters


STARTERS = sorted(path.parent for path in (ROOT / "exercises").glob("stage*/__init__.py"))


@pytest.mark.parametrize("folder", STARTERS, ids=lambda path: path.name)
def test_committed_starters_import(folder: Path) -> None:
    """A starter imports (its mechanism is missing, not its modules)."""
    code = textwrap.dedent(
        f"""
        from course.impl import load_impl
        impl = load_impl({str(folder)!r})
        for name in ("settings", "app"):
            impl.module(name)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
