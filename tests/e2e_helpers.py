"""Shared helpers for the end-to-end tests on the real engine (seats files, step maps, request logs)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningSimulator
from engine import REPO, PulumiResult, PulumiWorkspace, preview_steps, seat_changes

SEAT = "copilot:index:Seat"
TEAM = "copilot:index:TeamGrant"
ORG = "copilot:index:Organization"
ROSTER = "copilot:index:Roster"
REVOCATION = "pulumi-python:dynamic/copilot:Revocation"  # legacy records keep their type until deleted
NO_SPACING = {"COPILOT_SEATS_WRITE_SPACING": "0"}


def seats_yaml(users: Iterable[str], teams: Iterable[str] = (), mode: str = "additive", org: str = "acme") -> str:
    """A valid seats.yaml declaring ``users`` and ``teams`` (each with an owner)."""
    users, teams = list(users), list(teams)
    lines = [f"organization: {org}", "settings:", f"  mode: {mode}"]
    entries = [f"  {u}:\n    owner: platform\n    reason: testing" for u in users]
    lines += ["users:", *entries] if users else ["users: {}"]
    lines += ["teams:", *[f"  {t}:\n    owner: platform" for t in teams]] if teams else ["teams: {}"]
    return "\n".join(lines) + "\n"


def steps(result: PulumiResult) -> dict[tuple[str, str], str]:
    """(type, name) -> op for every step of a `preview --json` that changes something (either engine)."""
    return preview_steps(result)


def changes(result: PulumiResult) -> dict[str, str]:
    """The seat changes of a ``preview --json`` (``"user alice": "grant"``; see engine.seat_changes)."""
    return seat_changes(result)


def sim_seats(sim: RunningSimulator, org: str = "acme") -> dict[str, Any]:
    """login key -> seat payload from the simulator's own listing (not through our client)."""
    seats = sim.client().list_seats(org)
    return {s["assignee"]["login"].casefold(): s for s in seats if s.get("assignee")}


def active_logins(sim: RunningSimulator, org: str = "acme") -> set[str]:
    return {k for k, s in sim_seats(sim, org).items() if s.get("pending_cancellation_date") is None}


def writes_during(sim: RunningSimulator, action: Callable[[], PulumiResult]) -> tuple[PulumiResult, list[Any]]:
    """Run ``action``; return its result and the writes (POST/DELETE) the simulator received meanwhile."""
    before = len(sim.writes)
    result = action()
    return result, sim.writes[before:]


def _sent(writes: Sequence[Any], endpoint: str, field: str) -> list[str]:
    """Every name sent in a DELETE to ``endpoint`` (lower-cased, with repeats)."""
    return [str(name).casefold() for w in writes if w.method == "DELETE" and w.path.endswith(endpoint)
            for name in (w.body or {}).get(field, [])]


def revoked_logins(writes: Sequence[Any]) -> list[str]:
    """Every login sent in a DELETE selected_users body (with repeats)."""
    return _sent(writes, "selected_users", "selected_usernames")


def revoked_teams(writes: Sequence[Any]) -> list[str]:
    """Every team slug sent in a DELETE selected_teams body (with repeats)."""
    return _sent(writes, "selected_teams", "selected_teams")


def assert_converged(ws: PulumiWorkspace) -> None:
    """After an ``up``: a preview shows no change at all (what the nightly drift job runs)."""
    final = ws.preview("--json", "--expect-no-changes", policy_pack=None)
    assert steps(final) == {}, final


def fixture_org(users: int = 0, team_members: int = 0, extra_members: Sequence[str] = (),
                seats: Sequence[dict[str, Any]] = (), second_org: bool = False) -> dict[str, Any]:
    """A simulator fixture: org ``acme`` (assign_selected) with members user00.., team ``big``
    (m00..), the given seats, and optionally ``acme-two`` with the same members and no seats."""
    members = [f"user{i:02d}" for i in range(users)] + [f"m{i:02d}" for i in range(team_members)]
    members += list(extra_members)
    org = {"login": "acme", "id": 4242, "seat_management_setting": "assign_selected", "plan_type": "business",
           "members": members,
           "teams": [{"slug": "big", "name": "Big", "members": [f"m{i:02d}" for i in range(team_members)]}],
           "seats": list(seats)}
    orgs = [org]
    if second_org:
        orgs.append({"login": "acme-two", "id": 4343, "seat_management_setting": "assign_selected",
                     "plan_type": "business", "members": list(members), "seats": []})
    return {"organizations": orgs}


def workspace(tmp_path: Any, sim: RunningSimulator, text: str, **env: str) -> PulumiWorkspace:
    ws = PulumiWorkspace(tmp_path, text, extra_env={**sim.env(), **NO_SPACING, **env})
    ws.init_stack()
    return ws


OLD_PROGRAM = "from copilot_seats.program import main\n\nmain()\n"
"""The project's __main__.py before the package was laid out by stage."""


def old_package(dest: Path, commit: str) -> Path:
    """The copilot_seats package as of ``commit`` (git history): 03afaa3 is the last release
    before the guard's Roster; 5c85c04 the last with dynamic providers."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "copilot_seats"],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        pytest.fail(f"the upgrade test needs commit {commit} in the repository's history (a full clone): "
                    f"{archive.stderr.decode(errors='replace')}", pytrace=False)
    dest.mkdir()
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest
