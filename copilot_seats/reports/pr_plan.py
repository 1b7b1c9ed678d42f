"""What a ``pulumi preview --json`` of the seats program plans, as reviewable facts.

The pinned engine (3.78.1) writes no policy events into ``--json`` output, so the violations
are judged here by the very rules the pack runs (:data:`copilot_seats.policies.catalog.RULES`), over the
same resource inputs the preview recorded, with the same configuration format
(``--policy-pack-config`` JSON). One judgment, one place: this module only selects inputs and
groups results; it decides nothing itself.

Everything here is pure: :func:`parse_preview` turns the preview document into a
:class:`PreviewPlan`, :func:`derive_plan` computes the same plan without the engine (the PR's
seats.yaml, one live listing, the last applied record from ``pulumi stack export`` and the
stack's settings, through the program's model and the provider's own ``check``), :func:`judge`
runs the rules over either. The comment leads with the derived plan, because the engine's
``--json`` leaves out a resource whose inputs did not change and shows no step at all when the
guard refuses; :func:`disagreement` cross-checks it against the preview's steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from copilot_seats.decisions.planning import GuardVerdict
from copilot_seats.decisions.run_settings import RunSettings
from copilot_seats.desired.spec import SeatSpec
from copilot_seats.github.live import LiveSnapshot
from copilot_seats.policies.catalog import RULES, org_view
from copilot_seats.policies.config import DISABLED, POLICIES, SEATS_TYPE
from copilot_seats.policies.rules import UNKNOWN, Violation
from copilot_seats.provider.contract import SeatsInputs, TeamEntry, UserEntry
from copilot_seats.provider.seats import checked_inputs
from copilot_seats.stack.model import RunOptions, build_stack

__all__ = [
    "Change",
    "Finding",
    "PreviewPlan",
    "derive_plan",
    "disagreement",
    "judge",
    "parse_preview",
    "previous_inputs",
]

_DELETES = {"delete", "discard"}
"""Step ops that drop the Seats record (a destroy or a rename): every seat it managed leaves."""

@dataclass(frozen=True)
class Change:
    """One planned seat change.

    :param action: ``grant``, ``revoke`` or ``change`` (metadata or login spelling).
    :param kind: ``user`` or ``team``.
    :param name: login or team slug as seats.yaml (or GitHub, for revocations) spells it.
    :param owner: who is accountable (seats.yaml ``owner``); for a revocation, the old entry's.
    :param reason: seats.yaml ``reason`` (new for grants and changes, old for revocations).
    :param detail: what else a reviewer needs: changed fields, "held outside seats.yaml", ...
    :param seats: for a team revocation, the seats held through the team (else 0).
    :param held: for a user grant, the preview observed a live seat not pending cancellation
        (a first ``up`` then only records it in the stack).
    :param pending: for a user grant, the preview observed a seat pending cancellation (the
        grant calls the cancellation off).
    """

    action: str
    kind: str
    name: str
    owner: str = ""
    reason: str = ""
    detail: str = ""
    seats: int = 0
    held: bool = False
    pending: bool = False


@dataclass(frozen=True)
class Finding:
    """One policy violation, with the policy's enforcement level."""

    policy: str
    enforcement: str
    subject: str
    message: str


@dataclass(frozen=True)
class PreviewPlan:
    """The changes of a preview, the inputs the pack judged, and the engine's diagnostics.

    :param resources: ``(type, inputs)`` of every resource the preview declares (not deleted),
        unknown values replaced by :data:`copilot_seats.policies.rules.UNKNOWN`.
    :param organization: the org-level view of the Seats resource (live counts, cost), or ``{}``.
    :param errors: error diagnostics (e.g. the mass-removal guard); a failed preview.
    :param warnings: warning diagnostics (e.g. seats.yaml warnings), deduplicated.
    :param verdict: the guard's verdict on the plan (a derived plan only).
    :param seats_step: the preview had a Seats step (its ``--json`` leaves out unchanged ones).
    """

    changes: tuple[Change, ...] = ()
    resources: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    organization: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    verdict: GuardVerdict | None = None
    seats_step: bool = False

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


