"""The simulator's data: organizations, members, teams and seats, plus GitHub's JSON shapes.

Mutable on purpose (the simulator changes it); guarded by :class:`~copilot_seats.simulator.state.SimState`'s
lock. Keys are casefolded logins/slugs, as GitHub treats them case-insensitively.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = ["API_ROOT", "SimOrg", "SimSeat", "SimTeam", "iso", "org_payload", "seat_payload", "user_payload"]

API_ROOT = "https://api.github.com"
"""Used in the ``url`` fields of payloads (GitHub's shapes; the simulator never resolves them)."""


def iso(moment: datetime | None) -> str | None:
    """``2025-06-10T14:02:11Z``, or None."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def stable_id(name: str, base: int = 1000) -> int:
    """A deterministic positive id for a login or slug (CRC32), so payloads don't change between runs."""
    return base + zlib.crc32(name.casefold().encode())


@dataclass
class SimSeat:
    """One user's seat. ``direct`` and ``teams`` are the live grants; a seat without grants is
    listed only while ``pending_cancellation_date`` is set (until the billing cycle ends).

    :param teams: casefolded slugs of the teams granting the seat, in grant order.
    :param last_team: the team shown as ``assigning_team`` once team grants are gone.
    """

    login: str
    created_at: datetime
    updated_at: datetime
    direct: bool = False
    teams: list[str] = field(default_factory=list)
    last_team: str | None = None
    pending_cancellation_date: date | None = None
    last_activity_at: datetime | None = None
    last_activity_editor: str | None = None
    last_authenticated_at: datetime | None = None

    @property
    def assigning_team(self) -> str | None:
        """The team GitHub shows: the first granting team, else the last one (pending seats)."""
        if self.teams:
            return self.teams[0]
        return None if self.direct else self.last_team


@dataclass
class SimTeam:
    """A team: slug (as written), display name and member keys."""

    slug: str
    name: str
    members: list[str] = field(default_factory=list)
    description: str | None = None


@dataclass
class SimOrg:
    """One organization and its Copilot subscription.

    :param members: member key -> login as written.
    :param seats: seat holder key -> seat, in listing order.
    :param unassigned: ``created_at`` of each seat listed with ``assignee: null``.
    """

    login: str
    id: int
    seat_management_setting: str = "assign_selected"
    plan_type: str = "business"
    public_code_suggestions: str = "block"
    ide_chat: str = "enabled"
    platform_chat: str = "enabled"
    cli: str = "enabled"
    members: dict[str, str] = field(default_factory=dict)
    teams: dict[str, SimTeam] = field(default_factory=dict)
    seats: dict[str, SimSeat] = field(default_factory=dict)
    unassigned: list[datetime] = field(default_factory=list)


def user_payload(login: str) -> dict[str, Any]:
    """GitHub's "Simple User" for ``login``."""
    user = f"{API_ROOT}/users/{login}"
    uid = stable_id(login)
    return {
        "login": login, "id": uid, "node_id": f"U_sim{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4", "gravatar_id": "",
        "url": user, "html_url": f"https://github.com/{login}",
        "followers_url": f"{user}/followers", "following_url": f"{user}/following{{/other_user}}",
        "gists_url": f"{user}/gists{{/gist_id}}", "starred_url": f"{user}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{user}/subscriptions", "organizations_url": f"{user}/orgs",
        "repos_url": f"{user}/repos", "events_url": f"{user}/events{{/privacy}}",
        "received_events_url": f"{user}/received_events", "type": "User", "site_admin": False,
    }


def org_payload(org: SimOrg) -> dict[str, Any]:
    """GitHub's "Organization Simple" for ``org``."""
    base = f"{API_ROOT}/orgs/{org.login}"
    return {
        "login": org.login, "id": org.id, "node_id": f"O_sim{org.id}", "url": base,
        "repos_url": f"{base}/repos", "events_url": f"{base}/events", "hooks_url": f"{base}/hooks",
        "issues_url": f"{base}/issues", "members_url": f"{base}/members{{/member}}",
        "public_members_url": f"{base}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{org.id}?v=4", "description": None,
    }


def organization_payload(org: SimOrg) -> dict[str, Any]:
    """GitHub's "Organization Full" (``GET /orgs/{org}``) for ``org``: what clients such as
    PyGithub's ``get_organization`` read before they call the Copilot endpoints."""
    return {
        **org_payload(org), "name": org.login, "company": None, "blog": "", "location": None,
        "email": None, "twitter_username": None, "is_verified": False, "has_organization_projects": True,
        "has_repository_projects": True, "public_repos": 0, "public_gists": 0, "followers": 0,
        "following": 0, "html_url": f"https://github.com/{org.login}", "type": "Organization",
        "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
        "archived_at": None, "total_private_repos": 0, "owned_private_repos": 0,
        "members_can_create_repositories": True, "two_factor_requirement_enabled": True,
        "plan": {"name": "enterprise" if org.plan_type == "enterprise" else "team", "space": 976562499,
                 "private_repos": 9999, "filled_seats": len(org.members), "seats": len(org.members)},
    }


def team_payload(org: SimOrg, team: SimTeam) -> dict[str, Any]:
    """GitHub's "Team" (organization-owned) for ``team``."""
    tid = stable_id(f"{org.login}/{team.slug}")
    return {
        "id": tid, "node_id": f"T_sim{tid}", "url": f"{API_ROOT}/teams/{tid}",
        "html_url": f"https://github.com/orgs/{org.login}/teams/{team.slug}",
        "name": team.name, "slug": team.slug, "description": team.description, "privacy": "closed",
        "notification_setting": "notifications_enabled", "permission": "pull",
        "members_url": f"{API_ROOT}/teams/{tid}/members{{/member}}",
        "repositories_url": f"{API_ROOT}/teams/{tid}/repos", "parent": None, "type": "organization",
        "organization_id": org.id,
    }


def seat_payload(org: SimOrg, seat: SimSeat | None, *, created_at: datetime | None = None,
                 with_org: bool = False) -> dict[str, Any]:
    """GitHub's "Copilot Business Seat Detail"; ``seat=None`` gives an ``assignee: null`` seat.

    ``assigning_team`` is omitted for direct seats (as GitHub's own example does);
    ``organization`` is only filled in enterprise listings (``with_org``).
    """
    if seat is None:
        return {"created_at": iso(created_at), "updated_at": iso(created_at),
                "pending_cancellation_date": None,
                "last_activity_at": None, "last_activity_editor": None, "last_authenticated_at": None,
                "plan_type": org.plan_type, "assignee": None,
                "organization": org_payload(org) if with_org else None}
    pending = seat.pending_cancellation_date
    payload: dict[str, Any] = {
        "created_at": iso(seat.created_at),
        "updated_at": iso(seat.updated_at),
        "pending_cancellation_date": pending.isoformat() if pending else None,
        "last_activity_at": iso(seat.last_activity_at),
        "last_activity_editor": seat.last_activity_editor,
        "last_authenticated_at": iso(seat.last_authenticated_at),
        "plan_type": org.plan_type,
        "assignee": user_payload(seat.login),
        "organization": org_payload(org) if with_org else None,
    }
    team_key = seat.assigning_team
    if team_key is not None and team_key in org.teams:
        payload["assigning_team"] = team_payload(org, org.teams[team_key])
    return payload
