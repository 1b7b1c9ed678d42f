"""Round-trip editing of seats.yaml: add or remove ``users``/``teams`` entries, touch nothing else.

ruamel.yaml parses the file (round-trip mode) only to *locate* the entries; the edit itself is
done on the text, line by line. Re-dumping with ruamel would move or drop comments (a comment
line above an entry belongs, to ruamel, to the entry before it, so deleting that one loses
it) and re-flow long lines. Line surgery keeps every byte outside the edited entries:
comments, blank lines, key order, quoting, indentation and line endings.

What an *entry* is: its key line (with any trailing comment) plus every following line that is
indented deeper than the key (its metadata, comments inside it, blank lines between them), up
to its last such non-blank line. Comment lines *above* an entry, at its own indentation, are
not part of it: they may be a section heading, so removal keeps them.

Entries are added at the end of their section, one line each (``name:``, an empty value, which
seats.yaml reads as "no metadata"), with an optional trailing comment. Names are matched
case-insensitively, as GitHub logins and slugs are. Only block-style mappings can be edited;
a flow-style section (``users: {alice: ...}``) raises :class:`SeatsEditError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from copilot_seats.desired.spec import normalize_login
from copilot_seats.errors import EditError

__all__ = [
    "NewEntry",
    "SeatsEditError",
    "Section",
    "add_entries",
    "entry_names",
    "remove_entries",
    "render_seats_file",
]

Section = Literal["users", "teams"]
"""The two sections whose entries can be edited."""

_INDENT = 2
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_YAML_WORDS = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n"})
_EMPTY_VALUE = re.compile(
    r"^(?P<key>[^#]*?:)(?:[ \t]+(?:\{[ \t]*\}|null|Null|NULL|~))?(?P<rest>[ \t]*(?:#.*)?)$"
)


class SeatsEditError(EditError):
    """seats.yaml cannot be edited as asked (unparsable, flow style, duplicate or unknown name)."""


@dataclass(frozen=True)
class NewEntry:
    """An entry to add: a login or team slug and an optional one-line trailing comment.

    :param name: the login or slug as it should be written (case is kept).
    :param comment: text written after ``#`` on the entry's line; ``None`` means no comment.
        Line breaks are replaced by spaces.
    """

    name: str
    comment: str | None = None


def entry_names(text: str, section: Section) -> list[str]:
    """The names declared in ``section`` of ``text``, in file order (``[]`` when absent or empty)."""
    mapping = _section(_load(text), section)
    return [str(k) for k in mapping] if mapping is not None else []


def remove_entries(text: str, section: Section, names: Iterable[str]) -> str:
    """Return ``text`` without the ``section`` entries named in ``names`` (case-insensitive).

    Every other line is kept byte for byte. Removing the last entry leaves ``users:`` with an
    empty value, which seats.yaml reads as "none".

    :raises SeatsEditError: when the text cannot be parsed, the section is in flow style, or a
        name is not declared in the section.
    """
    wanted = {normalize_login(n): n for n in names}
    if not wanted:
        return text
    root = _load(text)
    mapping = _section(root, section)
    lines = _split_lines(text)
    found: dict[str, tuple[int, int]] = {}
    if mapping is not None:
        _require_block(mapping, section)
        spans = _entry_spans(mapping, lines)
        found = {normalize_login(str(k)): span for k, span in spans.items()}
    unknown = sorted(n for key, n in wanted.items() if key not in found)
    if unknown:
        raise SeatsEditError(f"not declared under '{section}': {', '.join(unknown)}")
    drop: set[int] = set()
    for key in wanted:
        start, end = found[key]
        drop.update(range(start, end))
    return "".join(line for number, line in enumerate(lines) if number not in drop)


def add_entries(text: str, section: Section, entries: Sequence[NewEntry]) -> str:
    """Return ``text`` with ``entries`` appended, in the given order, at the end of ``section``.

    The section is created at the end of the file when absent; an empty section
    (``users:``, ``users: {}``, ``users: null``) gets its entries below its key line. New lines
    use the section's existing indentation (two spaces when it has none) and the file's line
    ending.

    :raises SeatsEditError: when the text cannot be parsed, the section is in flow style with
        entries, or a name is already declared (case-insensitively) or given twice.
    """
    if not entries:
        return text
    root = _load(text)
    mapping = _section(root, section)
    existing = {normalize_login(str(k)) for k in mapping} if mapping is not None else set()
    seen: set[str] = set()
    for entry in entries:
        key = normalize_login(entry.name)
        if key in existing or key in seen:
            raise SeatsEditError(f"'{entry.name}' is already declared under '{section}'")
        seen.add(key)
    lines = _split_lines(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline

    if mapping is not None and len(mapping) > 0:
        _require_block(mapping, section)
        spans = _entry_spans(mapping, lines)
        last = max(spans, key=lambda k: spans[k][0])
        column = mapping.lc.key(last)[1]
        at = spans[last][1]
    elif section in root:
        key_line, key_column = root.lc.key(section)
        match = _EMPTY_VALUE.match(lines[key_line].rstrip("\r\n"))
        if match is None:
            raise SeatsEditError(f"cannot add to '{section}' on line {key_line + 1}: its value is not "
                                 "empty and not a block mapping")
        ending = lines[key_line][len(lines[key_line].rstrip("\r\n")):] or newline
        lines[key_line] = match["key"] + match["rest"] + ending
        column, at = key_column + _INDENT, key_line + 1
    else:
        if lines and lines[-1].strip():
            lines.append(newline)
        lines.append(f"{section}:{newline}")
        column, at = _INDENT, len(lines)
    new = [_entry_line(entry, column, newline) for entry in entries]
    return "".join(lines[:at] + new + lines[at:])


def render_seats_file(
    organization: str,
    users: Sequence[NewEntry],
    teams: Sequence[NewEntry],
    *,
    header: Sequence[str] = (),
    settings: Mapping[str, str] | None = None,
) -> str:
    """A new seats.yaml: ``header`` comment lines, ``organization``, ``settings``, then entries.

    Entries are written in the given order, each on one line with its comment.
    """
    out = [f"# {_one_line(line)}".rstrip() + "\n" for line in header]
    if header:
        out.append("\n")
    out.append(f"organization: {_yaml_name(organization)}\n")
    if settings:
        out.append("\nsettings:\n")
        out.extend(f"{' ' * _INDENT}{key}: {value}\n" for key, value in settings.items())
    for section, entries in (("users", users), ("teams", teams)):
        out.append(f"\n{section}:\n")
        out.extend(_entry_line(entry, _INDENT, "\n") for entry in entries)
    return "".join(out)


# -- internals --------------------------------------------------------------------------------


def _load(text: str) -> CommentedMap:
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise SeatsEditError(f"seats file is not valid YAML: {exc}") from exc
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise SeatsEditError("seats file must be a mapping (organization, settings, users, teams)")
    if data.fa.flow_style():
        raise SeatsEditError("seats file is a flow-style mapping ({...}); only block style can be edited")
    return data


def _section(root: CommentedMap, section: Section) -> CommentedMap | None:
    value: Any = root.get(section)
    if value is None:
        return None
    if not isinstance(value, CommentedMap):
        raise SeatsEditError(f"'{section}' must be a mapping of names to metadata")
    return value


def _require_block(mapping: CommentedMap, section: Section) -> None:
    if mapping.fa.flow_style() and len(mapping) > 0:
        raise SeatsEditError(f"'{section}' is written in flow style ({{...}}); rewrite it in block style "
                             "(one entry per line) to edit it")


def _split_lines(text: str) -> list[str]:
    """Lines with their endings, split on ``\\n`` only (as YAML counts lines)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _entry_spans(mapping: CommentedMap, lines: Sequence[str]) -> dict[Any, tuple[int, int]]:
    """Each key of a block mapping -> its lines as a half-open range ``(start, end)``."""
    spans: dict[Any, tuple[int, int]] = {}
    for key in mapping:
        start, column = mapping.lc.key(key)
        if lines[start][:column].strip():
            raise SeatsEditError(f"entry '{key}' on line {start + 1} does not start its own line")
        end = start + 1
        for number in range(start + 1, len(lines)):
            body = lines[number].strip()
            if not body:
                continue
            if _indent(lines[number]) <= column:
                break
            end = number + 1
        spans[key] = (start, end)
    return spans


def _entry_line(entry: NewEntry, column: int, newline: str) -> str:
    comment = f"  # {_one_line(entry.comment)}" if entry.comment else ""
    return f"{' ' * column}{_yaml_name(entry.name)}:{comment}{newline}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _yaml_name(name: str) -> str:
    """``name`` as a YAML key that every YAML 1.1/1.2 reader takes for that exact string."""
    if _PLAIN_NAME.fullmatch(name) and name.lower() not in _YAML_WORDS:
        return name
    return "'" + name.replace("'", "''") + "'"
