"""The one contract between the program, the ``copilot`` provider and the policy pack.

Every resource type is declared here once: its type token, the token it had under the dynamic
providers (an alias, so stacks upgrade in place), and its fields in two kinds:

* **desired** fields come from seats.yaml (or the stack's settings). They are what the resource
  *is*; a change to one is an update (metadata only, no GitHub write) and the provider's
  ``diff`` compares them (logins, slugs and the org case-insensitively).
* **observed** fields come from the program's one live listing (or are planned from it):
  ``live``, ``last_activity_at``, the planned ``repair``... Policies read them; ``diff`` ignores
  them except for the planned repair, and the provider keeps them out of its outputs (they are
  in the inputs already), which keeps the checkpoint small.

The provider's schema (``GetSchema``) is generated from these records, so ``pulumi import`` and
the engine see the same names the program sends and the pack reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from copilot_seats.github.live import LiveSeat

__all__ = [
    "ALL_TYPES",
    "ORGANIZATION",
    "PACKAGE",
    "PROVIDER_TYPE",
    "REVOCATION",
    "ROSTER",
    "SEAT",
    "TEAM",
    "Field",
    "ResourceType",
    "by_token",
    "observed_fields",
    "schema",
]

PACKAGE: Final = "copilot"
"""The provider plugin's package name (executable ``pulumi-resource-copilot``)."""
PROVIDER_TYPE: Final = f"pulumi:providers:{PACKAGE}"
"""Type token of the provider resource itself."""


@dataclass(frozen=True)
class Field:
    """One property: its name (as sent on the wire), JSON type, and meaning."""

    name: str
    kind: str
    doc: str


