"""seats.yaml + one live listing -> the inputs of the one Seats resource (pure).

The Pulumi program (:mod:`copilot_seats.stack.program`) is a shell around :func:`build_stack`: it
loads the spec, fetches one snapshot, calls this, and declares what it returns. Keeping the
translation pure means it is tested without an engine and the program cannot drift from the
CLI's report: seat state comes from :mod:`copilot_seats.decisions.seat_state` (via
:func:`copilot_seats.decisions.analysis.compare`), repairs from :mod:`copilot_seats.decisions.planning`.

Entries are keyed by casefolded login / team slug (GitHub treats both case-insensitively), so a
case-only edit of seats.yaml is a spelling change of one entry, never a new seat.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from copilot_seats.decisions.analysis import compare, estimated_monthly_cost
from copilot_seats.decisions.planning import live_view, seat_repair, team_repair
from copilot_seats.decisions.run_settings import RunSettings
from copilot_seats.decisions.seat_state import Standing, active, team_standings
from copilot_seats.desired.spec import Grant, SeatSpec
from copilot_seats.github.live import LiveSnapshot
from copilot_seats.provider.contract import (
    Guard,
    OrgObservation,
    SeatsInputs,
    TeamEntry,
    TeamObservation,
    UserEntry,
    observe_seat,
)

__all__ = ["RunOptions", "StackModel", "build_stack", "org_observation", "team_entry", "user_entry", "with_approval"]


@dataclass(frozen=True)
class RunOptions:
    """Per-run context from the program (none of it secret).

    :param api_url: configured ``github:baseUrl`` (``GITHUB_API_URL`` still wins at run time).
    :param settings: validated stack settings (thresholds, guard allowances, onDelete).
    :param run_id: unique per program run; lets outputs tell this run's update from an earlier one.
    """

    api_url: str | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    run_id: str = ""


@dataclass(frozen=True)
class StackModel:
    """What the program declares: the Seats resource's inputs, and the outputs it knows."""

    seats: SeatsInputs
    outputs: dict[str, Any] = field(default_factory=dict)
    unmanaged_count: int = 0


def _metadata(grant: Grant) -> dict[str, str | None]:
    exemption = grant.stale_exemption
    return {"owner": grant.owner, "reason": grant.reason,
            "expires": grant.expires.isoformat() if grant.expires else None, "cost_center": grant.cost_center,
            "stale_exemption_reason": exemption.reason if exemption else None,
            "stale_exemption_until": exemption.until.isoformat() if exemption else None}


def user_entry(grant: Any) -> UserEntry:
    """seats.yaml's user entry as the resource records it."""
    return UserEntry(login=grant.login, **_metadata(grant))


def team_entry(grant: Any) -> TeamEntry:
    """seats.yaml's team entry as the resource records it."""
    return TeamEntry(team=grant.slug, **_metadata(grant))


def with_approval(settings: RunSettings, spec: SeatSpec, now: datetime) -> RunSettings:
    """``settings`` with the guard's ``approved_removal`` from seats.yaml's ``removal_approval``
    (0 once it has expired: the loader warns, the guard ignores it)."""
    approval = spec.settings.removal_approval
    return replace(settings, approved_removal=approval.seats if approval and approval.in_force(now.date()) else 0)


def org_observation(spec: SeatSpec, snapshot: LiveSnapshot, now: datetime, settings: RunSettings) -> OrgObservation:
    """The org-level facts the pack's org rules judge."""
    cmp = compare(spec, snapshot, now, settings.stale_days, settings.grace_days)
    team_seats = {t.key: sum(1 for s in snapshot.seats.values() if active(s) and s.assigning_team == t.key)
                  for t in spec.teams}
    return OrgObservation(
        plan=spec.settings.plan.value,
        seat_management_setting=snapshot.billing.seat_management_setting,
        plan_type=snapshot.billing.plan_type,
        seat_breakdown=dict(vars(snapshot.billing.seat_breakdown)),
        unmanaged=tuple((login, snapshot.seats[login.casefold()].assigning_team) for login in cmp.unmanaged),
        missing=tuple(cmp.missing), leaving=tuple(cmp.leaving), missing_teams=tuple(cmp.missing_teams),
        leaving_teams=tuple(cmp.leaving_teams), pending_cancellation=tuple(cmp.pending_cancellation),
        unassigned_seats=snapshot.unassigned_count, live_seats=snapshot.listed_count,
        declared_seats=len(spec.users), declared_team_seats=team_seats,
        estimated_monthly_cost=str(estimated_monthly_cost(snapshot, spec.settings)),
    )


def build_stack(spec: SeatSpec, snapshot: LiveSnapshot, now: datetime, options: RunOptions) -> StackModel:
    """Translate the spec and the live snapshot into the Seats resource's inputs and stack outputs."""
    settings = with_approval(options.settings, spec, now)
    declared_teams = spec.team_keys
    cmp = compare(spec, snapshot, now, settings.stale_days, settings.grace_days)
    standings = {row.key: row.standing for row in cmp.rows}

    observed_users = {}
    grant_users = {}
    for user in spec.users:
        seat = snapshot.seats.get(user.key)
        via_team = bool(seat and active(seat) and seat.assigning_team in declared_teams)
        seen = observe_seat(seat, standings[user.key].value, via_team)
        if seen is not None:
            observed_users[user.key] = seen
        repair = seat_repair(seat, declared_teams)
        if repair is not None:
            grant_users[user.key] = repair

    by_team = team_standings(declared_teams, snapshot.seats.values())
    members: dict[str, dict[str, Any]] = {t: {} for t in declared_teams}
    for live in snapshot.seats.values():
        if active(live) and live.assigning_team in declared_teams:
            members[live.assigning_team][live.login] = observe_seat(live)
    observed_teams = {t.key: TeamObservation(by_team[t.key].value, members[t.key]) for t in spec.teams}
    grant_teams = {t.key: r for t in spec.teams if (r := team_repair(t.key, snapshot.seats.values())) is not None}

    org = org_observation(spec, snapshot, now, settings)
    seats = SeatsInputs(
        organization=spec.organization, mode=spec.settings.mode.value, guard=Guard.of(settings),
        declared_count=cmp.declared_count,
        users={u.key: user_entry(u) for u in spec.users}, teams={t.key: team_entry(t) for t in spec.teams},
        observed_users=observed_users, observed_teams=observed_teams,
        live=live_view(snapshot, spec.user_keys), org=org,
        grant_users=grant_users, grant_teams=grant_teams, run_id=options.run_id,
    )
    outputs = {
        "declaredSeats": len(spec.users),
        "declaredTeams": len(spec.teams),
        "liveSeats": snapshot.listed_count,
        "estimatedMonthlyCost": float(org.estimated_monthly_cost),
        "missingSeats": len(cmp.missing),
        "leavingSeats": len(cmp.leaving),
        "pendingCancellationSeats": len(cmp.pending_cancellation),
        "staleSeats": len(cmp.stale),
        "grantsPlanned": len(grant_users) + len(grant_teams),
    }
    unmanaged = sum(1 for s in standings.values() if s is Standing.UNMANAGED)
    return StackModel(seats, outputs, unmanaged)
