"""``copilot-seats validate``: check seats.yaml files offline (no network, no token).

Exit codes: 0 every file is valid (warnings allowed); 1 at least one file is invalid;
2 usage error (e.g. a path that does not exist). ``--format json`` prints one object for
all paths: ``{"valid": bool, "errors": [...], "warnings": [...]}``, each problem being
``{"file", "line", "column", "message"}``.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from copilot_seats.cli import main
from copilot_seats.desired.loader import CheckResult, check_file
from copilot_seats.desired.names import check_name
from copilot_seats.desired.trusted_org import check_organization
from copilot_seats.errors import CheckFailed, SpecProblem
from copilot_seats.escape import one_line

__all__ = ["validate"]

DEFAULT_PATH = "seats.yaml"


class _SeatsPath(click.Path):
    """An existing, readable, non-directory path; a symlink that cannot be followed (a loop, a
    dangling link) is passed on so the loader reports why, in the words the program uses too."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if os.path.lexists(value) and not os.path.exists(value):
            return os.fsdecode(value)
        return super().convert(value, param, ctx)


@main.command("validate")
@click.argument(
    "paths",
    nargs=-1,
    type=_SeatsPath(exists=True, dir_okay=False, readable=True, path_type=str),
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["human", "json"]),
    default="human",
    show_default=True,
    help="human: one 'file:line:col: error: message' line per problem, then a summary. "
    "json: one object for all files.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge expiry dates as of this date, YYYY-MM-DD (default: today). Makes CI runs reproducible.",
)
@click.option(
    "--org",
    envvar="COPILOT_SEATS_ORG",
    show_envvar=True,
    default=None,
    help="The organization the files must name (case-insensitive): a file naming another one is invalid. "
    "The preview workflow sets it, so a pull request cannot choose which organization is read.",
)
def validate(paths: tuple[str, ...], output_format: str, today: datetime | None, org: str | None) -> None:
    """Check seats.yaml files without contacting GitHub.

    Checks the YAML syntax, the JSON Schema (schemas/seats.schema.json), GitHub login and
    team slug syntax, real dates, duplicates (logins are case-insensitive) and, with --org,
    that the file names that organization. Warns about
    grants whose 'expires' date or stale exemption has passed. PATHS defaults to seats.yaml.

    Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error.
    """
    if not paths:
        if not Path(DEFAULT_PATH).is_file():
            raise click.BadParameter(
                f"'{DEFAULT_PATH}' does not exist in the current directory; pass the path to your seats file",
                param_hint="'PATHS...'",
            )
        paths = (DEFAULT_PATH,)
    as_of: date | None = today.date() if today is not None else None
    expected = check_name("organization", org, "--org (COPILOT_SEATS_ORG)") if org else None
    results = [check_organization(check_file(path, today=as_of), path, expected) for path in paths]
    errors = [problem for result in results for problem in result.errors]
    warnings = [problem for result in results for problem in result.warnings]
    if output_format == "json":
        click.echo(json.dumps(_json_report(errors, warnings), indent=2))
    else:
        for problem in errors:
            click.echo(_human_line(problem, "error"))
        for problem in warnings:
            click.echo(_human_line(problem, "warning"))
        click.echo(_summary(paths, results, errors, warnings))
    if errors:
        raise CheckFailed("")  # every problem is printed above


def _human_line(problem: SpecProblem, severity: str) -> str:
    return one_line(f"{problem.file}:{problem.line}:{problem.column}: {severity}: {problem.message}")


def _json_report(errors: list[SpecProblem], warnings: list[SpecProblem]) -> dict[str, object]:
    def as_dict(problem: SpecProblem) -> dict[str, object]:
        return {
            "file": problem.file,
            "line": problem.line,
            "column": problem.column,
            "message": problem.message,
        }

    return {
        "valid": not errors,
        "errors": [as_dict(p) for p in errors],
        "warnings": [as_dict(p) for p in warnings],
    }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(
    paths: tuple[str, ...],
    results: list[CheckResult],
    errors: list[SpecProblem],
    warnings: list[SpecProblem],
) -> str:
    files = paths[0] if len(paths) == 1 else _plural(len(paths), "file")
    counts = f"{_plural(len(errors), 'error')}, {_plural(len(warnings), 'warning')}"
    if errors:
        invalid = sum(1 for result in results if not result.valid)
        which = f"; {invalid} of {len(paths)} files invalid" if len(paths) > 1 else ""
        return f"{files}: invalid ({counts}{which})"
    users = sum(len(r.spec.users) for r in results if r.spec is not None)
    teams = sum(len(r.spec.teams) for r in results if r.spec is not None)
    return f"{files}: valid ({_plural(users, 'user')}, {_plural(teams, 'team')}; {counts})"