def _known(value: Any) -> Any:
    """``value`` with the engine's unknown sentinel replaced by :data:`UNKNOWN` (recursively)."""
    if value == UNKNOWN_STRING_VALUE:
        return UNKNOWN
    if isinstance(value, Mapping):
        return {k: _known(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known(v) for v in value]
    return value


def _state(step: Mapping[str, Any], which: str) -> Mapping[str, Any]:
    state = step.get(which)
    if not isinstance(state, Mapping):
        return {}
    props = state.get("inputs") or state.get("outputs") or {}
    return props if isinstance(props, Mapping) else {}


def _type(step: Mapping[str, Any]) -> str:
    rtype, _, _name = str(step.get("urn", "")).rpartition("::")
    return rtype.rpartition("::")[2]


def _fields(entry: UserEntry | TeamEntry) -> dict[str, str | None]:
    return entry.metadata()


def _changed_fields(old: UserEntry | TeamEntry, new: UserEntry | TeamEntry) -> str:
    """The metadata that changed (a login's letter case is not a change: the provider's diff agrees)."""
    parts = []
    for key, value in _fields(new).items():
        was = _fields(old)[key]
        if (was or "") != (value or ""):
            parts.append(f"{key}: {was or '-'} → {value or '-'}")
    return "; ".join(parts)


def _changes(old: SeatsInputs, new: SeatsInputs) -> list[Change]:
    """Every seat change the Seats step plans: grants (planned writes, and entries adopted as
    held), revocations (the check's plan), entries forgotten and metadata changes."""
    out: list[Change] = []
    forget = new.guard.on_delete.value == "forget"
    for k, entry in new.users.items():
        repair = new.grant_users.get(k)
        seen = new.observed_users.get(k)
        if repair is not None:
            out.append(Change("grant", "user", entry.login or k, entry.owner or "", entry.reason or "", repair.reason,
                              pending=repair.kind == "re-grant"))
        elif k not in old.users:
            out.append(Change("grant", "user", entry.login or k, entry.owner or "", entry.reason or "",
                              held=bool(seen and seen.created_at),
                              pending=bool(seen and seen.pending_cancellation_date)))
        elif (detail := _changed_fields(old.users[k], entry)):
            out.append(Change("change", "user", entry.login or k, entry.owner or "", entry.reason or "", detail))
    for k, team in new.teams.items():
        seen_team = new.observed_teams.get(k)
        seats = len(seen_team.members) if seen_team else 0
        if k in new.grant_teams:
            out.append(Change("grant", "team", team.team or k, team.owner or "", team.reason or "",
                              new.grant_teams[k].reason))
        elif k not in old.teams:
            out.append(Change("grant", "team", team.team or k, team.owner or "", team.reason or "",
                              f"already seats {seats} (recorded only)", held=True))
        elif (detail := _changed_fields(old.teams[k], team)):
            out.append(Change("change", "team", team.team or k, team.owner or "", team.reason or "", detail))
    spelled = {login.casefold(): login for login, _team in new.org.unmanaged}
    for k, why in new.revoking.users.items():
        was = old.users.get(k) or UserEntry()
        out.append(Change("revoke", "user", was.login or spelled.get(k, k), was.owner or "", was.reason or "",
                          why or "entry removed from seats.yaml"))
    for k, count in new.revoking.teams.items():
        was_team = old.teams.get(k) or TeamEntry()
        why = "entry removed from seats.yaml" if k in old.teams else "held outside seats.yaml (authoritative mode)"
        out.append(Change("revoke", "team", was_team.team or k, was_team.owner or "", was_team.reason or "",
                          f"{why}; {count} seat(s) through it", seats=count))
    if forget:
        for k in old.users.keys() - new.users.keys():
            was = old.users[k]
            out.append(Change("change", "user", was.login or k, was.owner or "", was.reason or "",
                              "entry removed; onDelete: forget - no longer managed, the seat is kept"))
        for k in old.teams.keys() - new.teams.keys():
            was_team = old.teams[k]
            out.append(Change("change", "team", was_team.team or k, was_team.owner or "", was_team.reason or "",
                              "entry removed; onDelete: forget - no longer managed, the seats are kept"))
    return out


def _old_record(props: Mapping[str, Any], new: SeatsInputs | None = None) -> SeatsInputs:
    """The previous record: a Seats resource's, or (an upgrading stack) 0.1's Roster keys. The
    Roster recorded no metadata: an entry ``new`` still declares is taken as unchanged."""
    if "roster_users" in props:
        users, teams = (new.users, new.teams) if new is not None else ({}, {})
        return SeatsInputs(str(props.get("organization") or ""),
                           users={k: users.get(k) or UserEntry(login=k)
                                  for k in (str(u).casefold() for u in props.get("roster_users") or ())},
                           teams={k: teams.get(k) or TeamEntry(team=k)
                                  for k in (str(t).casefold() for t in props.get("roster_teams") or ())})
    return SeatsInputs.from_props(props) if props else SeatsInputs("")


def _sorted(changes: list[Change]) -> tuple[Change, ...]:
    order = {"grant": 0, "revoke": 1, "change": 2}
    return tuple(sorted(changes, key=lambda c: (order[c.action], c.kind, c.name.casefold())))


def derive_plan(spec: SeatSpec, snapshot: LiveSnapshot, applied: Mapping[str, Any] | None,
                settings: RunSettings, now: datetime) -> PreviewPlan:
    """The plan a preview of ``spec`` runs, computed without the engine.

    :param applied: the Seats resource's inputs as the stack last applied them (or 0.1's Roster
        inputs; ``None`` for a new stack): the guard's "last applied record".
    :param settings: the stack's settings (thresholds, allowances), as the program reads them.
    """
    model = build_stack(spec, snapshot, now, RunOptions(settings=settings))
    checked, verdict = checked_inputs(applied, model.seats)
    props = checked.to_props()
    return PreviewPlan(_sorted(_changes(_old_record(applied or {}, checked), checked)), ((SEATS_TYPE, props),),
                       next(org_view(checked)), verdict=verdict)


def disagreement(derived: PreviewPlan, preview: PreviewPlan) -> str:
    """How the preview's own steps differ from ``derived`` ("" when they agree or cannot be
    compared: the preview failed, or showed no Seats step for a derived plan without changes)."""
    if preview.errors:
        return ""
    mine = {(c.action, c.kind, c.name.casefold()) for c in derived.changes}
    theirs = {(c.action, c.kind, c.name.casefold()) for c in preview.changes}
    if mine == theirs:
        return ""
    only_here, only_there = sorted(mine - theirs), sorted(theirs - mine)

    def named(items: list[tuple[str, str, str]]) -> str:
        shown = ", ".join(f"{a} {'team ' if k == 'team' else ''}{n}" for a, k, n in items[:5])
        return shown + (f" and {len(items) - 5} more" if len(items) > 5 else "")

    parts = ([f"{len(only_here)} change(s) only in this comment ({named(only_here)})"] if only_here else [])
    parts += [f"{len(only_there)} only in the preview ({named(only_there)})"] if only_there else []
    return ("The preview's own plan differs from this comment's: " + "; ".join(parts) +
            ". GitHub's seats may have changed between the two readings; `pulumi up` plans again when it runs.")


_FOLLOW_ON = ("Resource monitor has terminated, shutting down",)
"""What the program's SDK reports when the engine stops after another resource's error (current
engines, racily): a consequence, never a cause, so the comment leaves it out."""


_ENGINE_WRAPPING = re.compile(
    r"^(?:[\w.:/-]+ resource '[^']*' has a problem|property \S+ value \{[^}]*\} has a problem)(?: \(\S+\))?: ")
"""How the engine wraps a provider's check failure (``copilot:index:Seats resource 'seats' has a
problem: ...``; older engines ``property X value {<nil>} has a problem: ...``): not the reviewer's business."""


def _diagnostics(data: Mapping[str, Any], severity: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for diag in data.get("diagnostics") or ():
        if isinstance(diag, Mapping) and diag.get("severity") == severity:
            message = str(diag.get("message", "")).strip()
            for prefix in ("error: ", "warning: "):
                message = message.removeprefix(prefix)
            message = _ENGINE_WRAPPING.sub("", message)
            if message and message not in _FOLLOW_ON:
                seen.setdefault(message, None)
    return tuple(seen)


def _seats_steps(data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for step in (s for s in data.get("steps") or () if isinstance(s, Mapping)):
        if _type(step) == SEATS_TYPE and str(step.get("op", "")) not in ("delete-replaced", "create-replacement"):
            yield step


def previous_inputs(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The last applied Seats inputs a ``pulumi preview --json`` document shows (its Seats step's
    old state), ``None`` when the step creates the record."""
    for step in _seats_steps(data):
        old = _state(step, "oldState")
        return dict(old) if old else None
    return None


def parse_preview(data: Mapping[str, Any]) -> PreviewPlan:
    """The plan of a ``pulumi preview --json`` document (unknown shapes are skipped, not fatal)."""
    resources: list[tuple[str, Mapping[str, Any]]] = []
    organization: Mapping[str, Any] = {}
    changes: list[Change] = []
    for step in _seats_steps(data):
        if str(step.get("op", "")) in _DELETES:
            old = _old_record(_state(step, "oldState"))
            changes += [Change("revoke", "user", e.login or k, e.owner or "", e.reason or "", "the Seats record leaves")
                        for k, e in old.users.items()]
            continue
        inputs = _known(dict(_state(step, "newState")))
        resources.append((SEATS_TYPE, inputs))
        try:
            new = SeatsInputs.from_props(inputs)
        except (TypeError, ValueError, AttributeError):
            continue
        organization = next(org_view(new))
        changes += _changes(_old_record(_state(step, "oldState"), new), new)
    return PreviewPlan(_sorted(changes), tuple(resources), organization,
                       _diagnostics(data, "error"), _diagnostics(data, "warning"), seats_step=bool(resources))


def _config(pack_config: Mapping[str, Any], policy: str, default: str) -> tuple[str, Mapping[str, Any]]:
    """(enforcement, settings) of ``policy`` from a ``--policy-pack-config`` document."""
    entry = pack_config.get(policy)
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, Mapping):
        return str(entry.get("enforcementLevel", default)), entry
    return default, {}


def judge(plan: PreviewPlan, now: datetime, pack_config: Mapping[str, Any] | None = None) -> Iterator[Finding]:
    """Every determined violation of every enabled policy, in pack order then resource order."""
    for spec in POLICIES:
        enforcement, settings = _config(pack_config or {}, spec.name, spec.enforcement)
        if enforcement == DISABLED:
            continue
        rules = RULES[spec.name]
        for rtype, props in plan.resources:
            rule = rules.get(rtype)
            if rule is None:
                continue
            found: Violation
            for found in rule(props, settings, now):
                if found.determined:
                    yield Finding(spec.name, enforcement, found.subject, found.message)
