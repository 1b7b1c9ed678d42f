"""Pulumi resources for Copilot seats: dynamic providers that execute, never decide.

Type tokens ``pulumi-python:dynamic/copilot:<Name>``, registered in this order:

1. :class:`Organization` (name ``organization``) — the org as a whole: no API writes. Its
   ``check`` is the guard: it compares this run's plan with the roster recorded by the last
   applied run (its previous inputs) and fails before any other step runs.
2. :class:`Seat` (name = casefolded login) and :class:`TeamGrant` (name = casefolded slug),
   depending on the Organization. create = grant; update = metadata, or a *repair* grant when
   GitHub does not show the seat as held; delete = cancel the direct grant (or the team's), or
   nothing at all with ``onDelete: forget``.
3. :class:`Roster` (name ``roster``), depending on every seat and team: records the managed
   set; in authoritative mode it revokes every seat outside seats.yaml (after all grants, so a
   declared user moving off a team is granted directly first); its delete is the first step of
   ``pulumi destroy`` and runs the guard over everything the destroy would revoke.

Inputs are of two kinds. *Desired* fields come from seats.yaml; a change to them is an update
with no API write. *Observed* fields come from the one live listing the program made; policies
read them, and ``diff`` ignores them except for the planned ``repair`` (decided by
:mod:`copilot_seats.decisions.planning`). Nothing is ever replaced: a login's case is not an identity,
and an (allowed) change of organization moves the stack without revoking in the old one.

Credentials: providers are pickled into state by dill, so they hold no token and no client;
:mod:`copilot_seats.provider.ops` builds one client per process from ``GITHUB_TOKEN`` or the
stack's ``github:token`` read at run time.
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

from copilot_seats import lifeline
from copilot_seats.decisions.planning import (
    LiveView,
    RevocationPlan,
    authoritative_revocations,
    destroy_revocations,
    guard_verdict,
    live_view,
    plan_revocations,
)
from copilot_seats.decisions.planning import Roster as RosterState
from copilot_seats.decisions.run_settings import OnDelete, RunSettings
from copilot_seats.provider import ops as ops

lifeline.start_watch()  # in the provider process only: exit when the CLI dies (kill -9 of `up`)
lifeline.plain_provider_errors()  # in the provider process only: errors are messages, not tracebacks

__all__ = [
    "DESIRED_FIELDS",
    "OBSERVED_FIELDS",
    "Organization",
    "OrganizationProvider",
    "Revocation",
    "RevocationProvider",
    "Roster",
    "RosterProvider",
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
"""Inputs that come from seats.yaml: the only ones ``diff`` compares (login and org case-insensitively)."""

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
    "standing",
    "via_declared_team",
    "repair",
    "repair_kind",
)
"""Inputs observed from the live listing (or planned from it): visible to policies, not kept as outputs."""

_METADATA = ("owner", "reason", "expires", "cost_center", "stale_exemption_reason", "stale_exemption_until")
_OBSERVATIONS = frozenset(OBSERVED_FIELDS) | {"members", "live_seats"}
_ROSTER_FIELDS = ("roster_users", "roster_teams", "declared_count")

_UNSORTED_BATCH_SETITEMS = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]


def _undo_serializer_patch() -> None:
    """Work around a pulumi SDK bug (3.78 through 3.272.0) that breaks programs with many dynamic resources.

    ``pulumi.dynamic.serialize_provider`` wraps ``pickle._Pickler._batch_setitems`` in a new
    sorting wrapper on every call and never restores it, so the N-th resource is pickled through
    N nested wrappers and raises RecursionError. Each of our resources restores the original
    right after its provider was serialized (synchronously, in ``Resource.__init__``).
    """
    pickle._Pickler._batch_setitems = _UNSORTED_BATCH_SETITEMS  # type: ignore[attr-defined]


def _outputs(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What a seat or team keeps as outputs: desired fields, how to reach GitHub, what we wrote.

    Observations stay inputs only (policies read inputs; ``check`` carries the remembered
    activity from the old inputs); leaving them out keeps the state small.
    """
    return {**{k: v for k, v in props.items() if k not in _OBSERVATIONS}, **extra}


def _key(value: Any) -> str:
    return str(value or "").casefold()


