"""seats.yaml + one live listing -> the arguments of every Pulumi resource (pure).

The Pulumi program (:mod:`copilot_seats.stack.program`) is a shell around :func:`build_stack`: it
loads the spec, fetches one snapshot, calls this, and declares what it returns. Keeping the
translation pure means it is tested without an engine and the program cannot drift from the
CLI's report: seat state comes from :mod:`copilot_seats.decisions.seat_state` (via
:func:`copilot_seats.decisions.analysis.compare`), repairs and revocations from :mod:`copilot_seats.decisions.planning`.

Resource names are the casefolded login / team slug (GitHub treats both case-insensitively),
so a case-only edit of seats.yaml is not a new resource; ``aliases`` carry the spellings that
earlier versions used as names so existing stacks upgrade in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from copilot_seats.decisions.analysis import compare, estimated_monthly_cost
from copilot_seats.decisions.planning import Roster, authoritative_revocations, live_view, seat_repair, team_repair
from copilot_seats.decisions.run_settings import RunSettings
from copilot_seats.decisions.seat_state import Standing, active, team_standings
from copilot_seats.desired.spec import Grant, Mode, SeatSpec
from copilot_seats.github.live import LiveSnapshot
from copilot_seats.provider.contract import observed_fields

__all__ = ["ORGANIZATION_NAME", "ROSTER_NAME", "Declared", "RunOptions", "StackModel", "build_stack",
           "observed_fields"]


ORGANIZATION_NAME = "organization"
"""Resource name of the Organization record: fixed, so renaming or switching the org (or
changing its case) keeps the guard's memory of the last applied roster."""
ROSTER_NAME = "roster"
"""Resource name of the Roster record (registered last; see :mod:`copilot_seats.provider.records`)."""


@dataclass(frozen=True)
class RunOptions:
    """Per-run context from the program (none of it secret).

    :param stack: stack name; lets the provider process read the stack's config itself.
    :param api_url: configured ``github:baseUrl`` (``GITHUB_API_URL`` still wins at run time).
    :param settings: validated stack settings (thresholds, guard allowances, onDelete).
    :param run_id: unique per program run; lets outputs tell this run's Roster update from an
        earlier one.
    """

    stack: str = ""
    api_url: str | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    run_id: str = ""


@dataclass(frozen=True)
class Declared:
    """One resource to declare: its name, inputs, and former names (aliases)."""

    name: str
    props: dict[str, Any]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackModel:
    """Everything the program declares, in registration order, plus the outputs it knows."""

    organization: Declared
    seats: tuple[Declared, ...] = ()
    teams: tuple[Declared, ...] = ()
    roster: Declared | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    unmanaged_count: int = 0


_ALWAYS = ("grant", "re-grant")
"""Repair kinds that grant whatever the stack recorded (see provider.seats.needs_grant)."""


def _metadata(grant: Grant) -> dict[str, Any]:
    exemption = grant.stale_exemption
    return {
        "owner": grant.owner,
        "reason": grant.reason,
        "expires": grant.expires.isoformat() if grant.expires else None,
        "cost_center": grant.cost_center,
        "stale_exemption_reason": exemption.reason if exemption else None,
        "stale_exemption_until": exemption.until.isoformat() if exemption else None,
    }


def _aliases(key: str, *spellings: str | None) -> tuple[str, ...]:
    return tuple(sorted({s for s in spellings if s and s != key}))


