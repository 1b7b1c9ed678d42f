"""The handler of ``copilot:index:Seats``: every seat of one organization, and the guard.

Every write of a run happens here, in one resource, after one guard verdict:

* ``check`` compares this run's record with the last applied one (its previous inputs), plans
  the revocations (entries removed; in authoritative mode every seat outside seats.yaml) and
  fails the run, before any step, when the guard refuses them;
* ``diff`` names only the entries that change, so ``pulumi preview --diff`` is the list of seat
  changes (observations never count);
* ``create``/``update`` plan again from what they are given, and revoke only what that
  verdict approves (:class:`~copilot_seats.decisions.planning.Approval`: deny by default), after
  every grant; then they read the listing again and fail unless GitHub shows each write done;
* ``delete`` (``pulumi destroy``, or a record that leaves the program) runs the guard over
  everything it would revoke, reading the stack's current settings;
* ``read`` serves ``pulumi refresh`` (the record is the stack's memory: kept) and
  ``pulumi import copilot:index:Seats seats <org>`` (the org's current seats become the record).

Because the guard lives in the only resource that writes, ``--target``, ``--refresh``,
``--replace``, import and state edits all pass through it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from copilot_seats.decisions.planning import (
    Approval,
    GuardVerdict,
    Repair,
    RevocationPlan,
    Roster,
    approve,
    authoritative_revocations,
    destroy_revocations,
    guard_verdict,
    live_view,
    plan_revocations,
)
from copilot_seats.decisions.run_settings import OnDelete
from copilot_seats.decisions.seat_state import Held, active, held
from copilot_seats.github.live import LiveSnapshot
from copilot_seats.provider import legacy
from copilot_seats.provider.contract import (
    METADATA_FIELDS,
    SEATS,
    Revoking,
    SeatsInputs,
    TeamEntry,
    TeamObservation,
    UserEntry,
)
from copilot_seats.provider.handler import Context, DetailedDiff, Handler, ProviderError, key, raise_failures

__all__ = ["SeatsHandler", "checked_inputs", "previous_roster", "record_roster"]

_MAX_ROUNDS = 3
_REMOVED = "entry removed from seats.yaml"
_OUTSIDE = "held outside seats.yaml (authoritative mode)"


def record_roster(inputs: SeatsInputs) -> Roster:
    """The roster a Seats record manages."""
    return Roster(inputs.organization, frozenset(inputs.users), frozenset(inputs.teams), inputs.declared_count)


def previous_roster(props: Mapping[str, Any] | None) -> Roster | None:
    """The last applied roster, from a Seats resource's previous inputs or outputs, or from the
    per-seat Roster of copilot-seats 0.1 that an upgrading run takes over (alias)."""
    if not props or not props.get("organization"):
        return None
    if legacy.is_legacy_roster(props):
        return legacy.roster(props)
    if "managed_users" in props and "users" not in props:  # outputs
        return Roster(str(props["organization"]), frozenset(str(u) for u in props.get("managed_users") or ()),
                      frozenset(str(t) for t in props.get("managed_teams") or ()),
                      int(props.get("declared_count") or 0))
    return record_roster(SeatsInputs.from_props(props))


def _plan(previous: Roster | None, inputs: SeatsInputs) -> tuple[RevocationPlan, Revoking, GuardVerdict]:
    current = record_roster(inputs)
    forget = inputs.guard.on_delete is OnDelete.FORGET
    plan = plan_revocations(None if forget else previous, current, inputs.live, inputs.mode == "authoritative")
    verdict = guard_verdict(plan, previous, current, inputs.guard.settings())
    removed = previous.users if previous is not None and not forget else frozenset()
    revoking = Revoking({u: (_REMOVED if u in removed else _OUTSIDE) for u in plan.users}, dict(plan.teams),
                        verdict.limit)
    return plan, revoking, verdict


def _new_teams(previous: Roster | None, inputs: SeatsInputs) -> dict[str, Repair]:
    """Teams new to the record through which GitHub lists no seat: granted once, when added
    (afterwards nothing tells "grant removed long ago" from "team has no members")."""
    known = previous.teams if previous is not None else frozenset()
    return {k: Repair("grant", "grant: new team entry, GitHub lists no seat through it")
            for k in inputs.teams if k not in known and
            (inputs.observed_teams.get(k) or TeamObservation()).standing in (None, "missing")}


def _remembered(olds: SeatsInputs | None, inputs: SeatsInputs) -> dict[str, str]:
    """Per declared login, the newest activity known when GitHub now reports an older one or none
    (null after 90 days idle); logins whose reported activity is the newest are left out."""
    out: dict[str, str] = {}
    for login in inputs.users:
        seen = inputs.observed_users.get(login)
        reported = seen.last_activity_at if seen else None
        candidates = [reported, inputs.remembered.get(login)]
        if olds is not None:
            before = olds.observed_users.get(login)
            candidates += [olds.remembered.get(login), before.last_activity_at if before else None]
        known = [c for c in candidates if c]
        if known and max(known) != reported:
            out[login] = max(known)
    return out


def _path(section: str, name: str, *rest: str) -> str:
    return f"{section}[{json.dumps(name)}]" + "".join(f".{r}" for r in rest)


def _entry_diff(section: str, olds: Mapping[str, UserEntry | TeamEntry],
                news: Mapping[str, UserEntry | TeamEntry], name_field: str) -> DetailedDiff:
    out: DetailedDiff = {}
    for k in news.keys() - olds.keys():
        out[_path(section, k)] = "add"
    for k in olds.keys() - news.keys():
        out[_path(section, k)] = "delete"
    for k in news.keys() & olds.keys():
        old, new = olds[k], news[k]
        for name in (name_field, *METADATA_FIELDS):
            before, after = getattr(old, name), getattr(new, name)
            if name == name_field:  # a login's case is not a change (GitHub compares it case-insensitively)
                before, after = key(before) or None, key(after) or None
            if (before or None) != (after or None):
                out[_path(section, k, name)] = "add" if not before else "delete" if not after else "update"
    return out


def checked_inputs(olds: Mapping[str, Any] | None, inputs: SeatsInputs) -> tuple[SeatsInputs, GuardVerdict]:
    """What ``check`` makes of a run's inputs given the last applied ones (``olds``: the state's
    inputs, ``None``/``{}`` for a new stack): the planned revocations, grants and memory, and the
    guard's verdict. Pure, so ``copilot-seats pr-comment`` derives the very plan the preview runs."""
    previous = previous_roster(olds)
    old = SeatsInputs.from_props(olds) if olds and not legacy.is_legacy_roster(olds) else None
    _, revoking, verdict = _plan(previous, inputs)
    # a team-only seat is granted directly once, then remembered (GitHub may keep listing it
    # through the team): the repair is not repeated while the login stays declared
    before = (old.granted_directly if old is not None else frozenset()) & frozenset(inputs.users)
    grants = {k: r for k, r in inputs.grant_users.items() if not (r.kind == "grant-direct" and k in before)}
    directly = before | {k for k, r in grants.items() if r.kind == "grant-direct"}
    checked = replace(inputs, revoking=revoking, remembered=_remembered(old, inputs), grant_users=grants,
                      grant_teams={**_new_teams(previous, inputs), **inputs.grant_teams},
                      granted_directly=frozenset(directly))
    return checked, verdict


