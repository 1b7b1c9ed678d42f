"""Names that reach a URL path from outside seats.yaml (``--org``), checked by seats.yaml's rule.

The JSON Schema's ``githubLogin`` (organizations, users) and ``slug`` (teams, enterprises)
patterns are the one definition of a valid name; this module applies the same patterns to
names given on the command line, so ``--org ..`` or ``--org .`` (dot segments, which URL
encoding leaves alone and an HTTP client normalizes away: ``/orgs/../copilot/billing`` is
``/copilot/billing``) are refused before any request, exactly as seats.yaml would refuse them.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from copilot_seats.desired.schema_check import load_schema
from copilot_seats.errors import ConfigError

__all__ = ["NameKind", "check_name", "name_problem"]

NameKind = Literal["organization", "enterprise", "login", "team"]
_DEFINITION: dict[str, str] = {"organization": "githubLogin", "login": "githubLogin",
                               "enterprise": "slug", "team": "slug"}


@functools.cache
def _rule(definition: str) -> tuple[re.Pattern[str], str]:
    spec = load_schema()["$defs"][definition]
    return re.compile(spec["pattern"]), spec["patternErrorMessage"]


def name_problem(kind: NameKind, value: str) -> str | None:
    """Why ``value`` is not a valid ``kind`` name (seats.yaml's rule), or ``None`` when it is."""
    pattern, expected = _rule(_DEFINITION[kind])
    if pattern.fullmatch(value):
        return None
    return f"{value!r} is not a valid {kind} name: expected {expected}"


def check_name(kind: NameKind, value: str, source: str) -> str:
    """``value`` unchanged when valid, else :class:`ConfigError` naming ``source`` (e.g. ``--org``)."""
    problem = name_problem(kind, value)
    if problem is not None:
        raise ConfigError(f"{source}: {problem}")
    return value
