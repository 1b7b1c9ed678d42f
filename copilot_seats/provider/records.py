"""Handlers of the org-level records: the Organization (the guard), the Roster, legacy Revocations.

Registered in this order by the program (:mod:`copilot_seats.stack.program`):

1. ``Organization`` (name ``organization``): no API writes. Its ``check`` is the guard: it
   compares this run's plan with the roster recorded by the last applied run (its previous
   inputs) and fails before any other step runs.
2. Seats and team grants (:mod:`copilot_seats.provider.seats`), depending on the Organization.
3. ``Roster`` (name ``roster``), depending on every seat and team: records the managed set; in
   authoritative mode it revokes every seat outside seats.yaml (after all grants, so a declared
   user moving off a team is granted directly first); its delete is the first step of
   ``pulumi destroy`` and runs the guard over everything the destroy would revoke.
"""

from __future__ import annotations

from typing import Any

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
from copilot_seats.provider.contract import ORGANIZATION, REVOCATION, ROSTER
from copilot_seats.provider.handler import Context, Handler, ProviderError, key, raise_failures

__all__ = ["OrganizationHandler", "RevocationHandler", "RosterHandler"]

_ROSTER_FIELDS = ("roster_users", "roster_teams", "declared_count")
_RECORD = ("organization", "stack", "api_url", "mode", "run_id", "revoking", *_ROSTER_FIELDS)
_MAX_ROUNDS = 3


