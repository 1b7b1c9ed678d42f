"""Last activity the stack remembers past GitHub's 90-day retention, for ``report`` and ``prune``.

GitHub reports ``last_activity_at: null`` once a seat has been idle for 90 days, which reads the
same as "never used". The Seats resource carries ``remembered`` (login -> newest activity) forward
in the stack (its provider's ``check``), so the pack keeps judging the true date. This module reads those
dates out of ``pulumi stack export`` (state only: no secret is decrypted, nothing is written) so
``copilot-seats report --stack`` and ``prune --stack`` judge staleness exactly as the pack does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from copilot_seats.desired.spec import normalize_login
from copilot_seats.errors import ConfigError, ResponseError
from copilot_seats.github.live import parse_datetime
from copilot_seats.policies.config import SEATS_TYPE
from copilot_seats.provider.contract import LEGACY_TOKENS, observations_from_props

__all__ = ["StackMemoryError", "applied_inputs", "read_export", "read_remembered_activity", "remembered_activity"]

LEGACY_ROSTER = next(t for t in LEGACY_TOKENS if t.endswith(":Roster"))


class StackMemoryError(ConfigError):
    """The stack could not be read (no pulumi CLI, unknown stack, backend unreachable)."""


def remembered_activity(export: Mapping[str, Any]) -> dict[str, datetime]:
    """Login key -> the newest activity the stack has seen, from a ``pulumi stack export``
    document: the Seats resource's ``remembered`` input (dates GitHub no longer reports, carried
    forward by its provider's check) and the activity its last run observed."""
    deployment = export.get("deployment") or {}
    found: dict[str, datetime] = {}
    for resource in deployment.get("resources") or ():
        if not isinstance(resource, Mapping) or resource.get("type") != SEATS_TYPE:
            continue
        inputs = resource.get("inputs") or {}
        observed = observations_from_props(inputs.get("observed_users"))
        seen = {k: v.last_activity_at for k, v in observed.items()}
        remembered = inputs.get("remembered") or {}
        for source in (seen, remembered if isinstance(remembered, Mapping) else {}):
            for login, value in source.items():
                try:
                    when = parse_datetime(value)
                except ResponseError:
                    continue  # not written by this program; judge by GitHub's data alone
                if isinstance(login, str) and login and when is not None:
                    key = normalize_login(login)
                    found[key] = max(when, found.get(key, when))
    return found


def applied_inputs(export: Mapping[str, Any]) -> dict[str, Any] | None:
    """The inputs the stack last applied to its Seats resource (or, for a stack still on 0.1's
    per-seat resources, its Roster's, which the next run takes over), from a ``pulumi stack
    export`` document; ``None`` for a stack that applied none (a new stack)."""
    resources = [r for r in (export.get("deployment") or {}).get("resources") or ()
                 if isinstance(r, Mapping) and not r.get("delete")]
    for wanted in (SEATS_TYPE, LEGACY_ROSTER):
        for resource in resources:
            inputs = resource.get("inputs")
            if resource.get("type") == wanted and isinstance(inputs, Mapping):
                return dict(inputs)
    return None


def read_remembered_activity(stack: str, cwd: Path) -> dict[str, datetime]:
    """:func:`remembered_activity` of ``stack``, read through the pulumi CLI in project ``cwd``."""
    return remembered_activity(read_export(stack, cwd))


def read_export(stack: str, cwd: Path) -> dict[str, Any]:
    """``pulumi stack export`` of ``stack`` (state only: nothing decrypted), through the CLI in ``cwd``."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise StackMemoryError("--stack needs the pulumi CLI on PATH")
    proc = subprocess.run([pulumi, "stack", "export", "--stack", stack, "--non-interactive"], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise StackMemoryError(f"cannot read stack {stack}: {proc.stderr.strip() or 'pulumi stack export failed'}")
    try:
        export = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise StackMemoryError(f"cannot read stack {stack}: unexpected export ({exc})") from None
    if not isinstance(export, dict) or not isinstance(export.get("deployment") or {}, dict):
        raise StackMemoryError(f"cannot read stack {stack}: unexpected export")
    return export
