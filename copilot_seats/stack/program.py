"""The Pulumi program's body: load seats.yaml, list live seats once, declare resources.

Called from the project's ``__main__.py``. Never writes to GitHub itself (its client is
read-only); writes happen only in the resources' providers during ``pulumi up``/``destroy``.
An invalid seats.yaml or stack setting stops the run before any API call, with every located
problem.

Errors: :func:`main` is the program's one mapping of the exception tree: any
:class:`~copilot_seats.errors.CopilotSeatsError` (and, as a last resort, any other exception)
becomes a ``pulumi.RunError`` carrying the same message the CLI prints, scrubbed of the token,
so ``pulumi preview`` shows it without a traceback.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi

from copilot_seats import lifeline
from copilot_seats.decisions.run_settings import SettingsError, parse_settings
from copilot_seats.desired.loader import check_file
from copilot_seats.errors import ApiError, CopilotSeatsError
from copilot_seats.github.api import CopilotClient
from copilot_seats.github.credentials import base_url_from, check_token
from copilot_seats.github.live import fetch_snapshot
from copilot_seats.redact import scrub
from copilot_seats.stack.model import RunOptions, StackModel, build_stack
from copilot_seats.stack.resources import Seats, copilot_provider

__all__ = ["main"]


def _export(model: StackModel, seats: Seats, run_id: str) -> None:
    """Stack outputs. Counts of the listing as the run found it are plain; the two that depend on
    what this run revokes come from the Seats resource's record of *this* run (unknown in a
    preview that changes seats, exact after ``up``)."""
    for key, value in model.outputs.items():
        pulumi.export(key, value)

    def revoked(last_run: Any) -> dict[str, int]:
        run = last_run if isinstance(last_run, dict) and last_run.get("run_id") == run_id else {}
        users = len(run.get("revoked_users") or [])
        teams = sum(int(n) for n in (run.get("revoked_teams") or {}).values())
        return {"seatsRevokedByThisRun": int(run.get("revoked_seats") or 0),
                "unmanagedSeatsAfterRun": max(model.unmanaged_count - users - teams, 0)}

    summary = seats.last_run.apply(revoked)
    pulumi.export("seatsRevokedByThisRun", summary.apply(lambda s: s["seatsRevokedByThisRun"]))
    pulumi.export("unmanagedSeats", summary.apply(lambda s: s["unmanagedSeatsAfterRun"]))


def main() -> None:
    """Run the program (inside ``pulumi preview``/``up``); every failure is a ``RunError``."""
    lifeline.start_watch()  # leave with the CLI, even when it is killed with -9
    try:
        _main()
    except pulumi.RunError as err:
        raise pulumi.RunError(scrub(str(err))) from None
    except CopilotSeatsError as err:
        raise pulumi.RunError(scrub(str(err))) from None
    except Exception as err:  # a bug: still one line, never a traceback with the token in a local
        raise pulumi.RunError(f"internal error (a bug in copilot-seats; please report it): "
                              f"{type(err).__name__}: {scrub(str(err))}") from None


def _nothing_written() -> str:
    """What reached GitHub before the program stopped: nothing (a ``--refresh`` reads nothing either:
    the Seats record is the stack's memory, kept as it is)."""
    return "nothing was sent to GitHub"


def _token(github: pulumi.Config) -> str:
    """The token (``GITHUB_TOKEN`` first, then the ``github:token`` secret), checked before use."""
    if (os.environ.get("GITHUB_TOKEN") or "").strip():
        return check_token(os.environ["GITHUB_TOKEN"], "GITHUB_TOKEN")
    configured = github.get("token")
    if not configured:
        raise pulumi.RunError("no GitHub token: set GITHUB_TOKEN or `pulumi config set --secret github:token ...`")
    token = check_token(configured, "github:token")
    if os.environ.get("PULUMI_DEBUG_GRPC"):
        pulumi.log.warn(f"PULUMI_DEBUG_GRPC is set and the token is the stack secret github:token: the engine "
                        f"has written the decrypted stack config, token included, to "
                        f"{os.environ['PULUMI_DEBUG_GRPC']!r}. Delete that file and rotate the token; "
                        "debug with GITHUB_TOKEN in the environment instead (docs/secrets.md)")
    return token


def _main() -> None:
    project, github = pulumi.Config(), pulumi.Config("github")
    checked = check_file(Path(project.get("seatsFile") or "seats.yaml"))
    for warning in checked.warnings:
        pulumi.log.warn(str(warning))
    if checked.spec is None or checked.errors:
        problems = "\n".join(str(p) for p in checked.errors)
        raise pulumi.RunError(f"seats file is invalid; {_nothing_written()}:\n{problems}")
    spec = checked.spec
    try:
        settings = parse_settings(project.get, os.environ)
    except SettingsError as err:
        raise pulumi.RunError(f"invalid stack config; {_nothing_written()}: {err}") from None
    run_id = uuid.uuid4().hex
    options = RunOptions(api_url=github.get("baseUrl"), settings=settings, run_id=run_id)
    token = _token(github)
    client = CopilotClient(base_url_from(os.environ, options.api_url), token, read_only=True)
    try:
        snapshot = fetch_snapshot(client, spec.organization)
    except ApiError as err:
        raise pulumi.RunError(f"could not read Copilot seats of {spec.organization}: {err}") from None
    finally:
        client.close()
    model = build_stack(spec, snapshot, datetime.now(UTC), options)
    seats = Seats(model.seats, copilot_provider(options.api_url))
    _export(model, seats, run_id)
