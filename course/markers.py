"""The markers around a stage's new code, and taking the marked code out.

A stage marks the code of its new mechanism so that readers and the exercise generator can
find it::

    async def lifespan(app):
        # >>> new: load the model into app.state.model
        app.state.model = await load_model()
        # <<< new
        yield

Markers may appear at any indentation, several per file. :func:`make_starter` replaces each
marked block (markers included) with ``# TODO: <hint>``, followed, inside a function, by
``raise NotImplementedError("<hint>")`` at the block's indentation, so the starter imports
but the mechanism is missing.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

OPEN = re.compile(r"^(?P<indent>[ \t]*)# >>> new(?::[ \t]*(?P<hint>.*?))?[ \t]*$")
CLOSE = re.compile(r"^(?P<indent>[ \t]*)# <<< new[ \t]*$")
ANY_MARKER = re.compile(r"#\s*(>>>|<<<)\s*new\b", re.IGNORECASE)
TODO = re.compile(r"^(?P<indent>[ \t]*)# TODO: (?P<hint>.+?)[ \t]*$")


class MarkerError(Exception):
    """A marker is malformed, unbalanced or has no hint. The message names ``file:line``."""


@dataclass(frozen=True)
class Block:
    """One marked block: 1-based line numbers of its two markers, its indentation and hint."""

    start: int
    end: int
    indent: str
    hint: str


@dataclass(frozen=True)
class Todo:
    """One TODO left in a starter: the file (relative to the package), its line and hint."""

    file: str
    line: int
    hint: str

    @property
    def where(self) -> str:
        """``consumer.py:42``."""
        return f"{self.file}:{self.line}"


def is_marker(line: str) -> bool:
    """Whether ``line`` is a well-formed open or close marker."""
    return bool(OPEN.match(line) or CLOSE.match(line))


def find_blocks(source: str, filename: str = "<source>") -> list[Block]:
    """The marked blocks of ``source``, in order. Raises :class:`MarkerError` on bad markers."""
    blocks: list[Block] = []
    opened: tuple[int, str, str] | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        where = f"{filename}:{number}"
        if match := OPEN.match(line):
            if opened is not None:
                raise MarkerError(
                    f"{where}: '# >>> new' inside the block opened at line {opened[0]} "
                    "(blocks do not nest; close it with '# <<< new' first)"
                )
            hint = (match["hint"] or "").strip()
            if not hint:
                raise MarkerError(
                    f"{where}: '# >>> new' needs a hint: '# >>> new: <what to write here>'"
                )
            opened = (number, match["indent"], hint)
        elif CLOSE.match(line):
            if opened is None:
                raise MarkerError(f"{where}: '# <<< new' without a '# >>> new' before it")
            blocks.append(Block(opened[0], number, opened[1], opened[2]))
            opened = None
        elif ANY_MARKER.search(line):
            raise MarkerError(
                f"{where}: malformed marker {line.strip()!r}: write '# >>> new: <hint>' "
                "or '# <<< new' alone on its line"
            )
    if opened is not None:
        raise MarkerError(
            f"{filename}:{opened[0]}: '# >>> new' is never closed (add '# <<< new' after the block)"
        )
    return blocks


def strip_markers(source: str) -> str:
    """``source`` without its marker lines (the code stays): what a diff should compare."""
    lines = source.splitlines(keepends=True)
    return "".join(line for line in lines if not is_marker(line.rstrip("\r\n")))


def _function_lines(source: str, filename: str) -> list[tuple[int, int, bool]]:
    """``(first, last, is_function)`` line spans of every def, async def and class."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as error:
        raise MarkerError(
            f"{filename}:{error.lineno}: the stage itself does not parse: {error.msg}"
        ) from None
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            is_function = not isinstance(node, ast.ClassDef)
            spans.append((first, node.end_lineno or node.lineno, is_function))
    return spans


def _inside_function(spans: list[tuple[int, int, bool]], line: int) -> bool:
    """Whether the innermost def or class around ``line`` is a function."""
    around = [span for span in spans if span[0] < line <= span[1]]
    if not around:
        return False
    innermost = max(around, key=lambda span: span[0])
    return innermost[2]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_starter(source: str, filename: str) -> tuple[str, list[Todo]]:
    """Replace each marked block of ``source`` by a TODO; return the new text and its TODOs.

    A block inside a function also gets ``raise NotImplementedError("<hint>")``; a block at
    module or class level gets the comment only. The result must compile, else
    :class:`MarkerError` names the file and line.
    """
    blocks = find_blocks(source, filename)
    if not blocks:
        return source, []
    spans = _function_lines(source, filename)
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    out: list[str] = []
    todos: list[Todo] = []
    cursor = 1
    for block in blocks:
        out.extend(lines[cursor - 1 : block.start - 1])
        todos.append(Todo(filename, len(out) + 1, block.hint))
        out.append(f"{block.indent}# TODO: {block.hint}{newline}")
        if block.indent and _inside_function(spans, block.start):
            out.append(f"{block.indent}raise NotImplementedError({_quoted(block.hint)}){newline}")
        cursor = block.end + 1
    out.extend(lines[cursor - 1 :])
    starter = "".join(out)
    try:
        compile(starter, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        raise MarkerError(
            f"{filename}:{error.lineno}: the starter made from this file is not valid Python "
            f"({error.msg}); a marked block probably leaves an empty 'if'/'with'/class body "
            "behind: move the markers so that the block is not the only code there"
        ) from None
    return starter, todos


def find_todos(source: str, filename: str) -> list[Todo]:
    """The ``# TODO: <hint>`` lines of a starter (or of a learner's copy of it)."""
    return [
        Todo(filename, number, match["hint"])
        for number, line in enumerate(source.splitlines(), start=1)
        if (match := TODO.match(line))
    ]