def _outputs(inputs: SeatsInputs, last_run: dict[str, Any]) -> dict[str, Any]:
    return {"organization": inputs.organization, "managed_users": sorted(inputs.users),
            "managed_teams": sorted(inputs.teams), "declared_count": inputs.declared_count, "last_run": last_run}


class SeatsHandler(Handler):
    """One organization's seats (see the module docstring)."""

    tokens = (SEATS.token,)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        checked, verdict = checked_inputs(olds, SeatsInputs.from_props(news))
        return checked.to_props(), ([] if verdict.ok else [("", verdict.message)])

    def diff(self, old_inputs: dict[str, Any], news: dict[str, Any]) -> DetailedDiff:
        new = SeatsInputs.from_props(news)
        if legacy.is_legacy_roster(old_inputs):
            old = SeatsInputs(str(old_inputs.get("organization") or ""))
        else:
            old = SeatsInputs.from_props(old_inputs)
        out = _entry_diff("users", old.users, new.users, "login")
        out |= _entry_diff("teams", old.teams, new.teams, "team")
        out |= {_path("grants.users", k): "add" for k in new.grant_users}
        out |= {_path("grants.teams", k): "add" for k in new.grant_teams}
        out |= {_path("revoking.users", k): "add" for k in new.revoking.users}
        out |= {_path("revoking.teams", k): "add" for k in new.revoking.teams}
        if key(old.organization) != key(new.organization):
            out["organization"] = "update"
        if old.mode != new.mode:
            out["mode"] = "update"
        return out

    async def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        inputs = SeatsInputs.from_props(props)
        return key(inputs.organization), await self._apply(ctx, None, inputs)

    async def update(self, ctx: Context, id_: str, old_inputs: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        return await self._apply(ctx, previous_roster(old_inputs), SeatsInputs.from_props(news))

    async def read(self, ctx: Context, id_: str, props: dict[str, Any],
                   inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if props:  # refresh: the record is what the stack manages, not something GitHub holds
            return props, inputs
        org = id_.strip()
        if not org or "/" in org:
            raise ProviderError(f"invalid id {id_!r}: expected the organization's login "
                                "(pulumi import copilot:index:Seats seats <organization>)")
        snapshot = await ctx.run(ctx.session.snapshot, org)
        record = _adopted(snapshot)
        return _outputs(record, {}), record.to_props()

    async def delete(self, ctx: Context, id_: str, props: dict[str, Any], old_inputs: dict[str, Any]) -> None:
        settings = await ctx.run(ctx.session.settings, ctx.stack(props))
        roster = previous_roster(props) or previous_roster(old_inputs)
        if settings.on_delete is OnDelete.FORGET or roster is None:
            return
        users, teams = ctx.claims(roster.organization)
        kept = Roster(roster.organization, roster.users - users, roster.teams - teams, roster.declared_count)
        snapshot = await ctx.run(ctx.session.snapshot, roster.organization, True)
        plan = destroy_revocations(kept, snapshot)
        verdict = guard_verdict(plan, roster, roster, settings, action="destroy")
        if not verdict.ok:
            raise ProviderError(verdict.message + " Nothing was revoked.")
        approval = approve(verdict, plan, roster.organization)
        await self._revoke(ctx, roster.organization, plan, approval)
        await self._verify(ctx, roster.organization, (), plan, users)

    # -- writes ---------------------------------------------------------------------------------

    async def _apply(self, ctx: Context, previous: Roster | None, inputs: SeatsInputs) -> dict[str, Any]:
        """Grant, then revoke what this operation's own guard verdict approves, then verify."""
        org = inputs.organization
        plan, _, verdict = _plan(previous, inputs)
        if not verdict.ok:
            raise ProviderError(verdict.message + " Nothing was written.")
        approval = approve(verdict, plan, org)
        ctx.claim(org, inputs.users, inputs.teams)
        session = ctx.session
        spelled = {k: (e.login or k) for k, e in inputs.users.items()}
        granted = sorted(spelled.get(k, k) for k in inputs.grant_users)
        if granted:
            raise_failures("grant a seat to", await ctx.run(session.grant_users, org, granted), granted)
        teams = sorted((inputs.teams[k].team if k in inputs.teams else k) for k in inputs.grant_teams)
        if teams:
            raise_failures("grant seats to team", await ctx.run(session.grant_teams, org, teams), teams)
        await self._revoke(ctx, org, plan, approval)
        declared = frozenset(inputs.users)
        found = await self._verify(ctx, org, granted, plan, declared,
                                   record_roster(inputs) if inputs.mode == "authoritative" else None)
        revoked = plan
        extra = RevocationPlan(found.users - revoked.users,
                               {t: n for t, n in found.teams.items() if t not in revoked.teams})
        budget = verdict.limit - plan.seat_count
        rounds = 1
        while extra.seat_count:
            # authoritative: revoking a direct grant can reveal a team seat outside seats.yaml too
            if extra.seat_count > budget and not inputs.guard.allow_mass_removal:
                raise ProviderError(
                    f"after revoking the planned seats, GitHub lists {extra.seat_count} more outside seats.yaml "
                    f"(held through {', '.join(sorted(extra.teams)) or 'direct grants'} besides the revoked "
                    "grants), more than the guard allows in this run; run `pulumi up` again to revoke them "
                    "under the guard, or allow it with COPILOT_SEATS_ALLOW_MASS_REMOVAL=1")
            if rounds >= _MAX_ROUNDS:
                raise ProviderError("seats outside seats.yaml keep reappearing after revocation; "
                                    f"stopped after {_MAX_ROUNDS} rounds")
            budget -= extra.seat_count
            approval = approval.extend(extra)
            await self._revoke(ctx, org, extra, approval)
            found = await self._verify(ctx, org, (), extra, declared, record_roster(inputs))
            extra = RevocationPlan(found.users - revoked.users,
                                   {t: n for t, n in found.teams.items() if t not in revoked.teams})
            revoked = RevocationPlan(revoked.users | extra.users, {**revoked.teams, **extra.teams})
            rounds += 1
        return _outputs(inputs, {"run_id": inputs.run_id, "granted_users": len(granted), "granted_teams": len(teams),
                                 "revoked_users": sorted(revoked.users), "revoked_teams": dict(revoked.teams),
                                 "revoked_seats": revoked.seat_count})

    @staticmethod
    async def _revoke(ctx: Context, org: str, plan: RevocationPlan, approval: Approval) -> None:
        """Teams first, then direct grants, in batches of 100; a refusal fails the operation."""
        session = ctx.session
        if plan.teams:
            teams = sorted(plan.teams)
            raise_failures("revoke the seats of team", await ctx.run(session.revoke_teams, org, teams, approval),
                           teams)
        if plan.users:
            users = sorted(plan.users)
            raise_failures("revoke the seat of", await ctx.run(session.revoke_users, org, users, approval), users)

    @staticmethod
    async def _verify(ctx: Context, org: str, granted: tuple[str, ...] | list[str], plan: RevocationPlan,
                      keeping: frozenset[str], outside_of: Roster | None = None) -> RevocationPlan:
        """Read the listing again: a write counts as done only when GitHub shows it done.

        Returns, when ``outside_of`` is given (authoritative mode), the seats still held outside it.
        """
        if not granted and not plan.seat_count and outside_of is None:
            return RevocationPlan()
        snapshot = await ctx.run(ctx.session.snapshot, org, True)
        problems = _not_done(snapshot, granted, plan, keeping)
        if problems:
            shown = "; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
            raise ProviderError(f"GitHub does not show {len(problems)} write(s) of this run as done: {shown}. "
                                "Nothing is recorded as applied; run `pulumi up` again")
        if outside_of is None:
            return RevocationPlan()
        return authoritative_revocations(outside_of, live_view(snapshot, outside_of.users))


def _not_done(snapshot: LiveSnapshot, granted: tuple[str, ...] | list[str], plan: RevocationPlan,
              keeping: frozenset[str]) -> list[str]:
    """What GitHub does not show as done; ``keeping``: logins that keep their seat on purpose."""
    out = [f"{login}: no active seat after the grant" for login in granted
           if not active(snapshot.seats.get(login.casefold()))]
    out += [f"{login}: still holds a direct seat after the revocation" for login in sorted(plan.users)
            if held(snapshot.seats.get(login.casefold())) is Held.DIRECT]
    for team in sorted(plan.teams):
        still = [s.login for s in snapshot.seats.values()
                 if s.assigning_team == team.casefold() and active(s) and s.key not in keeping]
        if still:
            out.append(f"team {team}: {len(still)} seat(s) still active after the revocation")
    return out


def _adopted(snapshot: LiveSnapshot) -> SeatsInputs:
    """The record ``pulumi import`` adopts: every active direct seat as a user, every team that
    seats someone as a team (entries without owner or reason until seats.yaml gives them)."""
    users: dict[str, UserEntry] = {}
    teams: dict[str, TeamEntry] = {}
    count = 0
    for k, seat in snapshot.seats.items():
        if not active(seat):
            continue
        count += 1
        if seat.assigning_team:
            teams.setdefault(seat.assigning_team, TeamEntry(team=seat.assigning_team))
        else:
            users[k] = UserEntry(login=seat.login)
    return SeatsInputs(snapshot.organization, users=users, teams=teams, declared_count=count)
