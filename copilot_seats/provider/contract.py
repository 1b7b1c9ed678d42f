"""The one contract between the program, the ``copilot`` provider and the policy pack.

One organization is **one resource**, ``copilot:index:Seats`` (name ``seats``): its inputs hold
every declared user and team keyed by casefolded login / slug, what the program observed of
them in its one listing, the org-level observations the pack judges, and the guard's settings.
The number of resources never grows with seats (at 10,000 seats a resource per seat cost the
Python SDK ~5 ms and ~100 KB each, and gave every seat its own door around the guard).

The inputs are typed here, once, with ``to_props``/``from_props`` (wire names, JSON values,
each default in one place, ``None`` and defaults left off the wire so 100,000 entries stay
small). Fields come in three kinds:

* **desired** (:class:`UserEntry`, :class:`TeamEntry`, the guard settings, the mode): what the
  resource *is*; the provider's ``diff`` compares them entry by entry;
* **observed** (:class:`SeatObservation`, :class:`TeamObservation`, :class:`OrgObservation`,
  :class:`~copilot_seats.decisions.planning.LiveView`): from the program's listing; the pack reads
  them, ``diff`` never does (activity dates moving are never a change);
* **planned** (``grants``, set by the program from the listing; ``revoking``, ``remembered`` and
  ``granted_directly``, set by the provider's ``check``, which alone sees the last applied
  record): what this run writes.

The provider's schema (``GetSchema``) is generated from :data:`SEATS`, so ``pulumi import`` and the
engine see the names the program sends and the pack reads.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final

from copilot_seats.decisions.planning import LiveView, Repair
from copilot_seats.decisions.run_settings import OnDelete, RunSettings

if TYPE_CHECKING:
    from copilot_seats.github.live import LiveSeat

__all__ = [
    "LEGACY_TOKENS",
    "PACKAGE",
    "PROVIDER_TYPE",
    "SEATS",
    "SEATS_NAME",
    "Guard",
    "OrgObservation",
    "Revoking",
    "SeatObservation",
    "SeatsInputs",
    "TeamEntry",
    "TeamObservation",
    "UserEntry",
    "WriteOp",
    "observations_from_props",
    "observations_to_props",
    "observe_seat",
    "schema",
]

PACKAGE: Final = "copilot"
"""The provider plugin's package name (executable ``pulumi-resource-copilot``)."""
PROVIDER_TYPE: Final = f"pulumi:providers:{PACKAGE}"
"""Type token of the provider resource itself."""
SEATS_NAME: Final = "seats"
"""Resource name of the one Seats resource: fixed, so renaming or switching the org (or changing
its case) keeps the guard's memory of the last applied record."""
LEGACY_TOKENS: Final = tuple(f"{PACKAGE}:index:{n}" for n in ("Seat", "TeamGrant", "Organization", "Roster"))
"""The per-seat types of copilot-seats 0.1 (:mod:`copilot_seats.provider.legacy` retires them)."""


