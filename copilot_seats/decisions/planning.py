"""What a Pulumi run will write, decided as pure functions (no I/O, no clock, no pulumi).

The program turns seats.yaml plus one live listing into resource inputs; the providers only
execute. The decisions that must agree between the program, the providers and the tests:

* **repairs** — a declared seat that GitHub does not show as held is (re-)granted by a plain
  ``pulumi up``: :func:`seat_repair`, :func:`team_repair`;
* **revocations** — which live seats a run cancels: entries removed from seats.yaml since the
  last applied run, and in ``authoritative`` mode every seat held outside seats.yaml
  (:func:`plan_revocations`, :func:`authoritative_revocations`, :func:`destroy_revocations`);
* **the guard** — refuse a run that would revoke more than
  ``max(maxRemovalCount, ceil(maxRemovalFraction x applied declared count))`` seats, or that
  changes the managed organization, unless the operator allowed it (:func:`guard_verdict`), or
  seats.yaml's ``settings.removal_approval`` approves exactly the seats this run revokes
  (reviewed in the pull request; never for a destroy).

Every count here is of *seats*: a team's revocation counts every active seat GitHub lists
through it at the time of the revoking run, except those of users that seats.yaml declares
directly (they are granted directly before any team is revoked, so they keep their seat).
A login declared in seats.yaml is never in a revocation plan (tested as a property).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from copilot_seats.decisions.run_settings import RunSettings
from copilot_seats.decisions.seat_state import Held, active, held
from copilot_seats.desired.spec import MAX_APPROVAL_DAYS
from copilot_seats.github.live import LiveSeat, LiveSnapshot

__all__ = [
    "Approval",
    "GuardVerdict",
    "LiveView",
    "Repair",
    "RevocationPlan",
    "Roster",
    "approve",
    "authoritative_revocations",
    "destroy_revocations",
    "guard_verdict",
    "live_view",
    "plan_revocations",
    "removal_limit",
    "seat_repair",
    "team_repair",
]


# --- repairs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Repair:
    """A planned (re-)grant and its reason, as shown in the preview (``repair`` property).

    :param kind: ``grant`` (GitHub lists no seat), ``re-grant`` (pending cancellation) or
        ``grant-direct`` (the seat comes only through a team seats.yaml does not declare, which
        may be revoked; granted once, then remembered in state as ``granted_directly``).
    """

    kind: str
    reason: str


def seat_repair(seat: LiveSeat | None, declared_teams: Iterable[str]) -> Repair | None:
    """The grant a declared user needs this run, or None when GitHub shows the seat as held."""
    state = held(seat)
    if state is Held.ABSENT:
        return Repair("grant", "grant: GitHub lists no seat")
    assert seat is not None
    if state is Held.PENDING:
        return Repair("re-grant", f"re-grant: the seat is pending cancellation (access ends "
                                  f"{seat.pending_cancellation_date})")
    if state is Held.TEAM and seat.assigning_team not in set(declared_teams):
        return Repair("grant-direct", f"grant directly: the seat comes only through team "
                                      f"{seat.assigning_team}, which seats.yaml does not declare")
    return None


def team_repair(team: str, seats: Iterable[LiveSeat]) -> Repair | None:
    """Re-grant a declared team whose seats are all pending cancellation (its grant was revoked).

    A team through which GitHub lists no seat at all is granted when its resource is created;
    afterwards nothing tells "grant removed long ago" from "team has no members", so plain
    ``up`` does not repeat the grant (``pulumi up --refresh`` does).
    """
    through = [s for s in seats if s.assigning_team == team]
    if through and not any(active(s) for s in through):
        return Repair("re-grant", f"re-grant: every seat through team {team} is pending cancellation")
    return None


# --- what the guard sees ------------------------------------------------------------------------

@dataclass(frozen=True)
class Roster:
    """The seats a stack manages: declared user and team keys, and the declared seat count.

    Recorded in state by every applied run (the Seats resource's inputs and outputs): the
    guard's "previous" is the last *applied* roster, which a preview never changes.
    """

    organization: str
    users: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    declared_count: int = 0


@dataclass(frozen=True)
class LiveView:
    """The part of one listing the guard needs (small enough to be a resource input).

    :param unmanaged_direct: keys of active, direct seats of logins not in the roster's users
        (declared ones are never revoked).
    :param team_seats: team key -> active seats through it held by users *not* declared
        directly (what revoking the team would cancel).
    """

    unmanaged_direct: frozenset[str] = frozenset()
    team_seats: Mapping[str, int] = field(default_factory=dict)

    def to_props(self) -> dict[str, Any]:
        return {"unmanaged_direct": sorted(self.unmanaged_direct), "team_seats": dict(sorted(self.team_seats.items()))}

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> LiveView:
        seats = props.get("team_seats") or {}
        return cls(frozenset(str(k) for k in props.get("unmanaged_direct") or []),
                   {str(k): int(v) for k, v in seats.items()})


def live_view(snapshot: LiveSnapshot, declared_users: frozenset[str]) -> LiveView:
    """Summarize ``snapshot`` for the guard, given the declared user keys."""
    direct: set[str] = set()
    teams: dict[str, int] = {}
    for key, seat in snapshot.seats.items():
        if not active(seat) or key in declared_users:
            continue
        if seat.assigning_team:
            teams[seat.assigning_team] = teams.get(seat.assigning_team, 0) + 1
        else:
            direct.add(key)
    return LiveView(frozenset(direct), teams)


@dataclass(frozen=True)
class RevocationPlan:
    """Seats a run cancels: direct seats by key, team grants with the seats they carry."""

    users: frozenset[str] = frozenset()
    teams: Mapping[str, int] = field(default_factory=dict)

    @property
    def seat_count(self) -> int:
        return len(self.users) + sum(self.teams.values())

    def to_props(self) -> dict[str, Any]:
        return {"users": sorted(self.users), "teams": dict(sorted(self.teams.items())), "seats": self.seat_count}


def authoritative_revocations(current: Roster, view: LiveView) -> RevocationPlan:
    """Authoritative mode: every active seat outside the roster (direct, or via an undeclared team)."""
    return RevocationPlan(
        users=frozenset(k for k in view.unmanaged_direct if k not in current.users),
        teams={t: n for t, n in view.team_seats.items() if t not in current.teams and n > 0},
    )


def plan_revocations(previous: Roster | None, current: Roster, view: LiveView, authoritative: bool) -> RevocationPlan:
    """Everything this run revokes: removed entries (still holding a seat) plus, when
    ``authoritative``, every seat outside seats.yaml. Declared users never appear."""
    users: set[str] = set()
    teams: dict[str, int] = {}
    if previous is not None:
        users |= {k for k in previous.users - current.users if k in view.unmanaged_direct}
        teams |= {t: view.team_seats.get(t, 0) for t in previous.teams - current.teams}
    if authoritative:
        extra = authoritative_revocations(current, view)
        users |= extra.users
        teams |= extra.teams
    return RevocationPlan(frozenset(users - current.users), teams)


def destroy_revocations(roster: Roster, snapshot: LiveSnapshot) -> RevocationPlan:
    """What ``pulumi destroy`` of a stack managing ``roster`` would cancel right now."""
    users = frozenset(k for k in roster.users
                      if active(snapshot.seats.get(k)) and
                      (snapshot.seats[k].assigning_team is None or snapshot.seats[k].assigning_team in roster.teams))
    teams: dict[str, int] = {}
    for key, seat in snapshot.seats.items():
        if active(seat) and seat.assigning_team in roster.teams and key not in roster.users:
            teams[str(seat.assigning_team)] = teams.get(str(seat.assigning_team), 0) + 1
    return RevocationPlan(users, teams)


# --- the guard ----------------------------------------------------------------------------------

def removal_limit(declared_count: int, max_count: int, max_fraction: float) -> int:
    """The most seats one run may revoke: the larger of a count and a fraction of the declared."""
    return max(max_count, math.ceil(max_fraction * declared_count))


@dataclass(frozen=True)
class GuardVerdict:
    """The guard's answer. ``ok`` False means: fail before any revocation."""

    ok: bool
    revoking: int
    limit: int
    message: str


def _seats(n: int) -> str:
    return f"{n} Copilot seat{'s' if n != 1 else ''}"


def guard_verdict(plan: RevocationPlan, previous: Roster | None, current: Roster,
                  settings: RunSettings, action: str = "run") -> GuardVerdict:
    """Judge ``plan`` against the limit computed from the last applied roster only.

    Adding entries in the same change never raises the limit; a new stack (no previous
    roster) gets the absolute count only. A change of the managed organization (other than
    its letter case) is refused unless ``allow_organization_change``.
    """
    base = previous.declared_count if previous is not None else 0
    limit = removal_limit(base, settings.max_removal_count, settings.max_removal_fraction)
    revoking = plan.seat_count
    if (previous is not None and previous.organization.casefold() != current.organization.casefold()
            and not settings.allow_organization_change):
        return GuardVerdict(False, revoking, limit, (
            f"refusing to change the managed organization from {previous.organization!r} to "
            f"{current.organization!r}: this stack's seats live in {previous.organization!r}. If the "
            "organization was renamed or you mean to move this stack, allow it for this run with "
            "COPILOT_SEATS_ALLOW_ORGANIZATION_CHANGE=1 (or `pulumi config set "
            "copilot-seats:allowOrganizationChange true`); seats in the old organization are left "
            "as they are."))
    if revoking <= limit or settings.allow_mass_removal:
        return GuardVerdict(True, revoking, limit, f"revoking {_seats(revoking)} (limit {limit})")
    approved = settings.approved_removal
    if approved and revoking == approved and action == "run":
        return GuardVerdict(True, revoking, approved,
                            f"revoking {_seats(revoking)}, approved by seats.yaml's settings.removal_approval "
                            f"(the guard's limit is {limit})")
    parts = []
    if plan.users:
        sample = ", ".join(sorted(plan.users)[:10])
        more = f" and {len(plan.users) - 10} more" if len(plan.users) > 10 else ""
        parts.append(f"{len(plan.users)} direct: {sample}{more}")
    for team, n in sorted(plan.teams.items()):
        parts.append(f"team {team}: {_seats(n)}")
    return GuardVerdict(False, revoking, limit, (
        f"refusing to revoke {_seats(revoking)} in one {action} (limit {limit}: the larger of "
        f"maxRemovalCount {settings.max_removal_count} and maxRemovalFraction "
        f"{settings.max_removal_fraction:g} of the {base} seats declared at the last applied run)"
        + (f"; {'; '.join(parts)}" if parts else "")
        + (f". seats.yaml's settings.removal_approval approves exactly {_seats(approved)}, not {revoking}: "
           "it does not apply" if approved and action == "run" else "")
        + (". If this is intended, approve exactly this removal in the pull request: in seats.yaml, "
           f"settings.removal_approval with seats: {revoking}, expires (at most {MAX_APPROVAL_DAYS} days "
           "ahead) and reason (docs/gitops.md, \"Approving a large removal\"); or allow it for one run "
           if action == "run" else ". If this is intended, allow it for this run: ")
        + "set COPILOT_SEATS_ALLOW_MASS_REMOVAL=1 (or `pulumi config set copilot-seats:allowMassRemoval true`); "
        "to stop managing seats without revoking them, set copilot-seats:onDelete to forget."))


# --- deny by default ----------------------------------------------------------------------------

class NotApproved(Exception):
    """A revocation no guard verdict of this operation approved (a bug, or a path nobody planned)."""


@dataclass(frozen=True)
class Approval:
    """The revocations one guard verdict allowed: the only names a provider may revoke.

    The provider's session refuses any revocation outside it, so a path that reaches a write
    without passing the guard (a flag, a state edit, a new code path) fails closed.
    """

    organization: str
    users: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()

    def unapproved(self, organization: str, users: Iterable[str] = (), teams: Iterable[str] = ()) -> list[str]:
        """The names of ``users``/``teams`` this approval does not cover (``[]``: all covered)."""
        if organization.casefold() != self.organization.casefold():
            return [*users, *teams]
        return ([u for u in users if u.casefold() not in self.users] +
                [f"team {t}" for t in teams if t.casefold() not in self.teams])

    def extend(self, plan: RevocationPlan) -> Approval:
        return Approval(self.organization, self.users | {u.casefold() for u in plan.users},
                        self.teams | {t.casefold() for t in plan.teams})


def approve(verdict: GuardVerdict, plan: RevocationPlan, organization: str) -> Approval:
    """The :class:`Approval` of ``plan`` when ``verdict`` allows it; :class:`NotApproved` otherwise."""
    if not verdict.ok:
        raise NotApproved(verdict.message)
    return Approval(organization).extend(plan)
