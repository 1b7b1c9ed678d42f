"""What a Pulumi run should do, decided as pure functions (no I/O, no clock, no pulumi).

The program turns seats.yaml plus one live listing into resource arguments; the resources'
provider only executes. Two decisions live here because they must be the same in the
program, the CLI and tests:

* **authoritative revocations** — which live seats are held outside seats.yaml and would be
  revoked in ``authoritative`` mode (directly held seats by login, team-derived seats by
  their undeclared team);
* **the mass-removal guard** — refuse a run that would revoke more than
  ``max(MAX_REMOVAL_COUNT, MAX_REMOVAL_FRACTION x declared)`` seats, so an emptied or
  truncated seats.yaml can never wipe an organization.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from copilot_seats.defaults import MAX_REMOVAL_COUNT, MAX_REMOVAL_FRACTION

__all__ = [
    "GuardVerdict",
    "Revocations",
    "authoritative_revocations",
    "check_mass_removal",
    "removal_limit",
]


@dataclass(frozen=True)
class Revocations:
    """Seats held outside seats.yaml that authoritative mode revokes.

    :param users: keys (casefolded logins) of directly held, not-yet-leaving seats.
    :param teams: slugs of undeclared teams through which live seats are held, with the
        number of seats each one carries (revoking the team revokes those seats).
    """

    users: tuple[str, ...] = ()
    teams: Mapping[str, int] | None = None

    @property
    def seat_count(self) -> int:
        return len(self.users) + sum((self.teams or {}).values())


def authoritative_revocations(
    declared_users: Iterable[str],
    declared_teams: Iterable[str],
    live_direct: Iterable[str],
    live_team_seats: Mapping[str, int],
) -> Revocations:
    """Seats to revoke in authoritative mode.

    :param declared_users: casefolded logins declared in seats.yaml.
    :param declared_teams: casefolded team slugs declared in seats.yaml.
    :param live_direct: casefolded logins holding a direct seat that is not pending
        cancellation (a pending seat is already leaving: revoking it again is noise).
    :param live_team_seats: casefolded team slug -> number of live, not-pending seats held
        through that team.
    """
    users = set(declared_users)
    teams = set(declared_teams)
    return Revocations(
        users=tuple(sorted(k for k in set(live_direct) if k not in users)),
        teams={slug: n for slug, n in sorted(live_team_seats.items()) if slug not in teams},
    )


def removal_limit(
    declared_count: int,
    max_count: int = MAX_REMOVAL_COUNT,
    max_fraction: float = MAX_REMOVAL_FRACTION,
) -> int:
    """The most seats one run may revoke: the larger of a count and a fraction of the declared."""
    return max(max_count, math.ceil(max_fraction * declared_count))


@dataclass(frozen=True)
class GuardVerdict:
    """The mass-removal guard's answer. ``ok`` False means: fail before anything changes."""

    ok: bool
    revoking: int
    limit: int
    message: str


def check_mass_removal(
    previous_users: Iterable[str],
    current_users: Iterable[str],
    previous_team_seats: Mapping[str, int],
    current_teams: Iterable[str],
    extra_revocations: int,
    max_count: int = MAX_REMOVAL_COUNT,
    max_fraction: float = MAX_REMOVAL_FRACTION,
    allowed: bool = False,
) -> GuardVerdict:
    """Count the seats a run would revoke and compare with :func:`removal_limit`.

    :param previous_users: logins declared at the last applied run (from state).
    :param current_users: logins declared now.
    :param previous_team_seats: team slug -> live seats through it, for teams declared at
        the last applied run; dropping a team revokes that many seats.
    :param current_teams: team slugs declared now.
    :param extra_revocations: seats revoked for other reasons (authoritative mode).
    :param allowed: the operator explicitly allowed a mass removal for this run.
    The limit is computed from the *previous* declared count: shrinking seats.yaml to
    nothing must not shrink the limit with it.
    """
    prev_users, cur_users = set(previous_users), set(current_users)
    cur_teams = set(current_teams)
    removed_users = prev_users - cur_users
    removed_team_seats = sum(n for slug, n in previous_team_seats.items() if slug not in cur_teams)
    revoking = len(removed_users) + removed_team_seats + extra_revocations
    declared_before = len(prev_users) + sum(previous_team_seats.values())
    limit = removal_limit(max(declared_before, len(cur_users)), max_count, max_fraction)
    if revoking <= limit or allowed:
        return GuardVerdict(True, revoking, limit, f"revoking {revoking} seat(s) (limit {limit})")
    sample = ", ".join(sorted(removed_users)[:10])
    return GuardVerdict(
        False,
        revoking,
        limit,
        f"refusing to revoke {revoking} Copilot seats in one run (limit {limit}: the larger of "
        f"{max_count} and {max_fraction:.0%} of the declared seats)"
        + (f"; removed users include {sample}" if sample else "")
        + ". If this is intended, allow it for this run: set COPILOT_SEATS_ALLOW_MASS_REMOVAL=1 "
        "or `pulumi config set copilot-seats:allowMassRemoval true`.",
    )
