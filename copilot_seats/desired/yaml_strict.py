"""The hardened PyYAML loader behind :mod:`copilot_seats.desired.yaml_source`.

PyYAML's composer and SafeConstructor, overridden so that untrusted input cannot hurt and
every surprise becomes a recorded problem (``StrictLoader.problems``) instead of an
exception or a silent reinterpretation:

- anchors and aliases are recorded as problems and never expanded (alias bombs cannot
  grow the tree beyond the text); nesting beyond :data:`MAX_NESTING_DEPTH` and more than
  :data:`MAX_NODES` values raise :class:`ReadAborted`;
- duplicate keys in any mapping are problems that name the first occurrence's line;
- keys are always the text as written (``no``, ``1234`` and ``null`` stay strings);
- dates and timestamps stay text (``2026-02-30`` is judged later instead of crashing
  PyYAML); numbers PyYAML cannot convert, infinities and NaN stay text;
- tags other than YAML's core ones (``!!python/...``, ``!!binary``, ``!custom``) are problems,
  and so is a core tag that does not fit its node (``!!seq {a: 1}``, ``!!map x``, ``!!bool maybe``).

Mappings and lists come back as :class:`MarkedDict` and :class:`MarkedList`, which remember
where each entry starts. :data:`LOADERS` lists the usable loader classes, fastest first
(libyaml's C parser for events when PyYAML has it, else pure Python).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from copilot_seats.errors import SpecProblem

__all__ = [
    "LOADERS",
    "MAX_NESTING_DEPTH",
    "MAX_NODES",
    "Mark",
    "MarkedDict",
    "MarkedList",
    "Position",
    "ReadAborted",
    "StrictLoader",
    "mark_position",
]

MAX_NESTING_DEPTH = 32
"""Deepest nesting accepted; seats.yaml needs 4 levels. Bounds recursion in PyYAML."""

MAX_NODES = 2_000_000
"""Most YAML values (scalars, mappings, lists) accepted in one file; bounds memory (~600 MB).
200,000 entries with an owner and a reason are about 1,000,000 values."""

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


class Mark(Protocol):
    """What this module uses of a PyYAML mark (pure-Python or libyaml): 0-based position."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


class ReadAborted(Exception):
    """Stop reading: a hard limit was hit (the message and position say which)."""

    def __init__(self, mark: Mark | None, message: str) -> None:
        super().__init__(message)
        self.position = mark_position(mark)
        self.message = message


def mark_position(mark: Mark | None) -> Position:
    """The 1-based (line, column) of a 0-based PyYAML mark; (1, 1) when there is none."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class StrictLoader(_LoaderBase):
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

    def report(self, mark: Mark | None, message: str) -> None:
        line, column = mark_position(mark)
        self.problems.append(SpecProblem(self.file, line, column, message))

    # -- composing: reject anchors, aliases, exotic tags; bound depth and size ---------------

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ReadAborted(event.start_mark, f"too many YAML values (more than {MAX_NODES:,})")
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
            elif event.tag not in (None, "!"):
                misfit = _tag_misfit(event)
                if misfit is not None:
                    self.report(event.start_mark, misfit)
                    event.tag = None
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                raise ReadAborted(event.start_mark, f"nesting deeper than {MAX_NESTING_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    # -- constructing: positions, string keys, duplicates, no crashes on odd scalars ---------

    def construct_marked_map(self, node: Node) -> MarkedDict:
        assert isinstance(node, MappingNode)
        result = MarkedDict(mark_position(node.start_mark))
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
            result.key_positions[key] = mark_position(key_node.start_mark)
            result.value_positions[key] = mark_position(value_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
        return result

    def construct_marked_seq(self, node: Node) -> MarkedList:
        assert isinstance(node, SequenceNode)
        result = MarkedList(mark_position(node.start_mark))
        for item in node.value:
            result.item_positions.append(mark_position(item.start_mark))
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


class _PureLoader(StrictLoader, yaml.SafeLoader):
    """The pure-Python loader: used when PyYAML was built without libyaml."""

    def __init__(self, text: str, file: str) -> None:
        yaml.SafeLoader.__init__(self, text)
        self.init_strict(file)


LOADERS: list[type[StrictLoader]] = [_PureLoader]

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _FastLoader(StrictLoader, Composer, CParser, SafeConstructor, Resolver):
        """libyaml's C parser for events (about 6 times faster), Python for the rest."""

        offsets_in_bytes = True

        def __init__(self, text: str, file: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.init_strict(file)

    LOADERS.insert(0, _FastLoader)

for _loader in LOADERS:
    for _tag, _constructor in (
        ("map", StrictLoader.construct_marked_map),
        ("seq", StrictLoader.construct_marked_seq),
        ("int", StrictLoader.construct_lenient_int),
        ("float", StrictLoader.construct_lenient_float),
        ("timestamp", StrictLoader.construct_verbatim),
        ("merge", StrictLoader.construct_verbatim),
        ("value", StrictLoader.construct_verbatim),
    ):
        _loader.add_constructor(f"{_CORE}{_tag}", _constructor)


_KIND_OF_TAG = {f"{_CORE}map": MappingStartEvent, f"{_CORE}seq": SequenceStartEvent}
_KIND_WORDS = {MappingStartEvent: "a mapping", SequenceStartEvent: "a list", ScalarEvent: "a plain value"}


def _scalar_patterns(tag: str) -> list[re.Pattern[str]]:
    return [regexp for resolvers in Resolver.yaml_implicit_resolvers.values()
            for found, regexp in resolvers if found == tag]


def _tag_misfit(event: ScalarEvent | CollectionStartEvent) -> str | None:
    """Why an allowed core tag does not fit its node (``!!seq {a: 1}``, ``!!bool maybe``), or None.

    PyYAML's constructors assume the tag fits the node kind and the value (they assert, or raise
    KeyError/ValueError, or print the node); checking first turns that into a located problem.
    """
    tag = event.tag
    assert tag is not None
    shown = tag.replace(_CORE, "!!")
    expected = _KIND_OF_TAG.get(tag, ScalarEvent)
    if not isinstance(event, expected):
        actual = next(words for kind, words in _KIND_WORDS.items() if isinstance(event, kind))
        return (f"YAML tag '{shown}' does not fit {actual}: it is only for {_KIND_WORDS[expected]} "
                "(remove the tag)")
    if isinstance(event, ScalarEvent) and tag in _CHECKED_SCALAR_TAGS:
        accepted = (tag, f"{_CORE}int") if tag == f"{_CORE}float" else (tag,)  # `!!float 5` is 5.0
        if not any(pattern.match(event.value) for kind in accepted for pattern in _scalar_patterns(kind)):
            return (f"'{_clip(event.value)}' is not a valid '{shown}' value (remove the tag, or write a "
                    f"value of that type)")
    return None


_CHECKED_SCALAR_TAGS = frozenset(f"{_CORE}{name}" for name in ("int", "float", "bool", "null", "timestamp"))


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
