"""Pulumi resources for Copilot seats: dynamic providers that execute, never decide.

Three resource types (type tokens ``pulumi-python:dynamic/copilot:<Name>``), named after what
they manage so a preview reads like a seat list:

* :class:`Seat` — one declared user (resource name = login). create = grant, delete = revoke.
* :class:`TeamGrant` — one declared team (resource name = slug); its members get seats.
* :class:`Revocation` — authoritative mode only: one seat held outside seats.yaml (a login, or
  an undeclared team); create = revoke. Deleting the record later writes nothing.
* :class:`Organization` — the org as a whole: no API writes; carries what the policy pack needs
  (seat management setting, breakdown, drift) and runs the mass-removal guard in ``check``.

Inputs are of two kinds. *Desired* fields come from seats.yaml; a change to them is a diff
(an update with no API write for metadata; a replacement for the login). *Observed* fields
come from the one live listing the program made; they exist so policies can judge the seat
during preview, and ``diff`` ignores them: observations alone never show as changes.
``check`` carries ``remembered_last_activity_at`` forward from the previous inputs, so a seat
whose ``last_activity_at`` went null after GitHub's 90-day retention keeps its true date.

Credentials: the providers are pickled into state by dill, so they hold no token and no
client. Each CRUD call builds a client from the environment (``GITHUB_TOKEN``,
``GITHUB_API_URL``) or, failing that, from the stack's ``github:token`` secret read at run
time (:mod:`copilot_seats.credentials`). Reads go through one cached listing per provider
process, so refresh of N seats costs ceil(N/100) + 1 requests, not N.
"""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from copilot_seats import provider_ops as ops
from copilot_seats.planning import check_mass_removal

__all__ = [
    "DESIRED_FIELDS",
    "OBSERVED_FIELDS",
    "Organization",
    "OrganizationProvider",
    "Revocation",
    "RevocationProvider",
    "Seat",
    "SeatProvider",
    "TeamGrant",
    "TeamGrantProvider",
]

DESIRED_FIELDS = (
    "organization",
    "login",
    "owner",
    "reason",
    "expires",
    "cost_center",
    "stale_exemption_reason",
    "stale_exemption_until",
)
"""Inputs that come from seats.yaml: the only ones ``diff`` looks at."""

OBSERVED_FIELDS = (
    "live",
    "assigning_team",
    "last_activity_at",
    "last_activity_editor",
    "last_authenticated_at",
    "created_at",
    "pending_cancellation_date",
    "plan_type",
    "remembered_last_activity_at",
)
"""Inputs observed from the live listing: visible to policies, ignored by ``diff``."""


_UNSORTED_BATCH_SETITEMS = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]


def _undo_serializer_patch() -> None:
    """Work around a pulumi 3.78 SDK bug that breaks programs with ~900+ dynamic resources.

    ``pulumi.dynamic.serialize_provider`` wraps ``pickle._Pickler._batch_setitems`` in a new
    sorting wrapper on every call and never restores it, so the N-th resource is pickled through
    N nested wrappers and raises RecursionError. Each of our resources restores the original
    right after its provider was serialized (synchronously, in ``Resource.__init__``).
    """
    pickle._Pickler._batch_setitems = _UNSORTED_BATCH_SETITEMS  # type: ignore[attr-defined]


_OBSERVATIONS = frozenset(OBSERVED_FIELDS) | {"via_declared_team", "members", "live_seats"}


def _outputs(props: dict[str, Any]) -> dict[str, Any]:
    """What a seat or team resource keeps as outputs: the desired fields and how to reach GitHub.

    Observations stay inputs only (policies read inputs; ``check`` carries the remembered
    activity from the old inputs). Outputs are what ``diff``, ``read`` and ``delete`` receive,
    and leaving observations out keeps the state — rewritten by the engine after every step —
    about a third smaller.
    """
    return {k: v for k, v in props.items() if k not in _OBSERVATIONS}


def _key(value: Any) -> str:
    return str(value or "").casefold()


def _desired_diff(olds: dict[str, Any], news: dict[str, Any], name_field: str) -> DiffResult:
    """Replace when the org or the login/slug changes (case-insensitively); update on metadata."""
    replaces = [f for f in ("organization", name_field) if _key(olds.get(f)) != _key(news.get(f))]
    if replaces:
        return DiffResult(changes=True, replaces=replaces, delete_before_replace=True)
    changed = any(olds.get(f) != news.get(f) for f in DESIRED_FIELDS if f != "login") or (
        olds.get(name_field) != news.get(name_field)
    )
    return DiffResult(changes=changed, replaces=[])