class WriteOp(enum.StrEnum):
    """The four writes GitHub offers for org seats (``selected_users`` / ``selected_teams``)."""

    GRANT_USERS = "grant_users"
    GRANT_TEAMS = "grant_teams"
    REVOKE_USERS = "revoke_users"
    REVOKE_TEAMS = "revoke_teams"


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Leave off ``None``, ``False`` and empty values: absent reads as the default everywhere."""
    return {k: v for k, v in props.items() if v is not None and v is not False and v != "" and v != {} and v != []}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --- desired ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Metadata:
    owner: str | None = None
    reason: str | None = None
    expires: str | None = None
    cost_center: str | None = None
    stale_exemption_reason: str | None = None
    stale_exemption_until: str | None = None

    def metadata(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(_Metadata)}


METADATA_FIELDS: Final = tuple(f.name for f in fields(_Metadata))
"""The desired fields of an entry besides its name, in display order."""


@dataclass(frozen=True)
class UserEntry(_Metadata):
    """A declared user (seats.yaml ``users:``), keyed by casefolded login."""

    login: str = ""

    def to_props(self) -> dict[str, Any]:
        return _clean({"login": self.login, **self.metadata()})

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> UserEntry:
        return cls(login=str(props.get("login") or ""), **{k: _str(props.get(k)) for k in METADATA_FIELDS})


@dataclass(frozen=True)
class TeamEntry(_Metadata):
    """A declared team (seats.yaml ``teams:``), keyed by casefolded slug."""

    team: str = ""

    def to_props(self) -> dict[str, Any]:
        return _clean({"team": self.team, **self.metadata()})

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> TeamEntry:
        return cls(team=str(props.get("team") or ""), **{k: _str(props.get(k)) for k in METADATA_FIELDS})


@dataclass(frozen=True)
class Guard:
    """The guard's settings for this run (resolved by the program from stack config + env)."""

    max_removal_count: int = 0
    max_removal_fraction: float = 0.0
    allow_mass_removal: bool = False
    allow_organization_change: bool = False
    on_delete: OnDelete = OnDelete.REVOKE
    approved_removal: int = 0

    @classmethod
    def of(cls, settings: RunSettings) -> Guard:
        return cls(settings.max_removal_count, settings.max_removal_fraction, settings.allow_mass_removal,
                   settings.allow_organization_change, settings.on_delete, settings.approved_removal)

    def settings(self) -> RunSettings:
        return RunSettings(max_removal_count=self.max_removal_count, max_removal_fraction=self.max_removal_fraction,
                           allow_mass_removal=self.allow_mass_removal,
                           allow_organization_change=self.allow_organization_change, on_delete=self.on_delete,
                           approved_removal=self.approved_removal)

    def to_props(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "max_removal_count": self.max_removal_count, "max_removal_fraction": self.max_removal_fraction,
            "allow_mass_removal": self.allow_mass_removal, "allow_organization_change": self.allow_organization_change,
            "on_delete": self.on_delete.value}
        return props | ({"approved_removal": self.approved_removal} if self.approved_removal else {})

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Guard:
        try:
            on_delete = OnDelete(props.get("on_delete") or OnDelete.REVOKE.value)
        except ValueError:
            on_delete = OnDelete.REVOKE
        return cls(int(props.get("max_removal_count") or 0), float(props.get("max_removal_fraction") or 0.0),
                   bool(props.get("allow_mass_removal")), bool(props.get("allow_organization_change")), on_delete,
                   int(props.get("approved_removal") or 0))


# --- observed ---------------------------------------------------------------------------------

def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


@dataclass(frozen=True)
class SeatObservation:
    """What the listing says about one login (absent: not listed). Per-seat rules read these
    under the names of :data:`OBSERVED_FIELDS` (``live`` is true when listed). The common values
    are the defaults and stay off the wire (``seated``, direct, not pending): at 100,000 seats
    every value costs the engine memory."""

    assigning_team: str | None = None
    created_at: str | None = None
    last_activity_at: str | None = None
    last_activity_editor: str | None = None
    pending_cancellation_date: str | None = None
    standing: str = "seated"
    via_declared_team: bool = False

    def to_props(self) -> dict[str, Any]:
        props = _clean({f.name: getattr(self, f.name) for f in fields(self)})
        if self.standing == "seated":
            del props["standing"]
        return props

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> SeatObservation:
        return cls(_str(props.get("assigning_team")), _str(props.get("created_at")),
                   _str(props.get("last_activity_at")), _str(props.get("last_activity_editor")),
                   _str(props.get("pending_cancellation_date")), _str(props.get("standing")) or "seated",
                   bool(props.get("via_declared_team")))


OBSERVED_FIELDS: Final = tuple(f.name for f in fields(SeatObservation))

_DENSE: Final = ("created_at", "last_activity_at", "last_activity_editor")
"""Observation fields nearly every listed seat has: one list each, parallel to ``logins``."""
_SPARSE: Final = ("assigning_team", "pending_cancellation_date", "standing")
"""Fields most seats leave at their default: login -> value, only where set."""


def observations_to_props(seen: Mapping[str, SeatObservation]) -> dict[str, Any]:
    """Many observations as columns: the engine then holds a few long lists instead of a map per
    login (at 100,000 seats, per-login maps were most of the CLI's memory)."""
    logins = sorted(seen)
    out: dict[str, Any] = {"logins": logins}
    for name in _DENSE:
        out[name] = [getattr(seen[k], name) for k in logins]
    for name in _SPARSE:
        default = "seated" if name == "standing" else None
        out[name] = {k: getattr(seen[k], name) for k in logins if getattr(seen[k], name) != default}
    out["via_declared_team"] = [k for k in logins if seen[k].via_declared_team]
    return out


