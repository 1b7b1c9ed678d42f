"""The one judgment of seat state: what GitHub says about a login or team, and what it means.

Everything that needs to know whether a seat is "missing", "leaving" or "unmanaged" — the
report, the Pulumi program's resources and outputs, the policy pack, prune and the guard —
takes it from here. Pure: inputs are :class:`copilot_seats.github.live.LiveSeat` values and the
casefolded keys of seats.yaml.

What GitHub says (:class:`Held`), per login:

* ``direct`` — an active seat assigned to the user directly;
* ``team`` — an active seat that comes through a team (``assigning_team``);
* ``pending`` — a seat pending cancellation: the user keeps access until the billing cycle
  ends, then the seat leaves the listing;
* ``absent`` — GitHub lists no seat.

What that means against seats.yaml (:class:`Standing`):

* ``seated`` — declared (directly, or through a declared team) and active;
* ``missing`` — declared directly, GitHub lists no seat (``pulumi up`` grants it);
* ``leaving`` — declared, but the seat is pending cancellation (``pulumi up`` re-grants it).
  Pending is its own class everywhere: never counted as missing, never as seated;
* ``unmanaged`` — an active seat held outside seats.yaml (neither declared directly nor
  through a declared team);
* ``departing`` — not declared and pending cancellation: already on its way out, not drift.

A declared team (:class:`TeamStanding`) is ``seated`` when at least one active seat comes
through it, ``leaving`` when the only seats through it are pending cancellation (its grant was
revoked), and ``missing`` when GitHub lists no seat through it (no grant, or no members).

A *double grant* is a user declared directly whose active seat GitHub shows as coming through
a declared team.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet

from copilot_seats.github.live import LiveSeat

__all__ = [
    "Held",
    "Standing",
    "TeamStanding",
    "active",
    "held",
    "is_double_grant",
    "standing",
    "team_standings",
]


class Held(enum.StrEnum):
    """What GitHub lists for a login (see the module docstring)."""

    DIRECT = "direct"
    TEAM = "team"
    PENDING = "pending"
    ABSENT = "absent"


class Standing(enum.StrEnum):
    """What a login's seat means against seats.yaml (see the module docstring)."""

    SEATED = "seated"
    MISSING = "missing"
    LEAVING = "leaving"
    UNMANAGED = "unmanaged"
    DEPARTING = "departing"


class TeamStanding(enum.StrEnum):
    """What GitHub's listing says about a declared team's grant (see the module docstring)."""

    SEATED = "seated"
    LEAVING = "leaving"
    MISSING = "missing"


def held(seat: LiveSeat | None) -> Held:
    """GitHub's side of a login: direct, through a team, pending cancellation, or absent."""
    if seat is None:
        return Held.ABSENT
    if seat.pending_cancellation_date is not None:
        return Held.PENDING
    return Held.TEAM if seat.assigning_team else Held.DIRECT


def active(seat: LiveSeat | None) -> bool:
    """True for a listed seat that is not pending cancellation (the user has, and keeps, access)."""
    return held(seat) in (Held.DIRECT, Held.TEAM)


def standing(seat: LiveSeat | None, declared_directly: bool, declared_teams: AbstractSet[str]) -> Standing:
    """The meaning of ``seat`` for a login declared directly or not, given the declared team keys."""
    state = held(seat)
    via_declared_team = seat is not None and seat.assigning_team in declared_teams
    declared = declared_directly or via_declared_team
    if state is Held.ABSENT:
        return Standing.MISSING if declared_directly else Standing.DEPARTING
    if state is Held.PENDING:
        return Standing.LEAVING if declared else Standing.DEPARTING
    return Standing.SEATED if declared else Standing.UNMANAGED


def is_double_grant(seat: LiveSeat | None, declared_directly: bool, declared_teams: AbstractSet[str]) -> bool:
    """A user declared directly whose active seat comes through a declared team."""
    return declared_directly and active(seat) and seat is not None and seat.assigning_team in declared_teams


def team_standings(team_keys: Iterable[str], seats: Iterable[LiveSeat]) -> Mapping[str, TeamStanding]:
    """Standing of each declared team key, from the seats GitHub lists through it."""
    active_teams: set[str] = set()
    pending_teams: set[str] = set()
    for seat in seats:
        if seat.assigning_team:
            (active_teams if active(seat) else pending_teams).add(seat.assigning_team)
    out: dict[str, TeamStanding] = {}
    for key in team_keys:
        if key in active_teams:
            out[key] = TeamStanding.SEATED
        elif key in pending_teams:
            out[key] = TeamStanding.LEAVING
        else:
            out[key] = TeamStanding.MISSING
    return out