def _remember_activity(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    """Keep the newest known activity date when GitHub stops reporting one (null after 90 days)."""
    candidates = [
        news.get("last_activity_at"),
        news.get("remembered_last_activity_at"),
        olds.get("remembered_last_activity_at"),
        olds.get("last_activity_at"),
    ]
    known = [c for c in candidates if isinstance(c, str) and c]
    return {**news, "remembered_last_activity_at": max(known) if known else None}


def _already_direct(props: dict[str, Any]) -> bool:
    """This run's listing shows a direct, active seat: granting again would be a no-op write.

    A seat held only through a team is granted directly anyway, so that dropping the team later
    does not take away a seat seats.yaml declares for the user.
    """
    return bool(props.get("live")) and not props.get("pending_cancellation_date") and not props.get("assigning_team")


class SeatProvider(ResourceProvider):
    """CRUD for one directly granted user seat. Holds no state (it is pickled into Pulumi state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(_remember_activity(_olds or {}, news), [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _desired_diff(olds, news, "login")

    def create(self, props: dict[str, Any]) -> CreateResult:
        if not _already_direct(props):
            ops.grant_users(props, [props["login"]])
        return CreateResult(f"{_key(props['organization'])}/{_key(props['login'])}", _outputs(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_outputs(news))  # metadata only: nothing to write to GitHub

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if ops.observe_user(props) is None:  # gone, or pending cancellation: the next `up` grants it again
            return ReadResult("", {})
        return ReadResult(id_, _outputs(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        ops.revoke_user(props)


class TeamGrantProvider(ResourceProvider):
    """CRUD for one team grant: every member of the team gets a seat through it."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _desired_diff(olds, news, "team")

    def create(self, props: dict[str, Any]) -> CreateResult:
        ops.grant_teams(props, [props["team"]])
        return CreateResult(f"{_key(props['organization'])}/team/{_key(props['team'])}", _outputs(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_outputs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if ops.observe_team(props) is None:
            return ReadResult("", {})
        return ReadResult(id_, _outputs(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        ops.revoke_teams(props, [props["team"]])


class RevocationProvider(ResourceProvider):
    """Authoritative mode: creating the record revokes the seat; deleting it writes nothing."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        same = all(_key(olds.get(f)) == _key(news.get(f)) for f in ("organization", "kind", "target"))
        return DiffResult(changes=not same, replaces=[] if same else ["target"])

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props["kind"] == "team":
            ops.revoke_teams(props, [props["target"]])
        else:
            ops.revoke_user({**props, "login": props["target"]})
        key = f"{_key(props['organization'])}/{props['kind']}/{_key(props['target'])}"
        return CreateResult(key, {**props})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # the seat is already revoked; forgetting the record must not re-grant it


class OrganizationProvider(ResourceProvider):
    """The org-level record. ``check`` is the mass-removal guard: it fails before any change."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        verdict = check_mass_removal(
            previous_users=(olds or {}).get("declared_users") or [],
            current_users=news.get("declared_users") or [],
            previous_team_seats=(olds or {}).get("declared_team_seats") or {},
            current_teams=(news.get("declared_team_seats") or {}).keys(),
            extra_revocations=int(news.get("authoritative_revocations") or 0),
            max_count=int(news.get("max_removal_count") or 0),
            max_fraction=float(news.get("max_removal_fraction") or 0.0),
            allowed=bool(news.get("allow_mass_removal")),
        )
        failures = [] if verdict.ok else [CheckFailure("mass_removal_guard", verdict.message)]
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if _key(olds.get("organization")) != _key(news.get("organization")):
            return DiffResult(changes=True, replaces=["organization"])
        return DiffResult(changes=False, replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(_key(props["organization"]), {"organization": props["organization"]})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({"organization": news["organization"]})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class _CopilotResource(Resource):
    """Shared constructor: one stateless provider instance per resource, then the SDK workaround."""

    provider_class: ClassVar[type[ResourceProvider]]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.provider_class(), name, props, opts)
        _undo_serializer_patch()


class Seat(_CopilotResource, module="copilot", name="Seat"):
    """A user's directly granted Copilot seat (resource name = login)."""

    provider_class = SeatProvider


class TeamGrant(_CopilotResource, module="copilot", name="TeamGrant"):
    """A team whose members get Copilot seats through it (resource name = slug)."""

    provider_class = TeamGrantProvider


class Revocation(_CopilotResource, module="copilot", name="Revocation"):
    """Authoritative mode: a seat held outside seats.yaml, revoked when created."""

    provider_class = RevocationProvider


class Organization(_CopilotResource, module="copilot", name="Organization"):
    """Org-wide observations for the policy pack, and the mass-removal guard."""

    provider_class = OrganizationProvider
