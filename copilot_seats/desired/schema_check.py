"""JSON Schema validation of seats.yaml, with messages written for people.

The schema (``schemas/seats.schema.json``, shipped in the package as
``copilot_seats/seats.schema.json``) is the single description of the file's shape: editors
use it through yaml-language-server, and this module validates against it. jsonschema's
errors are translated into :class:`~copilot_seats.errors.SpecProblem` values that name the
offending value, say what was expected (the schema's ``patternErrorMessage`` when it has
one), suggest the closest allowed key for unknown keys, and point at the line and column.

``pattern`` is applied with :func:`re.fullmatch` (the patterns are anchored anyway): Python's
``$`` also matches before a trailing newline, which would let ``"alice\\n"`` through.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from copilot_seats.desired.yaml_source import YamlDocument, format_json_path, position_of
from copilot_seats.errors import SpecProblem

__all__ = ["describe_value", "load_schema", "schema_problems", "suggest"]

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty",
}
_KEY_KINDS = {"users": "login", "teams": "team slug"}


@functools.cache
def load_schema() -> dict[str, Any]:
    """The seats.yaml JSON Schema (2020-12), as shipped inside the package."""
    text = resources.files("copilot_seats").joinpath("seats.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _fullmatch_pattern(
    validator: Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and re.fullmatch(pattern, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_SeatsValidator = validators.extend(Draft202012Validator, {"pattern": _fullmatch_pattern})


@functools.cache
def _validator() -> Validator:
    return _SeatsValidator(_inline_refs(load_schema(), load_schema().get("$defs", {})))


def _inline_refs(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema with every local ``$ref`` replaced by its target (siblings win).

    jsonschema resolves a ``$ref`` on every visit, which made a 100,000-user file take
    several times longer; the schema has no recursive references, so inlining is exact.
    """
    if isinstance(schema, list):
        return [_inline_refs(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _inline_refs(value, defs) for key, value in schema.items() if key != "$defs"}
    ref = result.pop("$ref", None)
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        result = {**_inline_refs(defs[ref.removeprefix("#/$defs/")], defs), **result}
    return result


def schema_problems(document: YamlDocument, file: str) -> list[SpecProblem]:
    """Every way ``document.data`` departs from the schema, located; empty when it conforms."""
    problems: list[SpecProblem] = []
    for error in _validator().iter_errors(document.data):
        problems.extend(_translate(error, document, file))
    return problems


def _translate(error: ValidationError, document: YamlDocument, file: str) -> Iterator[SpecProblem]:
    path: list[str | int] = list(error.absolute_path)

    def problem(at: Sequence[str | int], message: str, *, key: bool = False) -> SpecProblem:
        line, column = position_of(document.data, at, key=key) or document.root_position
        return SpecProblem(file, line, column, message, format_json_path(at))

    if "propertyNames" in error.absolute_schema_path:
        name = str(error.instance)
        kind = _KEY_KINDS.get(str(path[-1]) if path else "", "key")
        hint = ""
        if re.fullmatch(str(error.schema.get("pattern", "")), name.lower()):
            hint = f"; did you mean '{name.lower()}'?"
        yield problem(
            [*path, name],
            f"invalid {kind} {describe_value(name)}: expected {_expected(error.schema)}{hint}",
            key=True,
        )
        return
    label = _label(path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for extra in [k for k in error.instance if k not in allowed]:
            yield problem(
                [*path, extra],
                f"unknown key '{_clip(extra)}' in {label}{suggest(extra, allowed)} "
                f"(allowed: {', '.join(allowed)})",
                key=True,
            )
    elif error.validator == "required":
        for missing in error.validator_value:
            if missing not in error.instance:
                yield problem(path, f"missing required key '{missing}' in {label}")
    elif error.validator == "type":
        if not path:
            yield problem(
                path,
                "the top level of seats.yaml must be a mapping with the keys organization, "
                f"settings, users and teams; got {describe_value(error.instance)}",
            )
            return
        hint = ""
        plain_text = "string" in _as_list(error.validator_value) and "patternErrorMessage" not in error.schema
        if plain_text and isinstance(error.instance, int | float):
            hint = " (put it in quotes to make it text)"
        yield problem(
            path, f"{label} must be {_expected(error.schema)}, got {describe_value(error.instance)}{hint}"
        )
    elif error.validator == "enum":
        choices = [str(choice) for choice in error.validator_value]
        yield problem(
            path,
            f"{label} must be one of {', '.join(map(repr, choices))}, got "
            f"{describe_value(error.instance)}{suggest(str(error.instance), choices)}",
        )
    elif error.validator == "pattern":
        yield problem(
            path, f"{label} must be {_expected(error.schema)}, got {describe_value(error.instance)}"
        )
    elif error.validator == "minLength":
        yield problem(path, f"{label} must not be empty")
    elif error.validator == "maxLength":
        yield problem(
            path, f"{label} is too long ({len(error.instance)} characters; at most {error.validator_value})"
        )
    elif error.validator in ("minimum", "maximum"):
        bound = "at least" if error.validator == "minimum" else "at most"
        yield problem(
            path, f"{label} must be {bound} {error.validator_value}, got {describe_value(error.instance)}"
        )
    else:  # pragma: no cover - every keyword the schema uses is handled above
        yield problem(path, f"{label}: {error.message}")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _expected(schema: dict[str, Any]) -> str:
    """What a value of ``schema`` should look like, in words."""
    if "patternErrorMessage" in schema:
        return str(schema["patternErrorMessage"])
    words = [_TYPE_WORDS.get(str(t), str(t)) for t in _as_list(schema.get("type", []))]
    return " or ".join(words) or "a valid value"


def _label(path: Sequence[str | int]) -> str:
    if not path:
        return "the top level"
    return "'" + ".".join(_clip(str(step), 40) for step in path) + "'"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_value(value: Any) -> str:
    """A short description of an offending value, e.g. ``the number 12`` or ``'a/b'``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {_clip(str(value))}"
    if isinstance(value, str):
        return repr(_clip(value))
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def suggest(word: str, choices: Sequence[str]) -> str:
    """``"; did you mean 'owner'?"`` for the closest of ``choices``, or ``""`` when none is close."""
    folded = {choice.casefold(): choice for choice in choices}
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return f"; did you mean '{folded[close[0]]}'?" if close else ""
