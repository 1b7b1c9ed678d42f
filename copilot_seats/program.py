"""The Pulumi program's body: load seats.yaml, list live seats once, declare resources.

Called from the project's ``__main__.py``. Never writes to GitHub itself (its client is
read-only); writes happen only in the resources' providers during ``pulumi up``/``destroy``.
An invalid seats.yaml stops the run before any API call, with every located problem.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pulumi

from copilot_seats.api import CopilotClient
from copilot_seats.credentials import base_url_from
from copilot_seats.errors import ApiError
from copilot_seats.live import fetch_snapshot
from copilot_seats.loader import check_file
from copilot_seats.resources import Organization, Revocation, Seat, TeamGrant
from copilot_seats.stack_model import RunOptions, build_stack

__all__ = ["main"]

_TRUE = {"1", "true", "yes"}


def _options(project: pulumi.Config, github: pulumi.Config) -> RunOptions:
    allow = (os.environ.get("COPILOT_SEATS_ALLOW_MASS_REMOVAL", "").lower() in _TRUE
             or bool(project.get_bool("allowMassRemoval")))
    defaults = RunOptions()
    return RunOptions(
        stack=pulumi.get_stack(),
        api_url=github.get("baseUrl"),
        stale_days=project.get_int("staleDays") or defaults.stale_days,
        grace_days=project.get_int("graceDays") or defaults.grace_days,
        max_removal_count=project.get_int("maxRemovalCount") or defaults.max_removal_count,
        max_removal_fraction=project.get_float("maxRemovalFraction") or defaults.max_removal_fraction,
        allow_mass_removal=allow,
    )


def main() -> None:
    """Run the program (inside ``pulumi preview``/``up``)."""
    project, github = pulumi.Config(), pulumi.Config("github")
    checked = check_file(Path(project.get("seatsFile") or "seats.yaml"))
    for warning in checked.warnings:
        pulumi.log.warn(str(warning))
    if checked.spec is None or checked.errors:
        problems = "\n".join(str(p) for p in checked.errors)
        raise pulumi.RunError(f"seats file is invalid; nothing was sent to GitHub:\n{problems}")
    spec = checked.spec
    options = _options(project, github)
    token = (os.environ.get("GITHUB_TOKEN") or "").strip() or github.get("token")
    if not token:
        raise pulumi.RunError("no GitHub token: set GITHUB_TOKEN or `pulumi config set --secret github:token ...`")
    client = CopilotClient(base_url_from(os.environ, options.api_url), token, read_only=True)
    try:
        snapshot = fetch_snapshot(client, spec.organization)
    except ApiError as err:
        raise pulumi.RunError(f"could not read Copilot seats of {spec.organization}: {err}") from None
    finally:
        client.close()
    model = build_stack(spec, snapshot, datetime.now(UTC), options)

    org = Organization(spec.organization, model.organization)
    after_org = pulumi.ResourceOptions(depends_on=[org])
    for name, props in model.teams.items():
        TeamGrant(name, props, after_org)
    for name, props in model.seats.items():
        Seat(name, props, after_org)
    for name, props in model.revocations.items():
        Revocation(name, props, after_org)
    for key, value in model.outputs.items():
        pulumi.export(key, value)