def _needs_grant(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """The planned repair applies: absent/pending always; a team-only seat until we granted it directly."""
    kind = news.get("repair_kind")
    if kind in ("grant", "re-grant"):
        return True
    return kind == "grant-direct" and not olds.get("granted_directly")


def _desired_changed(olds: dict[str, Any], news: dict[str, Any], name_field: str) -> bool:
    return (any(olds.get(f) != news.get(f) for f in _METADATA)
            or _key(olds.get("organization")) != _key(news.get("organization"))
            or _key(olds.get(name_field)) != _key(news.get(name_field)))


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


class SeatProvider(ResourceProvider):
    """CRUD for one declared user's direct seat. Holds no state (it is pickled into Pulumi state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(_remember_activity(_olds or {}, news), [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=_desired_changed(olds, news, "login") or _needs_grant(olds, news), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        granted = _needs_grant({}, props)
        if granted:
            ops.grant_users(props, [props["login"]])
        direct = granted or (bool(props.get("live")) and not props.get("assigning_team")
                             and not props.get("pending_cancellation_date"))
        return CreateResult(f"{_key(props['organization'])}/{_key(props['login'])}",
                            _outputs(props, granted_directly=direct))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        granted = _needs_grant(olds, news)
        if granted:
            ops.grant_users(news, [news["login"]])
        moved = _key(olds.get("organization")) != _key(news.get("organization"))
        direct = granted or (bool(olds.get("granted_directly")) and not moved)
        return UpdateResult(_outputs(news, granted_directly=direct))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if ops.observe_user(props) is None:  # gone, or pending cancellation: the next `up` grants it again
            return ReadResult("", {})
        return ReadResult(id_, _outputs(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if not ops.delete_forgets(props):
            ops.revoke_users(props, [props["login"]])


class TeamGrantProvider(ResourceProvider):
    """CRUD for one team grant: every member of the team gets a seat through it."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=_desired_changed(olds, news, "team") or _needs_grant(olds, news), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        ops.grant_teams(props, [props["team"]])
        return CreateResult(f"{_key(props['organization'])}/team/{_key(props['team'])}", _outputs(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if _needs_grant(olds, news) or _key(olds.get("organization")) != _key(news.get("organization")):
            ops.grant_teams(news, [news["team"]])
        return UpdateResult(_outputs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if ops.observe_team(props) is None:
            return ReadResult("", {})
        return ReadResult(id_, _outputs(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if not ops.delete_forgets(props):
            ops.revoke_teams(props, [props["team"]])


def _settings(props: dict[str, Any]) -> RunSettings:
    """The guard settings the program resolved for this run (recorded in the inputs)."""
    return RunSettings(
        max_removal_count=int(props.get("max_removal_count", 0)),
        max_removal_fraction=float(props.get("max_removal_fraction", 0.0)),
        allow_mass_removal=bool(props.get("allow_mass_removal")),
        allow_organization_change=bool(props.get("allow_organization_change")),
        on_delete=OnDelete(props.get("on_delete") or OnDelete.REVOKE.value),
    )


def _plan(olds: dict[str, Any] | None,
          news: dict[str, Any]) -> tuple[RosterState | None, RosterState, RevocationPlan]:
    """This run's revocations against the last applied roster (``olds``: previous inputs).

    With ``onDelete: forget`` removed entries are only forgotten, so they cost the guard nothing.
    """
    previous = RosterState.from_props(olds)
    current = RosterState.from_props(news) or RosterState(str(news.get("organization") or ""))
    forget = news.get("on_delete") == OnDelete.FORGET.value
    plan = plan_revocations(None if forget else previous, current, LiveView.from_props(news),
                            news.get("mode") == "authoritative")
    return previous, current, plan


class OrganizationProvider(ResourceProvider):
    """The org-level record. ``check`` is the guard: it fails before any seat step runs."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        previous, current, plan = _plan(olds, news)
        verdict = guard_verdict(plan, previous, current, _settings(news))
        failures = [] if verdict.ok else [CheckFailure("mass_removal_guard", verdict.message)]
        return CheckResult({**news, "revoking": plan.to_props()}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False, replaces=[])  # a record: its inputs are saved every run anyway

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(_key(props["organization"]), {"organization": props["organization"]})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({"organization": news["organization"]})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class RosterProvider(ResourceProvider):
    """The managed set, recorded after every grant; authoritative revocations; the destroy guard."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        previous, current, plan = _plan(olds, news)
        limit = guard_verdict(plan, previous, current, _settings(news)).limit
        return CheckResult({**news, "revoking": {**plan.to_props(), "limit": limit}}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = _key(olds.get("organization")) != _key(news.get("organization"))
        changed = moved or any(olds.get(f) != news.get(f) for f in _ROSTER_FIELDS[:2])
        revoke = news.get("revoke") or {}
        return DiffResult(changes=changed or bool(revoke.get("users") or revoke.get("teams")), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._revoke_outside(props)
        return CreateResult(f"{_key(props['organization'])}/roster", self._record(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._revoke_outside(news)
        return UpdateResult(self._record(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """The first step of ``pulumi destroy`` (the Roster depends on every seat and team, so it is
        deleted before them): refuse, before any revocation, a destroy the guard does not allow."""
        settings = ops.settings_for(props)
        if settings.on_delete is OnDelete.FORGET:
            return
        roster = RosterState.from_props(props)
        if roster is None:
            return
        plan = destroy_revocations(roster, ops.snapshot(props))
        verdict = guard_verdict(plan, roster, roster, settings, action="destroy")
        if not verdict.ok:
            raise RuntimeError(verdict.message + " Nothing was revoked.")

    @staticmethod
    def _record(props: dict[str, Any]) -> dict[str, Any]:
        keep = ("organization", "stack", "api_url", "mode", "run_id", "revoking", *_ROSTER_FIELDS)
        return {k: props.get(k) for k in keep}

    @staticmethod
    def _revoke_outside(props: dict[str, Any]) -> None:
        """Authoritative mode: revoke the planned seats outside seats.yaml, teams first.

        GitHub (and the simulator) may show a seat held both directly and through a team as
        direct; cancelling the direct grant then reveals the team seat. So after revoking, the
        listing is read again and what is still outside seats.yaml is revoked too — within the
        guard's limit for this run — until nothing is left: one ``up`` converges.
        """
        revoke = props.get("revoke") or {}
        if props.get("mode") != "authoritative" or not (revoke.get("teams") or revoke.get("users")):
            return
        planned = props.get("revoking") or {}
        budget = int(planned.get("limit", 0)) - int(planned.get("seats", 0))
        allowed = bool(props.get("allow_mass_removal"))
        current = RosterState.from_props(props) or RosterState(str(props["organization"]))
        plan = RevocationPlan(frozenset(revoke.get("users") or []), dict(revoke.get("teams") or {}))
        done_users: set[str] = set()
        done_teams: set[str] = set()
        for _attempt in range(3):
            if plan.teams:
                ops.revoke_teams(props, sorted(plan.teams))
            if plan.users:
                ops.revoke_users(props, sorted(plan.users))
            done_users |= {u.casefold() for u in plan.users}
            done_teams |= {t.casefold() for t in plan.teams}
            found = authoritative_revocations(current, live_view(ops.snapshot(props, fresh=True), current.users))
            # only seats revealed by the revocations count; a listing that still shows a seat we
            # just cancelled (GitHub's listing can lag) is not a reason to cancel it again
            plan = RevocationPlan(found.users - done_users,
                                  {t: n for t, n in found.teams.items() if t not in done_teams})
            if not plan.seat_count:
                return
            if plan.seat_count > budget and not allowed:
                raise RuntimeError(
                    f"after revoking the planned seats, GitHub lists {plan.seat_count} more outside seats.yaml "
                    f"(held through {', '.join(sorted(plan.teams)) or 'direct grants'} besides the revoked "
                    "grants), more than the guard allows in this run; run `pulumi up` again to revoke them "
                    "under the guard, or allow it with COPILOT_SEATS_ALLOW_MASS_REMOVAL=1")
            budget -= plan.seat_count
        raise RuntimeError("seats outside seats.yaml keep reappearing after revocation; stopped after 3 rounds")


class RevocationProvider(ResourceProvider):
    """Legacy (before the Roster): per-seat revocation records. Only their delete still runs,
    once, when a stack created by an earlier version upgrades; it writes nothing."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False, replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        raise RuntimeError("Revocation records are no longer created; the Roster revokes in authoritative mode")

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class _CopilotResource(Resource):
    """Shared constructor: one stateless provider instance per resource, then the SDK workaround."""

    provider_class: ClassVar[type[ResourceProvider]]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.provider_class(), name, props, opts)
        _undo_serializer_patch()


class Seat(_CopilotResource, module="copilot", name="Seat"):
    """A declared user's Copilot seat (resource name = casefolded login)."""

    provider_class = SeatProvider


class TeamGrant(_CopilotResource, module="copilot", name="TeamGrant"):
    """A team whose members get Copilot seats through it (resource name = casefolded slug)."""

    provider_class = TeamGrantProvider


class Organization(_CopilotResource, module="copilot", name="Organization"):
    """Org-wide observations for the policy pack, and the guard."""

    provider_class = OrganizationProvider


class Roster(_CopilotResource, module="copilot", name="Roster"):
    """The managed set; authoritative revocations; the destroy guard."""

    provider_class = RosterProvider

    run_id: pulumi.Output[str]
    revoking: pulumi.Output[Any]


class Revocation(_CopilotResource, module="copilot", name="Revocation"):
    """Legacy type, kept so stacks from earlier versions can drop their records."""

    provider_class = RevocationProvider