def observations_from_props(props: Any) -> dict[str, SeatObservation]:
    """The inverse of :func:`observations_to_props` (a malformed column reads as absent)."""
    if not isinstance(props, Mapping) or not isinstance(props.get("logins"), list):
        return {}
    logins = [str(k) for k in props["logins"]]

    def dense(name: str) -> list[Any]:
        column = props.get(name)
        return list(column) if isinstance(column, list) and len(column) == len(logins) else [None] * len(logins)

    def sparse(name: str) -> Mapping[str, Any]:
        column = props.get(name)
        return column if isinstance(column, Mapping) else {}

    created, activity, editor = dense("created_at"), dense("last_activity_at"), dense("last_activity_editor")
    team, pending, standing = sparse("assigning_team"), sparse("pending_cancellation_date"), sparse("standing")
    via = {str(k) for k in props.get("via_declared_team") or ()}
    return {k: SeatObservation(_str(team.get(k)), _str(created[i]), _str(activity[i]), _str(editor[i]),
                               _str(pending.get(k)), _str(standing.get(k)) or "seated", k in via)
            for i, k in enumerate(logins)}


def observe_seat(seat: LiveSeat | None, standing: str = "seated",
                 via_declared_team: bool = False) -> SeatObservation | None:
    """A listed seat's observation (``None`` when GitHub lists no seat and it is not drift)."""
    if seat is None:
        return SeatObservation(standing=standing) if standing != "seated" else None
    return SeatObservation(seat.assigning_team, _iso(seat.created_at), _iso(seat.last_activity_at),
                           seat.last_activity_editor, _iso(seat.pending_cancellation_date), standing,
                           via_declared_team)


@dataclass(frozen=True)
class TeamObservation:
    """A declared team as listed: its standing and the seats through it (login -> observation)."""

    standing: str | None = None
    members: Mapping[str, SeatObservation] = field(default_factory=dict)

    def to_props(self) -> dict[str, Any]:
        return _clean({"standing": self.standing,
                       "members": observations_to_props(self.members) if self.members else None})

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> TeamObservation:
        return cls(_str(props.get("standing")), observations_from_props(props.get("members")))


