"""Reading seats.yaml safely: bytes -> a YAML tree that remembers positions, or located problems.

Together with :mod:`copilot_seats.desired.yaml_strict` (the hardened loader), the only code that
touches PyYAML. It turns untrusted input into plain Python values and never raises for bad
input: every problem becomes a :class:`~copilot_seats.errors.SpecProblem` with a 1-based
line and column.

What it guards against here (the loader guards against aliases, duplicate keys, exotic tags
and surprising scalars):

- **size**: input larger than :data:`MAX_SPEC_BYTES` is refused before parsing;
- **encoding**: only UTF-8 (an optional BOM is accepted); a bad byte is reported with its
  offset, line and column; UTF-16 is named as such; a ``str`` with a lone surrogate is
  located;
- **control characters**, **syntax errors** and a **second document** get located messages;
- **tabs** used for indentation are reported plainly, on every line that has one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from copilot_seats.desired import yaml_strict
from copilot_seats.desired.yaml_strict import (
    MAX_NESTING_DEPTH,
    MAX_NODES,
    Mark,
    MarkedDict,
    MarkedList,
    Position,
    ReadAborted,
    StrictLoader,
    mark_position,
)
from copilot_seats.errors import SpecProblem

__all__ = [
    "MAX_NESTING_DEPTH",
    "MAX_NODES",
    "MAX_SPEC_BYTES",
    "MarkedDict",
    "MarkedList",
    "Position",
    "YamlDocument",
    "format_json_path",
    "position_of",
    "read_yaml",
    "too_large",
]

MAX_SPEC_BYTES = 32 * 1024 * 1024
"""Largest seats.yaml accepted: 32 MiB, room for 100,000 entries with owner, reason, expiry and
cost center (`copilot-seats import` writes ~7.4 MB for 100,000 seats)."""

_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


@dataclass(frozen=True)
class YamlDocument:
    """The outcome of reading one file.

    :param data: the document's root value; ``None`` when the file is empty *or* could not be
        read (then ``problems`` says why).
    :param problems: errors found while reading (encoding, syntax, duplicates, aliases...);
        when non-empty, ``data`` may be partial and must not be turned into a spec.
    :param root_position: where the root value starts (line 1, column 1 when unknown).
    """

    data: Any
    problems: list[SpecProblem] = field(default_factory=list)
    root_position: Position = (1, 1)


def read_yaml(source: str | bytes, file: str, *, max_bytes: int = MAX_SPEC_BYTES) -> YamlDocument:
    """Parse ``source`` (the content of ``file``) into a :class:`YamlDocument`; never raises
    for bad input.

    An empty document (nothing but whitespace or comments) gives ``data=None`` and no
    problems: whether that is acceptable is the caller's decision.
    """
    text, problems = _decode(source, file, max_bytes)
    if text is None:
        return YamlDocument(None, problems)
    loader: StrictLoader | None = None
    loader_class = yaml_strict.LOADERS[0]
    try:
        loader = loader_class(text, file)  # type: ignore[call-arg]
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, loader.problems)
        root = mark_position(node.start_mark)
        if loader.saw_alias:  # values behind aliases are unknown; don't guess at them
            return YamlDocument(None, loader.problems, root)
        data = loader.construct_document(node)
        return YamlDocument(data, loader.problems, root)
    except ReadAborted as exc:
        problems.append(SpecProblem(file, *exc.position, f"refusing to read the file: {exc.message}"))
    except yaml.reader.ReaderError as exc:
        offset = exc.position
        if loader_class.offsets_in_bytes:
            offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
        line, column = _line_col(text, offset)
        problems.append(
            SpecProblem(
                file,
                line,
                column,
                f"character U+{int(exc.character):04X} is not allowed in YAML (remove the control character)",
            )
        )
    except yaml.MarkedYAMLError as exc:
        problems.extend(_syntax_problems(exc, text, file))
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises marked errors for input
        problems.append(SpecProblem(file, 1, 1, f"cannot read YAML: {exc}"))
    finally:
        if loader is not None:
            loader.dispose()
    if loader is not None:
        problems = loader.problems + problems
    return YamlDocument(None, problems)


def _decode(source: str | bytes, file: str, max_bytes: int) -> tuple[str | None, list[SpecProblem]]:
    if isinstance(source, str):
        try:
            size = len(source.encode("utf-8"))
        except UnicodeEncodeError as exc:
            line, column = _line_col(source, exc.start)
            return None, [
                SpecProblem(
                    file,
                    line,
                    column,
                    f"text contains U+{ord(source[exc.start]):04X}, a lone surrogate that is not "
                    "valid Unicode (remove it)",
                )
            ]
    else:
        size = len(source)
    if size > max_bytes:
        return None, [too_large(file, size, max_bytes)]
    if isinstance(source, str):
        return source, []
    try:
        return bytes(source).decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        if source[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return None, [SpecProblem(file, 1, 1, "file is UTF-16 encoded: save it as UTF-8")]
        prefix = bytes(source)[: exc.start].decode("utf-8-sig")
        line, column = _line_col(prefix, len(prefix))
        byte = bytes(source)[exc.start]
        return None, [
            SpecProblem(
                file,
                line,
                column,
                f"file is not valid UTF-8: byte 0x{byte:02x} at offset {exc.start} "
                f"(line {line}, column {column}); save the file as UTF-8",
            )
        ]


def too_large(file: str, size: int, max_bytes: int) -> SpecProblem:
    """The problem of a file of ``size`` bytes (its exact size) over the ``max_bytes`` limit."""
    return SpecProblem(file, 0, 0, f"file is too large: {size:,} bytes (the limit is {max_bytes:,} bytes)")


def _line_col(text: str, index: int) -> Position:
    """1-based line and column of character ``index``, counting line breaks as YAML does."""
    breaks = list(_LINE_BREAK.finditer(text, 0, index))
    line_start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - line_start + 1


def _syntax_problems(exc: yaml.MarkedYAMLError, text: str, file: str) -> list[SpecProblem]:
    mark = exc.problem_mark or exc.context_mark
    line, column = mark_position(mark)
    problem = exc.problem or exc.context or "invalid YAML"
    if "'\\t'" in problem or "tab character" in problem or _char_at(text, mark) == "\t":
        tab_lines = [
            number
            for number, content in enumerate(_LINE_BREAK.split(text), start=1)
            if "\t" in content[: len(content) - len(content.lstrip(" \t"))] and content.strip()
        ]
        found = [
            SpecProblem(
                file,
                number,
                1,
                "tab character used for indentation: YAML allows only spaces for indentation "
                "(replace the tab with spaces)",
            )
            for number in tab_lines
        ]
        if line not in tab_lines:
            found.append(
                SpecProblem(
                    file,
                    line,
                    column,
                    "tab character where YAML expects a space (replace the tab with spaces)",
                )
            )
        return found
    if exc.context == "expected a single document in the stream":
        return [
            SpecProblem(
                file,
                line,
                column,
                "seats.yaml must hold a single YAML document, but a second one starts here ('---')",
            )
        ]
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem and exc.context_mark is not None:
        message += f" ({exc.context} on line {exc.context_mark.line + 1})"
    return [SpecProblem(file, line, column, message)]


def _char_at(text: str, mark: Mark | None) -> str:
    if mark is None:
        return ""
    lines = _LINE_BREAK.split(text)
    line = lines[mark.line] if mark.line < len(lines) else ""
    return line[mark.column : mark.column + 1]


def position_of(data: Any, path: Sequence[str | int], *, key: bool = False) -> Position | None:
    """Where the value at ``path`` starts (or its key, with ``key=True``), or ``None``.

    Walks as far down ``path`` as the document goes and returns the deepest position found
    (``None`` only for an empty path into a scalar root).
    """
    found: Position | None = getattr(data, "position", None)
    node = data
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(node, MarkedDict) and isinstance(step, str) and step in node.key_positions:
            found = node.key_positions[step] if (key and last) else node.value_positions[step]
            node = node[step]
        elif isinstance(node, MarkedList) and isinstance(step, int) and 0 <= step < len(node):
            found = node.item_positions[step]
            node = node[step]
        else:
            break
    return found


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def format_json_path(path: Sequence[str | int]) -> str:
    """``["users", "alice", "expires"]`` -> ``$.users.alice.expires`` (quoted when needed)."""
    parts = ["$"]
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _IDENTIFIER.fullmatch(step):
            parts.append(f".{step}")
        else:
            parts.append("[" + repr(step) + "]")
    return "".join(parts)