@dataclass(frozen=True)
class ResourceType:
    """A resource type of the provider and its property contract."""

    name: str
    doc: str
    desired: tuple[Field, ...]
    observed: tuple[Field, ...] = ()
    outputs: tuple[Field, ...] = ()

    @property
    def token(self) -> str:
        """``copilot:index:<Name>``: what the engine, the pack and ``pulumi import`` see."""
        return f"{PACKAGE}:index:{self.name}"

    @property
    def legacy_token(self) -> str:
        """The dynamic-provider token of the same resource before the native provider."""
        return f"pulumi-python:dynamic/copilot:{self.name}"

    @property
    def desired_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.desired)

    @property
    def observed_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.observed)

    def keep_outputs(self, props: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """What the resource keeps as outputs: every input but the observations, plus ``extra``."""
        observed = self.observed_names
        return {**{k: v for k, v in props.items() if k not in observed and not k.startswith("__")}, **extra}


def _s(name: str, doc: str) -> Field:
    return Field(name, "string", doc)


_WHERE = (
    _s("organization", "GitHub organization login (case-insensitive)."),
    _s("stack", "Stack name: lets the provider read the stack's copilot-seats settings at delete time."),
    _s("api_url", "Configured github:baseUrl (GITHUB_API_URL still wins at run time)."),
)
_METADATA = (
    _s("owner", "Accountable owner from seats.yaml."),
    _s("reason", "Why the seat is held, from seats.yaml."),
    _s("expires", "Expiry date from seats.yaml (ISO date) or null."),
    _s("cost_center", "Cost center from seats.yaml or null."),
    _s("stale_exemption_reason", "Why staleness is accepted (seats.yaml), or null."),
    _s("stale_exemption_until", "Until when the exemption holds (ISO date), or null."),
)
_PLANNED = (
    _s("standing", "The seat's standing (copilot_seats.decisions.seat_state.Standing)."),
    _s("repair", "Why this run grants again (absent, pending cancellation, team-only), or null."),
    _s("repair_kind", "grant | re-grant | grant-direct, or null."),
)
_LIVE_SEAT = (
    Field("live", "boolean", "GitHub lists a seat for the login."),
    _s("assigning_team", "Slug of the team the seat comes through, or null (direct)."),
    _s("last_activity_at", "GitHub's last activity timestamp, or null."),
    _s("last_activity_editor", "The editor of the last activity, or null."),
    _s("last_authenticated_at", "GitHub's last authentication timestamp, or null."),
    _s("created_at", "When the seat was granted."),
    _s("pending_cancellation_date", "Date the seat ends, when cancelled, or null."),
    _s("plan_type", "business | enterprise, or null."),
    _s("remembered_last_activity_at", "The newest activity the stack has seen (GitHub forgets after 90 days)."),
    Field("via_declared_team", "boolean", "The seat is held through a team seats.yaml declares."),
)
_GUARD = (
    Field("roster_users", "array", "Casefolded logins seats.yaml declares."),
    Field("roster_teams", "array", "Casefolded team slugs seats.yaml declares."),
    Field("declared_count", "number", "Seats the roster accounts for (the guard's base)."),
    _s("mode", "additive | authoritative (seats.yaml settings.mode)."),
    Field("max_removal_count", "number", "Guard: revocations always allowed per run."),
    Field("max_removal_fraction", "number", "Guard: fraction of declared seats allowed per run."),
    Field("allow_mass_removal", "boolean", "Guard lifted for this run."),
    Field("allow_organization_change", "boolean", "Moving the stack to another org is allowed."),
    _s("on_delete", "revoke | forget: what removing an entry (or destroy) does."),
)
_LISTING = (
    Field("unmanaged_direct", "array", "Active direct seats outside the roster (casefolded logins)."),
    Field("team_seats", "object", "Active seats per assigning team."),
)

_ORG = _WHERE[0]

SEAT: Final = ResourceType(
    "Seat", "A declared user's Copilot seat (name = casefolded login; id = org/login).",
    desired=(_ORG, _s("login", "GitHub login (case-insensitive)."), *_METADATA),
    observed=(*_LIVE_SEAT, *_PLANNED),
    outputs=(Field("granted_directly", "boolean", "This stack holds the seat as a direct grant."),),
)
TEAM: Final = ResourceType(
    "TeamGrant", "A team whose members hold Copilot seats through it (name = casefolded slug).",
    desired=(_ORG, _s("team", "Team slug."), *_METADATA),
    observed=(Field("live_seats", "number", "Active seats through the team."),
              Field("members", "array", "Members holding seats through the team, with observations."),
              *_PLANNED),
)
ORGANIZATION: Final = ResourceType(
    "Organization", "The org as a whole: observations for the pack, and the mass-removal guard (its check).",
    desired=(*_WHERE, *_GUARD, _s("plan", "Copilot plan from seats.yaml.")),
    observed=(*_LISTING, Field("revoking", "object", "This run's planned revocations (set by check)."),
              _s("seat_management_setting", "GitHub's seat management setting."),
              _s("plan_type", "GitHub's plan type."), Field("seat_breakdown", "object", "GitHub's seat counts."),
              Field("declared_team_seats", "object", "Active seats per declared team."),
              Field("unmanaged", "array", "Seats held outside seats.yaml."),
              Field("missing", "array", "Declared users without an active seat."),
              Field("leaving", "array", "Declared users whose seat is pending cancellation."),
              Field("missing_teams", "array", "Declared teams without seats."),
              Field("leaving_teams", "array", "Declared teams whose seats are ending."),
              Field("pending_cancellation", "array", "Seats pending cancellation."),
              Field("unassigned_seats", "number", "Seats with no assignee."),
              Field("live_seats", "number", "Seats GitHub lists."),
              Field("declared_seats", "number", "Users seats.yaml declares."),
              _s("estimated_monthly_cost", "Listed seats times the seat price."),
              Field("authoritative_revocations", "number", "Seats outside seats.yaml this run would revoke."),
              Field("grants", "object", "Planned grants (users, teams): sent in one batch by the provider.")),
)
ROSTER: Final = ResourceType(
    "Roster", "The managed set, recorded after every grant; authoritative revocations; the destroy guard.",
    desired=(*_WHERE, *_GUARD, _s("run_id", "Unique per program run (outputs tell this run from an earlier).")),
    observed=(*_LISTING, Field("revoke", "object", "Planned authoritative revocations: users and teams."),
              Field("revoking", "object", "This run's planned revocations and the guard's limit (set by check).")),
    outputs=(Field("revoking", "object", "What the last applied run revoked."),),
)
REVOCATION: Final = ResourceType(
    "Revocation", "Legacy per-seat revocation record of early stacks; only its delete runs (a no-op).",
    desired=(*_WHERE, _s("login", "GitHub login.")),
)
ALL_TYPES: Final = (SEAT, TEAM, ORGANIZATION, ROSTER, REVOCATION)


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def observed_fields(seat: LiveSeat | None) -> dict[str, Any]:
    """A seat's observed fields (those of :data:`SEAT` the listing gives), as JSON values: the
    program sends them as inputs, the provider's ``read`` (refresh, import) reports them."""
    return {
        "live": seat is not None,
        "assigning_team": seat.assigning_team if seat else None,
        "last_activity_at": _iso(seat.last_activity_at) if seat else None,
        "last_activity_editor": seat.last_activity_editor if seat else None,
        "last_authenticated_at": _iso(seat.last_authenticated_at) if seat else None,
        "created_at": _iso(seat.created_at) if seat else None,
        "pending_cancellation_date": _iso(seat.pending_cancellation_date) if seat else None,
        "plan_type": seat.plan_type if seat else None,
    }


def by_token(token: str) -> ResourceType | None:
    """The resource type behind a token (current or legacy), or None."""
    for rtype in ALL_TYPES:
        if token in (rtype.token, rtype.legacy_token):
            return rtype
    return None


def _json_type(kind: str) -> dict[str, Any]:
    if kind == "array":
        return {"type": "array", "items": {"$ref": "pulumi.json#/Any"}}
    if kind == "object":
        return {"$ref": "pulumi.json#/Any"}
    return {"type": kind}


def _properties(fields: tuple[Field, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        out[f.name] = {**_json_type(f.kind), "description": f.doc}
    return out


_PROVIDER_INPUTS: Final[dict[str, Any]] = {
    "baseUrl": {"type": "string", "description": "GitHub API root; GITHUB_API_URL in the provider's environment wins."},
    "stack": {"type": "string", "description": "The stack: without GITHUB_TOKEN, the token is its github:token secret "
                                               "(read through the CLI; never a provider input, never in the state)."},
    "token": {"type": "string", "secret": True,
              "description": "A token for programs that pass one (stored in the state, encrypted); "
                             "GITHUB_TOKEN wins. copilot-seats' own program never sets it."},
}


def schema(version: str) -> dict[str, Any]:
    """The provider's Pulumi package schema, generated from the records above."""
    resources: dict[str, Any] = {}
    for rtype in ALL_TYPES:
        inputs = _properties(rtype.desired + rtype.observed)
        resources[rtype.token] = {
            "description": rtype.doc,
            "inputProperties": inputs,
            "properties": {**_properties(rtype.desired), **_properties(rtype.outputs)},
            "aliases": [{"type": rtype.legacy_token}],
        }
    return {
        "name": PACKAGE,
        "version": version,
        "description": "GitHub Copilot seats (copilot-seats' native provider).",
        "config": {"variables": _PROVIDER_INPUTS},
        "provider": {"description": "The copilot provider.", "inputProperties": _PROVIDER_INPUTS},
        "resources": resources,
    }