@dataclass(frozen=True)
class OrgObservation:
    """The org as a whole, as the program found it (the pack's org-level rules read these)."""

    plan: str = "business"
    seat_management_setting: str | None = None
    plan_type: str | None = None
    seat_breakdown: Mapping[str, int | None] = field(default_factory=dict)
    unmanaged: tuple[tuple[str, str | None], ...] = ()
    missing: tuple[str, ...] = ()
    leaving: tuple[str, ...] = ()
    missing_teams: tuple[str, ...] = ()
    leaving_teams: tuple[str, ...] = ()
    pending_cancellation: tuple[str, ...] = ()
    unassigned_seats: int = 0
    live_seats: int = 0
    declared_seats: int = 0
    declared_team_seats: Mapping[str, int] = field(default_factory=dict)
    estimated_monthly_cost: str = "0"

    def to_props(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["unmanaged"] = [_clean({"login": login, "assigning_team": team}) for login, team in self.unmanaged]
        for name in ("missing", "leaving", "missing_teams", "leaving_teams", "pending_cancellation"):
            out[name] = list(out[name])
        out["seat_breakdown"] = dict(self.seat_breakdown)
        out["declared_team_seats"] = dict(self.declared_team_seats)
        return out

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> OrgObservation:
        def names(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in props.get(key) or ())

        unmanaged = tuple((str(u.get("login")), _str(u.get("assigning_team")))
                          for u in props.get("unmanaged") or () if isinstance(u, Mapping))
        return cls(str(props.get("plan") or "business"), _str(props.get("seat_management_setting")),
                   _str(props.get("plan_type")), dict(props.get("seat_breakdown") or {}), unmanaged,
                   names("missing"), names("leaving"), names("missing_teams"), names("leaving_teams"),
                   names("pending_cancellation"), int(props.get("unassigned_seats") or 0),
                   int(props.get("live_seats") or 0), int(props.get("declared_seats") or 0),
                   {str(k): int(v) for k, v in (props.get("declared_team_seats") or {}).items()},
                   str(props.get("estimated_monthly_cost") or "0"))


# --- planned ----------------------------------------------------------------------------------

def _repairs_to_props(repairs: Mapping[str, Repair]) -> tuple[dict[str, str], dict[str, str]]:
    """(key -> reason, key -> kind for the kinds other than ``grant``): one line per grant in a
    ``preview --diff``."""
    return ({k: r.reason for k, r in sorted(repairs.items())},
            {k: r.kind for k, r in sorted(repairs.items()) if r.kind != "grant"})


def _repairs_from_props(reasons: Any, kinds: Any) -> dict[str, Repair]:
    if not isinstance(reasons, Mapping):
        return {}
    kinds = kinds if isinstance(kinds, Mapping) else {}
    return {str(k): Repair(str(kinds.get(k) or "grant"), str(v or "")) for k, v in reasons.items()}


@dataclass(frozen=True)
class Revoking:
    """What this run revokes, set by the provider's check against the last applied record.

    :param users: casefolded login -> why (entry removed / held outside seats.yaml).
    :param teams: team key -> the seats GitHub lists through it.
    :param limit: the guard's limit for this run.
    """

    users: Mapping[str, str] = field(default_factory=dict)
    teams: Mapping[str, int] = field(default_factory=dict)
    limit: int = 0

    @property
    def seats(self) -> int:
        return len(self.users) + sum(self.teams.values())

    def to_props(self) -> dict[str, Any]:
        return {"users": dict(sorted(self.users.items())), "teams": dict(sorted(self.teams.items())),
                "seats": self.seats, "limit": self.limit}

    @classmethod
    def from_props(cls, props: Any) -> Revoking:
        if not isinstance(props, Mapping):
            return cls()
        users = props.get("users") or {}
        if isinstance(users, list):
            users = {str(u): "" for u in users}
        return cls({str(k): str(v) for k, v in users.items()},
                   {str(k): int(v) for k, v in (props.get("teams") or {}).items()}, int(props.get("limit") or 0))


def _without_name(props: dict[str, Any], name: str, key: str) -> dict[str, Any]:
    """An entry's props without its name when the name is spelled as its key (the default)."""
    return {k: v for k, v in props.items() if not (k == name and v == key)}


@dataclass(frozen=True)
class SeatsInputs:
    """The inputs of one ``copilot:index:Seats`` resource (see the module docstring)."""

    organization: str
    mode: str = "additive"
    guard: Guard = field(default_factory=Guard)
    declared_count: int = 0
    users: Mapping[str, UserEntry] = field(default_factory=dict)
    teams: Mapping[str, TeamEntry] = field(default_factory=dict)
    observed_users: Mapping[str, SeatObservation] = field(default_factory=dict)
    observed_teams: Mapping[str, TeamObservation] = field(default_factory=dict)
    live: LiveView = field(default_factory=LiveView)
    org: OrgObservation = field(default_factory=OrgObservation)
    grant_users: Mapping[str, Repair] = field(default_factory=dict)
    grant_teams: Mapping[str, Repair] = field(default_factory=dict)
    run_id: str = ""
    # set by the provider's check
    revoking: Revoking = field(default_factory=Revoking)
    remembered: Mapping[str, str] = field(default_factory=dict)
    granted_directly: frozenset[str] = frozenset()

    def to_props(self) -> dict[str, Any]:
        return {
            "organization": self.organization, "mode": self.mode, "guard": self.guard.to_props(),
            "declared_count": self.declared_count,
            "users": {k: _without_name(v.to_props(), "login", k) for k, v in sorted(self.users.items())},
            "teams": {k: _without_name(v.to_props(), "team", k) for k, v in sorted(self.teams.items())},
            "observed_users": observations_to_props(self.observed_users),
            "observed_teams": {k: v.to_props() for k, v in sorted(self.observed_teams.items())},
            "live": self.live.to_props(), "org": self.org.to_props(),
            "grants": self._grants(),
            "run_id": self.run_id, "revoking": self.revoking.to_props(),
            "remembered": dict(sorted(self.remembered.items())),
            "granted_directly": sorted(self.granted_directly),
        }

    def _grants(self) -> dict[str, Any]:
        users, kinds = _repairs_to_props(self.grant_users)
        teams, team_kinds = _repairs_to_props(self.grant_teams)
        return _clean({"users": users, "teams": teams, "kinds": kinds, "team_kinds": team_kinds})

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> SeatsInputs:
        def entries(key: str) -> Mapping[str, Any]:
            value = props.get(key)
            return value if isinstance(value, Mapping) else {}

        grants = entries("grants")
        return cls(
            organization=str(props.get("organization") or ""), mode=str(props.get("mode") or "additive"),
            guard=Guard.from_props(entries("guard")), declared_count=int(props.get("declared_count") or 0),
            users={str(k): UserEntry.from_props({"login": k, **v}) for k, v in entries("users").items()
                   if isinstance(v, Mapping)},
            teams={str(k): TeamEntry.from_props({"team": k, **v}) for k, v in entries("teams").items()
                   if isinstance(v, Mapping)},
            observed_users=observations_from_props(props.get("observed_users")),
            observed_teams={str(k): TeamObservation.from_props(v) for k, v in entries("observed_teams").items()},
            live=LiveView.from_props(entries("live")), org=OrgObservation.from_props(entries("org")),
            grant_users=_repairs_from_props(grants.get("users"), grants.get("kinds")),
            grant_teams=_repairs_from_props(grants.get("teams"), grants.get("team_kinds")),
            run_id=str(props.get("run_id") or ""), revoking=Revoking.from_props(props.get("revoking")),
            remembered={str(k): str(v) for k, v in entries("remembered").items()},
            granted_directly=frozenset(str(k) for k in props.get("granted_directly") or ()),
        )


@dataclass(frozen=True)
class ResourceType:
    """A resource type of the provider: its token and its documented properties."""

    name: str
    doc: str
    inputs: Mapping[str, tuple[str, str]]
    outputs: Mapping[str, tuple[str, str]]

    @property
    def token(self) -> str:
        """``copilot:index:<Name>``: what the engine, the pack and ``pulumi import`` see."""
        return f"{PACKAGE}:index:{self.name}"


SEATS: Final = ResourceType(
    "Seats",
    "Every Copilot seat an organization's seats.yaml manages (name 'seats'; import id: the organization).",
    inputs={
        "organization": ("string", "GitHub organization login (case-insensitive)."),
        "mode": ("string", "additive | authoritative (seats.yaml settings.mode)."),
        "guard": ("object", "Guard settings: max_removal_count, max_removal_fraction, allow_mass_removal, "
                            "allow_organization_change, on_delete, approved_removal (seats.yaml's removal_approval)."),
        "declared_count": ("number", "Seats the record accounts for (the next run's guard base)."),
        "users": ("object", "Declared users by casefolded login: login, owner, reason, expires, cost_center, ..."),
        "teams": ("object", "Declared teams by casefolded slug: team, owner, reason, expires, ..."),
        "observed_users": ("object", "The listing's view of the declared users, as columns: logins, created_at, "
                                     "last_activity_at, ... (never part of a diff)."),
        "observed_teams": ("object", "The listing's view of each declared team and its members."),
        "live": ("object", "Active seats outside the declared users: unmanaged_direct, team_seats."),
        "org": ("object", "Org-level observations: seat management setting, unmanaged seats, cost, ..."),
        "grants": ("object", "Planned grants (users, teams): declared seats GitHub does not show as held."),
        "run_id": ("string", "Unique per program run (outputs tell this run from an earlier one)."),
        "revoking": ("object", "This run's revocations and the guard's limit (set by the provider's check)."),
        "remembered": ("object", "Per login, the newest activity the stack has seen when GitHub now reports an "
                                 "older one or none (GitHub forgets after 90 days)."),
        "granted_directly": ("array", "Logins this stack granted directly while a team also seated them."),
    },
    outputs={
        "organization": ("string", "The organization."),
        "managed_users": ("array", "Casefolded logins the last applied run manages."),
        "managed_teams": ("array", "Casefolded team slugs the last applied run manages."),
        "declared_count": ("number", "Seats the last applied run accounted for."),
        "last_run": ("object", "What the last applied run wrote: run_id, granted, revoked (seats)."),
    },
)


def _json_type(kind: str) -> dict[str, Any]:
    if kind == "array":
        return {"type": "array", "items": {"$ref": "pulumi.json#/Any"}}
    if kind == "object":
        return {"$ref": "pulumi.json#/Any"}
    return {"type": kind}


def _properties(props: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    return {name: {**_json_type(kind), "description": doc} for name, (kind, doc) in props.items()}


_PROVIDER_INPUTS: Final[dict[str, Any]] = {
    "baseUrl": {"type": "string", "description": "GitHub API root; GITHUB_API_URL in the provider's environment wins."},
    "stack": {"type": "string", "description": "The stack: without GITHUB_TOKEN, the token is its github:token secret "
                                               "(read through the CLI; never a provider input, never in the state)."},
}


def schema(version: str) -> dict[str, Any]:
    """The provider's Pulumi package schema, generated from :data:`SEATS`."""
    return {
        "name": PACKAGE,
        "version": version,
        "description": "GitHub Copilot seats (copilot-seats' native provider).",
        "config": {"variables": _PROVIDER_INPUTS},
        "provider": {"description": "The copilot provider.", "inputProperties": _PROVIDER_INPUTS},
        "resources": {SEATS.token: {"description": SEATS.doc, "inputProperties": _properties(SEATS.inputs),
                                    "properties": _properties(SEATS.outputs)}},
    }
