"""seats.yaml + one live listing -> the arguments of every Pulumi resource (pure).

The Pulumi program (:mod:`copilot_seats.program`) is a shell around :func:`build_stack`: it
loads the spec, fetches one snapshot, calls this, and declares what it returns. Keeping the
translation pure means it is tested without an engine and the program cannot drift from the
CLI's report (both use :func:`copilot_seats.analysis.compare`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from copilot_seats import defaults
from copilot_seats.analysis import compare, estimated_monthly_cost
from copilot_seats.live import LiveSnapshot
from copilot_seats.planning import authoritative_revocations
from copilot_seats.provider_ops import observed_fields
from copilot_seats.spec import Grant, Mode, SeatSpec

__all__ = ["RunOptions", "StackModel", "build_stack"]


@dataclass(frozen=True)
class RunOptions:
    """Per-run settings from stack config / environment (none of them secret).

    :param stack: stack name; lets the provider process read ``github:token`` itself.
    :param api_url: configured ``github:baseUrl`` (``GITHUB_API_URL`` still wins at run time).
    :param allow_mass_removal: the operator allowed this run to exceed the removal guard.
    """

    stack: str = ""
    api_url: str | None = None
    stale_days: int = defaults.STALE_AFTER_DAYS
    grace_days: int = defaults.GRACE_DAYS
    max_removal_count: int = defaults.MAX_REMOVAL_COUNT
    max_removal_fraction: float = defaults.MAX_REMOVAL_FRACTION
    allow_mass_removal: bool = False


@dataclass(frozen=True)
class StackModel:
    """Everything the program declares: resource name -> input properties, plus outputs."""

    organization: dict[str, Any]
    seats: dict[str, dict[str, Any]] = field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    revocations: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


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


def build_stack(spec: SeatSpec, snapshot: LiveSnapshot, now: datetime, options: RunOptions) -> StackModel:
    """Translate the spec and the live snapshot into resource inputs and stack outputs."""
    org = spec.organization
    common = {"organization": org, "stack": options.stack, "api_url": options.api_url}
    declared_teams = spec.team_keys
    cmp = compare(spec, snapshot, now, options.stale_days, options.grace_days)

    seats = {}
    for user in spec.users:
        seat = snapshot.seats.get(user.key)
        seats[user.login] = {
            **common, "login": user.login, **_metadata(user), **observed_fields(seat),
            "via_declared_team": bool(seat and seat.assigning_team in declared_teams),
        }

    active = [s for s in snapshot.seats.values() if s.pending_cancellation_date is None]
    team_seats = Counter(s.assigning_team for s in active if s.assigning_team)
    members: dict[str, list[dict[str, Any]]] = {}
    for live in active:
        if live.assigning_team in declared_teams:
            members.setdefault(live.assigning_team, []).append({"login": live.login, **observed_fields(live)})
    teams = {
        team.slug: {**common, "team": team.slug, **_metadata(team), "live_seats": team_seats.get(team.key, 0),
                    "members": sorted(members.get(team.key, []), key=lambda m: str(m["login"]).casefold())}
        for team in spec.teams
    }

    revocations: dict[str, dict[str, Any]] = {}
    extra = 0
    if spec.settings.mode is Mode.AUTHORITATIVE:
        direct = [s.key for s in active if s.assigning_team is None]
        rev = authoritative_revocations(spec.user_keys, declared_teams, direct, team_seats)
        for key in rev.users:
            revocations[snapshot.seats[key].login] = {**common, "kind": "user", "target": snapshot.seats[key].login}
        for slug, count in (rev.teams or {}).items():
            revocations[f"team:{slug}"] = {**common, "kind": "team", "target": slug, "seats": count}
        extra = rev.seat_count

    cost = estimated_monthly_cost(snapshot, spec.settings)
    organization = {
        **common,
        "mode": spec.settings.mode.value,
        "plan": spec.settings.plan.value,
        "seat_management_setting": snapshot.billing.seat_management_setting,
        "plan_type": snapshot.billing.plan_type,
        "seat_breakdown": {k: v for k, v in vars(snapshot.billing.seat_breakdown).items()},
        "declared_users": sorted(spec.user_keys),
        "declared_team_seats": {t.key: team_seats.get(t.key, 0) for t in spec.teams},
        "unmanaged": [{"login": login, "assigning_team": snapshot.seats[login.casefold()].assigning_team}
                      for login in cmp.unmanaged],
        "missing": list(cmp.missing),
        "missing_teams": list(cmp.missing_teams),
        "pending_cancellation": list(cmp.pending_cancellation),
        "unassigned_seats": snapshot.unassigned_count,
        "live_seats": snapshot.listed_count,
        "declared_seats": len(spec.users),
        "declared_count": cmp.declared_count,
        "estimated_monthly_cost": str(cost),
        "authoritative_revocations": extra,
        "max_removal_count": options.max_removal_count,
        "max_removal_fraction": options.max_removal_fraction,
        "allow_mass_removal": options.allow_mass_removal,
    }
    outputs = {
        "declaredSeats": len(spec.users),
        "declaredTeams": len(spec.teams),
        "liveSeats": snapshot.listed_count,
        "estimatedMonthlyCost": float(cost),
        "unmanagedSeats": len(cmp.unmanaged),
        "missingSeats": len(cmp.missing),
        "pendingCancellationSeats": len(cmp.pending_cancellation),
        "staleSeats": len(cmp.stale),
    }
    return StackModel(organization, seats, teams, revocations, outputs)