def _settings(props: dict[str, Any]) -> RunSettings:
    """The guard settings the program resolved for this run (recorded in the inputs)."""
    return RunSettings(
        max_removal_count=int(props.get("max_removal_count") or 0),
        max_removal_fraction=float(props.get("max_removal_fraction") or 0.0),
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


class OrganizationHandler(Handler):
    """The org-level record. ``check`` is the guard: it fails before any seat step runs."""

    rtype = ORGANIZATION

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        previous, current, plan = _plan(olds, news)
        verdict = guard_verdict(plan, previous, current, _settings(news))
        failures = [] if verdict.ok else [("mass_removal_guard", verdict.message)]
        return {**news, "revoking": plan.to_props()}, failures

    def planned_writes(self, inputs: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
        """The grants the program planned (absent or pending seats, teams without seats): sent in
        one batch when the first of their resources is created or updated."""
        grants = inputs.get("grants") or {}
        org = str(inputs.get("organization") or "")
        return [("grant_users", org, [str(n) for n in grants.get("users") or []]),
                ("grant_teams", org, [str(n) for n in grants.get("teams") or []])]

    async def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return key(props["organization"]), {"organization": props["organization"]}

    async def update(self, ctx: Context, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        return {"organization": news["organization"]}


class RosterHandler(Handler):
    """The managed set, recorded after every grant; authoritative revocations; the destroy guard."""

    rtype = ROSTER

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        previous, current, plan = _plan(olds, news)
        limit = guard_verdict(plan, previous, current, _settings(news)).limit
        return {**news, "revoking": {**plan.to_props(), "limit": limit}}, []

    def diff(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        changed = [f for f in _ROSTER_FIELDS[:2] if olds.get(f) != news.get(f)]
        if key(olds.get("organization")) != key(news.get("organization")):
            changed.append("organization")
        revoke = news.get("revoke") or {}
        if revoke.get("users") or revoke.get("teams"):
            changed.append("revoke")
        return changed

    async def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        await self._revoke_planned(ctx, props)
        await self._revoke_outside(ctx, props)
        return f"{key(props['organization'])}/roster", self._record(props)

    async def update(self, ctx: Context, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        await self._revoke_planned(ctx, news)
        await self._revoke_outside(ctx, news)
        return self._record(news)

    @staticmethod
    async def _revoke_planned(ctx: Context, props: dict[str, Any]) -> None:
        """This run's revocations (removed entries, and in authoritative mode seats outside
        seats.yaml) in batches, before the deletes of removed entries, which then find their
        outcome and send nothing. A refusal fails the resource it belongs to, not the Roster."""
        org = str(props["organization"])
        revoking = props.get("revoking") or {}
        if revoking.get("teams"):
            await ctx.batcher.write("revoke_teams", org, sorted(str(t) for t in revoking["teams"]))
        if revoking.get("users"):
            await ctx.batcher.write("revoke_users", org, sorted(str(u) for u in revoking["users"]))

    async def delete(self, ctx: Context, id_: str, props: dict[str, Any]) -> None:
        """The first step of ``pulumi destroy`` (the Roster depends on every seat and team, so it is
        deleted before them): refuse, before any revocation, a destroy the guard does not allow."""
        settings = await ctx.run(ctx.session.settings, ctx.stack(props))
        roster = RosterState.from_props(props)
        if settings.on_delete is OnDelete.FORGET or roster is None:
            return
        snapshot = await ctx.run(ctx.session.snapshot, roster.organization)
        plan = destroy_revocations(roster, snapshot)
        verdict = guard_verdict(plan, roster, roster, settings, action="destroy")
        if not verdict.ok:
            raise ProviderError(verdict.message + " Nothing was revoked.")
        # allowed: revoke in batches now; each seat's and team's delete then finds its outcome
        if plan.teams:
            await ctx.batcher.write("revoke_teams", roster.organization, sorted(plan.teams))
        if plan.users:
            await ctx.batcher.write("revoke_users", roster.organization, sorted(plan.users))

    @staticmethod
    def _record(props: dict[str, Any]) -> dict[str, Any]:
        return {k: props.get(k) for k in _RECORD}

    @staticmethod
    async def _revoke_outside(ctx: Context, props: dict[str, Any]) -> None:
        """Authoritative mode: revoke the planned seats outside seats.yaml, teams first.

        GitHub (and the simulator) may show a seat held both directly and through a team as
        direct; cancelling the direct grant then reveals the team seat. So after revoking, the
        listing is read again and what is still outside seats.yaml is revoked too — within the
        guard's limit for this run — until nothing is left: one ``up`` converges.
        """
        revoke = props.get("revoke") or {}
        if props.get("mode") != "authoritative" or not (revoke.get("teams") or revoke.get("users")):
            return
        org = str(props["organization"])
        planned = props.get("revoking") or {}
        budget = int(planned.get("limit") or 0) - int(planned.get("seats") or 0)
        allowed = bool(props.get("allow_mass_removal"))
        current = RosterState.from_props(props) or RosterState(org)
        plan = RevocationPlan(frozenset(revoke.get("users") or []),
                              {str(t): int(n) for t, n in (revoke.get("teams") or {}).items()})
        done_users: set[str] = set()
        done_teams: set[str] = set()
        for _round in range(_MAX_ROUNDS):
            if plan.teams:
                teams = sorted(plan.teams)
                raise_failures("revoke the seats of team", await ctx.batcher.write("revoke_teams", org, teams), teams)
            if plan.users:
                users = sorted(plan.users)
                raise_failures("revoke the seat of", await ctx.batcher.write("revoke_users", org, users), users)
            done_users |= {u.casefold() for u in plan.users}
            done_teams |= {t.casefold() for t in plan.teams}
            listing = await ctx.run(ctx.session.snapshot, org, True)
            found = authoritative_revocations(current, live_view(listing, current.users))
            # only seats revealed by the revocations count; a listing that still shows a seat we
            # just cancelled (GitHub's listing can lag) is not a reason to cancel it again
            plan = RevocationPlan(found.users - done_users,
                                  {t: n for t, n in found.teams.items() if t not in done_teams})
            if not plan.seat_count:
                return
            if plan.seat_count > budget and not allowed:
                raise ProviderError(
                    f"after revoking the planned seats, GitHub lists {plan.seat_count} more outside seats.yaml "
                    f"(held through {', '.join(sorted(plan.teams)) or 'direct grants'} besides the revoked "
                    "grants), more than the guard allows in this run; run `pulumi up` again to revoke them "
                    "under the guard, or allow it with COPILOT_SEATS_ALLOW_MASS_REMOVAL=1")
            budget -= plan.seat_count
        raise ProviderError("seats outside seats.yaml keep reappearing after revocation; "
                            f"stopped after {_MAX_ROUNDS} rounds")


class RevocationHandler(Handler):
    """Legacy (before the Roster): per-seat revocation records. Only their delete still runs,
    once, when a stack created by an early version upgrades; it writes nothing."""

    rtype = REVOCATION

    async def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise ProviderError("Revocation records are no longer created; the Roster revokes in authoritative mode")
