"""Reading seats.yaml safely: bytes -> a YAML tree that remembers positions, or located problems.

This is the only module that touches PyYAML. It turns untrusted input into plain Python
values (``dict``/``list``/``str``/``int``/``float``/``bool``/``None``) and never raises for
bad input: every problem becomes a :class:`~copilot_seats.errors.SpecProblem` with a 1-based
line and column.

What it guards against, and how:

- **Size**: input larger than :data:`MAX_SPEC_BYTES` is refused before parsing.
- **Encoding**: only UTF-8 (an optional BOM is accepted); a bad byte is reported with its
  offset, line and column.
- **Alias bombs** ("billion laughs"): anchors (``&a``) and aliases (``*a``) are rejected
  outright, so the tree is never larger than the text. Nesting deeper than
  :data:`MAX_NESTING_DEPTH` and more than :data:`MAX_NODES` nodes abort parsing.
- **Duplicate keys** in any mapping (PyYAML silently keeps the last one) are errors that
  name both lines.
- **Surprising scalars**: keys are always the text as written (``no``, ``1234`` and ``null``
  are logins, not ``False``, an int or ``None``); dates and timestamps stay strings (so
  ``2026-02-30`` is reported by the loader instead of crashing the parser); numbers PyYAML
  cannot convert, and infinities and NaN, stay strings; tags other than YAML's core ones
  (``!!python/...``, ``!!binary``, ``!custom``) are rejected.
- **Tabs** used for indentation are reported plainly, on every line that has one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

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
]

MAX_SPEC_BYTES = 5 * 1024 * 1024
"""Largest seats.yaml accepted (5 MiB, about 50 times a 100,000-line file's needs)."""

MAX_NESTING_DEPTH = 32
"""Deepest nesting accepted; seats.yaml needs 4 levels. Bounds recursion in PyYAML."""

MAX_NODES = 1_000_000
"""Most YAML values (scalars, mappings, lists) accepted in one file; bounds memory (~300 MB)."""

Position = tuple[int, int]
"""A 1-based (line, column) in the file."""

_CORE = "tag:yaml.org,2002:"
_ALLOWED_EXPLICIT_TAGS = frozenset(
    f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
if TYPE_CHECKING:
    _LoaderBase = yaml.SafeLoader
else:
    _LoaderBase = object

_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


class MarkedDict(dict[str, Any]):
    """A YAML mapping that remembers where each of its keys and values starts.

    Keys are always ``str`` (the key's text as written). ``position`` is the mapping's own
    start; ``key_positions[k]`` and ``value_positions[k]`` locate entry ``k``.
    """

    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position
        self.key_positions: dict[str, Position] = {}
        self.value_positions: dict[str, Position] = {}


class MarkedList(list[Any]):
    """A YAML sequence that remembers where it and each of its items start."""

    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position
        self.item_positions: list[Position] = []


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


class _Mark(Protocol):
    """What this module uses of a PyYAML mark (pure-Python or libyaml): 0-based position."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


class _Abort(Exception):
    """Stop reading: a hard limit was hit (the message and position say which)."""

    def __init__(self, mark: _Mark | None, message: str) -> None:
        super().__init__(message)
        self.position = _pos(mark)
        self.message = message


def _pos(mark: _Mark | None) -> Position:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _StrictMixin(_LoaderBase):
    """Overrides for PyYAML's composer and SafeConstructor that record problems instead of
    trusting the input (see the module docs). Mixed into a pure-Python and a libyaml loader.
    """

    offsets_in_bytes = False
    """Whether ReaderError positions count UTF-8 bytes (libyaml) rather than characters."""

    def init_strict(self, file: str) -> None:
        self.file = file
        self.problems: list[SpecProblem] = []
        self.saw_alias = False
        self._aliases_reported: set[str] = set()
        self._depth = 0
        self._nodes = 0

    def report(self, mark: _Mark | None, message: str) -> None:
        line, column = _pos(mark)
        self.problems.append(SpecProblem(self.file, line, column, message))

    # -- composing: reject anchors, aliases, exotic tags; bound depth and size ---------------

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Abort(event.start_mark, f"too many YAML values (more than {MAX_NODES:,})")
        if isinstance(event, AliasEvent):
            alias = self.get_event()  # type: ignore[no-untyped-call]
            self.saw_alias = True
            if alias.anchor in self._aliases_reported:  # one report per name is enough
                return ScalarNode(f"{_CORE}null", "", alias.start_mark, alias.end_mark)
            self._aliases_reported.add(alias.anchor)
            self.report(
                alias.start_mark,
                f"YAML alias '*{alias.anchor}' is not allowed: seats.yaml does not support anchors "
                "and aliases (write the value out in full)",
            )
            return ScalarNode(f"{_CORE}null", "", alias.start_mark, alias.end_mark)
        if isinstance(event, ScalarEvent | CollectionStartEvent):
            if event.anchor is not None:
                self.saw_alias = True
                self.report(
                    event.start_mark,
                    f"YAML anchor '&{event.anchor}' is not allowed: seats.yaml does not support "
                    "anchors and aliases (write the value out in full)",
                )
                event.anchor = None
            if event.tag not in (None, "!") and event.tag not in _ALLOWED_EXPLICIT_TAGS:
                self.report(
                    event.start_mark,
                    f"unsupported YAML tag '{event.tag.replace(_CORE, '!!')}': only plain values, "
                    "mappings and lists are allowed (remove the tag)",
                )
                event.tag = None
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                raise _Abort(event.start_mark, f"nesting deeper than {MAX_NESTING_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    # -- constructing: positions, string keys, duplicates, no crashes on odd scalars ---------

    def construct_marked_map(self, node: Node) -> MarkedDict:
        assert isinstance(node, MappingNode)
        result = MarkedDict(_pos(node.start_mark))
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                kind = "list" if isinstance(key_node, SequenceNode) else "mapping"
                self.report(key_node.start_mark, f"a {kind} cannot be used as a key; keys are plain names")
                continue
            key = str(key_node.value)
            if key in result:
                first_line = result.key_positions[key][0]
                self.report(
                    key_node.start_mark,
                    f"duplicate key '{_clip(key)}' (first defined on line {first_line}); YAML would "
                    "silently keep only the last one, so merge the two entries",
                )
                continue
            result.key_positions[key] = _pos(key_node.start_mark)
            result.value_positions[key] = _pos(value_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
        return result

    def construct_marked_seq(self, node: Node) -> MarkedList:
        assert isinstance(node, SequenceNode)
        result = MarkedList(_pos(node.start_mark))
        for item in node.value:
            result.item_positions.append(_pos(item.start_mark))
            result.append(self.construct_object(item, deep=True))
        return result

    def construct_lenient_int(self, node: Node) -> int | str:
        try:
            return super().construct_yaml_int(node)  # type: ignore[arg-type]
        except ValueError:  # e.g. '0b_' or more digits than Python converts
            return str(node.value)

    def construct_lenient_float(self, node: Node) -> float | str:
        try:
            value = super().construct_yaml_float(node)  # type: ignore[arg-type]
        except ValueError:  # e.g. '._'
            return str(node.value)
        return value if math.isfinite(value) else str(node.value)

    def construct_verbatim(self, node: Node) -> str:
        """Dates, timestamps, '<<' and '=': keep the text; the loader checks it."""
        return str(node.value)


class _PureLoader(_StrictMixin, yaml.SafeLoader):
    """The pure-Python loader: used when PyYAML was built without libyaml."""

    def __init__(self, text: str, file: str) -> None:
        yaml.SafeLoader.__init__(self, text)
        self.init_strict(file)


_LOADERS: list[type[_StrictMixin]] = [_PureLoader]

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _FastLoader(_StrictMixin, Composer, CParser, SafeConstructor, Resolver):
        """libyaml's C parser for events (about 6 times faster), Python for the rest."""

        offsets_in_bytes = True

        def __init__(self, text: str, file: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.init_strict(file)

    _LOADERS.insert(0, _FastLoader)

for _loader in _LOADERS:
    for _tag, _constructor in (
        ("map", _StrictMixin.construct_marked_map),
        ("seq", _StrictMixin.construct_marked_seq),
        ("int", _StrictMixin.construct_lenient_int),
        ("float", _StrictMixin.construct_lenient_float),
        ("timestamp", _StrictMixin.construct_verbatim),
        ("merge", _StrictMixin.construct_verbatim),
        ("value", _StrictMixin.construct_verbatim),
    ):
        _loader.add_constructor(f"{_CORE}{_tag}", _constructor)


def read_yaml(source: str | bytes, file: str, *, max_bytes: int = MAX_SPEC_BYTES) -> YamlDocument:
    """Parse ``source`` (the content of ``file``) into a :class:`YamlDocument`; never raises
    for bad input.

    An empty document (nothing but whitespace or comments) gives ``data=None`` and no
    problems: whether that is acceptable is the caller's decision.
    """
    text, problems = _decode(source, file, max_bytes)
    if text is None:
        return YamlDocument(None, problems)
    loader: _StrictMixin | None = None
    loader_class = _LOADERS[0]
    try:
        loader = loader_class(text, file)  # type: ignore[call-arg]
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, loader.problems)
        root = _pos(node.start_mark)
        if loader.saw_alias:  # values behind aliases are unknown; don't guess at them
            return YamlDocument(None, loader.problems, root)
        data = loader.construct_document(node)
        return YamlDocument(data, loader.problems, root)
    except _Abort as exc:
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
        return None, [
            SpecProblem(file, 0, 0, f"file is too large: {size:,} bytes (the limit is {max_bytes:,} bytes)")
        ]
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


def _line_col(text: str, index: int) -> Position:
    """1-based line and column of character ``index``, counting line breaks as YAML does."""
    breaks = list(_LINE_BREAK.finditer(text, 0, index))
    line_start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - line_start + 1


def _syntax_problems(exc: yaml.MarkedYAMLError, text: str, file: str) -> list[SpecProblem]:
    mark = exc.problem_mark or exc.context_mark
    line, column = _pos(mark)
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


def _char_at(text: str, mark: _Mark | None) -> str:
    if mark is None:
        return ""
    lines = _LINE_BREAK.split(text)
    line = lines[mark.line] if mark.line < len(lines) else ""
    return line[mark.column : mark.column + 1]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