def build_stack(spec: SeatSpec, snapshot: LiveSnapshot, now: datetime, options: RunOptions) -> StackModel:
    """Translate the spec and the live snapshot into resource inputs and stack outputs."""
    settings = options.settings
    # seats and teams carry only their org: the provider knows the stack and the API root from its
    # own inputs (fewer properties per seat: registration and checkpoints stay lean at 10,000)
    common = {"organization": spec.organization, "stack": options.stack, "api_url": options.api_url}
    where = {"organization": spec.organization}
    declared_teams = spec.team_keys
    cmp = compare(spec, snapshot, now, settings.stale_days, settings.grace_days)
    standings = {row.key: row.standing for row in cmp.rows}

    seats = []
    for user in spec.users:
        seat = snapshot.seats.get(user.key)
        repair = seat_repair(seat, declared_teams)
        seats.append(Declared(user.key, {
            **where, "login": user.login, **_metadata(user), **observed_fields(seat),
            "standing": standings[user.key].value,
            "via_declared_team": bool(seat and active(seat) and seat.assigning_team in declared_teams),
            "repair": repair.reason if repair else None,
            "repair_kind": repair.kind if repair else None,
        }, _aliases(user.key, user.login, seat.login if seat else None)))

    by_team = team_standings(declared_teams, snapshot.seats.values())
    members: dict[str, list[dict[str, Any]]] = {}
    live_seats: dict[str, int] = {}
    for live in snapshot.seats.values():
        if active(live) and live.assigning_team in declared_teams:
            members.setdefault(live.assigning_team, []).append({"login": live.login, **observed_fields(live)})
            live_seats[live.assigning_team] = live_seats.get(live.assigning_team, 0) + 1
    teams = []
    for team in spec.teams:
        repair = team_repair(team.key, snapshot.seats.values())
        teams.append(Declared(team.key, {
            **where, "team": team.slug, **_metadata(team), "live_seats": live_seats.get(team.key, 0),
            "standing": by_team[team.key].value,
            "members": sorted(members.get(team.key, []), key=lambda m: str(m["login"]).casefold()),
            "repair": repair.reason if repair else None,
            "repair_kind": repair.kind if repair else None,
        }, _aliases(team.key, team.slug)))

    view = live_view(snapshot, spec.user_keys)
    roster = Roster(spec.organization, spec.user_keys, declared_teams, cmp.declared_count)
    authoritative = spec.settings.mode is Mode.AUTHORITATIVE
    planned = authoritative_revocations(roster, view) if authoritative else None
    guard = {
        "roster_users": sorted(roster.users), "roster_teams": sorted(roster.teams),
        "declared_count": roster.declared_count, "mode": spec.settings.mode.value,
        **view.to_props(),
        "max_removal_count": settings.max_removal_count,
        "max_removal_fraction": settings.max_removal_fraction,
        "allow_mass_removal": settings.allow_mass_removal,
        "allow_organization_change": settings.allow_organization_change,
        "on_delete": settings.on_delete.value,
    }
    cost = estimated_monthly_cost(snapshot, spec.settings)
    organization = {
        **common, **guard,
        "plan": spec.settings.plan.value,
        "seat_management_setting": snapshot.billing.seat_management_setting,
        "plan_type": snapshot.billing.plan_type,
        "seat_breakdown": dict(vars(snapshot.billing.seat_breakdown)),
        "declared_team_seats": {t.key: live_seats.get(t.key, 0) for t in spec.teams},
        "unmanaged": [{"login": login, "assigning_team": snapshot.seats[login.casefold()].assigning_team}
                      for login in cmp.unmanaged],
        "missing": list(cmp.missing),
        "leaving": list(cmp.leaving),
        "missing_teams": list(cmp.missing_teams),
        "leaving_teams": list(cmp.leaving_teams),
        "pending_cancellation": list(cmp.pending_cancellation),
        "unassigned_seats": snapshot.unassigned_count,
        "live_seats": snapshot.listed_count,
        "declared_seats": len(spec.users),
        "estimated_monthly_cost": str(cost),
        "authoritative_revocations": planned.seat_count if planned else 0,
        # the repairs that always grant (absent or pending seats, teams without seats): the
        # provider sends them in one batch (docs/provider.md); grant-direct stays per seat
        "grants": {"users": sorted(d.props["login"] for d in seats if d.props["repair_kind"] in _ALWAYS),
                   "teams": sorted(d.props["team"] for d in teams if d.props["repair_kind"] in _ALWAYS)},
        "revoking": None,  # filled in by the provider's check, which knows the last applied roster
    }
    roster_props = {**common, **guard, "revoke": planned.to_props() if planned else None,
                    "run_id": options.run_id, "revoking": None}
    grants = sum(1 for d in seats if d.props["repair"]) + sum(1 for d in teams if d.props["repair"])
    outputs = {
        "declaredSeats": len(spec.users),
        "declaredTeams": len(spec.teams),
        "liveSeats": snapshot.listed_count,
        "estimatedMonthlyCost": float(cost),
        "missingSeats": len(cmp.missing),
        "leavingSeats": len(cmp.leaving),
        "pendingCancellationSeats": len(cmp.pending_cancellation),
        "staleSeats": len(cmp.stale),
        "grantsPlanned": grants,
    }
    unmanaged = sum(1 for s in standings.values() if s is Standing.UNMANAGED)
    return StackModel(Declared(ORGANIZATION_NAME, organization,
                               _aliases(ORGANIZATION_NAME, spec.organization, spec.organization.casefold())),
                      tuple(seats), tuple(teams), Declared(ROSTER_NAME, roster_props), outputs, unmanaged)
