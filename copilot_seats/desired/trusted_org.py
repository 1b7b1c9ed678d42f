"""The organization a seats file may name, when the caller knows which one it manages.

A pull request's seats.yaml is untrusted data: its ``organization:`` must not choose which
organization the preview's read credential reads (its seat holders would end up in the PR's
artifact). ``validate --org`` and ``pr-comment --org`` (``COPILOT_SEATS_ORG`` in the preview
workflow) therefore turn another organization into an ordinary located problem: the file is
invalid, nothing is previewed or reported, and the comment says why.
"""

from __future__ import annotations

import re
from pathlib import Path

from copilot_seats.desired.loader import CheckResult
from copilot_seats.errors import SpecProblem

__all__ = ["check_organization"]

_KEY = re.compile(r"^organization[ \t]*:[ \t]*", re.MULTILINE)


def _where(path: str) -> tuple[int, int]:
    """Line and column of the top-level ``organization:`` value, or (0, 0) when not found."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0, 0
    match = _KEY.search(text)
    if match is None:
        return 0, 0
    return text.count("\n", 0, match.start()) + 1, match.end() - match.start() + 1


def check_organization(result: CheckResult, path: str, expected: str | None) -> CheckResult:
    """``result``, or an invalid result when the valid file names another organization than ``expected``.

    Organization logins are compared case-insensitively (as GitHub does). ``expected=None``
    means the caller has no trusted organization: the file's own is accepted.
    """
    if expected is None or result.spec is None or result.spec.organization.casefold() == expected.casefold():
        return result
    line, column = _where(path)
    problem = SpecProblem(
        path, line, column,
        f"organization {result.spec.organization!r} is not {expected!r}, the organization this repository "
        "manages (--org, COPILOT_SEATS_ORG): a pull request cannot change which organization is read; "
        "moving to another organization is done on the default branch",
        "$.organization")
    return CheckResult(None, [problem], result.warnings)
