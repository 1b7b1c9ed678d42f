"""What a ``pulumi preview --json`` of the seats program plans, as reviewable facts.

The pinned engine (3.78.1) writes no policy events into ``--json`` output, so the violations
are judged here by the very rules the pack runs (:data:`copilot_seats.policies.catalog.RULES`), over the
same resource inputs the preview recorded, with the same configuration format
(``--policy-pack-config`` JSON). One judgment, one place: this module only selects inputs and
groups results; it decides nothing itself.

Everything here is pure: :func:`parse_preview` turns the preview document into a
:class:`PreviewPlan`, :func:`judge` runs the rules over it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from copilot_seats.policies.catalog import RULES
from copilot_seats.policies.config import DISABLED, ORGANIZATION_TYPE, POLICIES, ROSTER_TYPE, SEAT_TYPE, TEAM_TYPE
from copilot_seats.policies.rules import UNKNOWN, Violation

__all__ = [
    "Change",
    "Finding",
    "PreviewPlan",
    "judge",
    "parse_preview",
]

_METADATA = ("owner", "reason", "expires", "cost_center", "stale_exemption_reason", "stale_exemption_until")
"""Desired fields a reviewer sees change (login and organization changes are replacements)."""

_CREATES = {"create", "import"}
_DELETES = {"delete", "discard"}
_CHANGES = {"update", "replace"}
"""Step ops that are one change each; create-replacement/delete-replaced halves of a replace,
same, read and refresh steps are not changes a reviewer approves."""


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
    :param organization: the Organization resource's inputs (live counts, cost), or ``{}``.
    :param errors: error diagnostics (e.g. the mass-removal guard); a failed preview.
    :param warnings: warning diagnostics (e.g. seats.yaml warnings), deduplicated.
    """

    changes: tuple[Change, ...] = ()
    resources: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    organization: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

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


def _text(props: Mapping[str, Any], key: str) -> str:
    value = props.get(key)
    return value if isinstance(value, str) and value != UNKNOWN_STRING_VALUE else ""


def _state(step: Mapping[str, Any], which: str) -> Mapping[str, Any]:
    state = step.get(which)
    if not isinstance(state, Mapping):
        return {}
    props = state.get("inputs") or state.get("outputs") or {}
    return props if isinstance(props, Mapping) else {}


def _name(step: Mapping[str, Any]) -> tuple[str, str]:
    urn = str(step.get("urn", ""))
    rtype, _, name = urn.rpartition("::")
    return rtype.rpartition("::")[2], name


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    parts = []
    if _text(old, "login").casefold() == _text(new, "login").casefold() and _text(old, "login") != _text(new, "login"):
        parts.append(f"login spelled {_text(new, 'login')} (was {_text(old, 'login')})")
    for key in _METADATA:
        if (old.get(key) or "") != (new.get(key) or ""):
            parts.append(f"{key}: {old.get(key) or '-'} → {new.get(key) or '-'}")
    return "; ".join(parts)


def _change(step: Mapping[str, Any], forget: bool) -> Change | None:
    """The change one Seat/TeamGrant step makes (names as seats.yaml spells them).

    An update is a grant when the program planned a *repair* (GitHub does not show the declared
    seat as held); a delete with ``onDelete: forget`` only stops managing the seat.
    """
    op = str(step.get("op", ""))
    rtype, name = _name(step)
    if rtype not in (SEAT_TYPE, TEAM_TYPE):
        return None
    old, new = _state(step, "oldState"), _state(step, "newState")
    kind, field_name = ("team", "team") if rtype == TEAM_TYPE else ("user", "login")
    shown = _text(new, field_name) or _text(old, field_name) or name
    if op in _CREATES or (op in _CHANGES and _text(new, "repair")):
        live = kind == "user" and new.get("live") is True
        pending = live and bool(new.get("pending_cancellation_date"))
        repair = _text(new, "repair") if op in _CHANGES else ""
        return Change("grant", kind, shown, _text(new, "owner"), _text(new, "reason"), repair,
                      held=live and not pending and not _text(new, "repair"), pending=pending)
    if op in _DELETES:
        if forget:
            return Change("change", kind, shown, _text(old, "owner"), _text(old, "reason"),
                          "entry removed; onDelete: forget - no longer managed, the seat is kept")
        return Change("revoke", kind, shown, _text(old, "owner"), _text(old, "reason"),
                      "entry removed from seats.yaml")
    if op in _CHANGES:
        return Change("change", kind, shown, _text(new, "owner"), _text(new, "reason"),
                      _changed_fields(old, new) or "updated")
    return None


def _authoritative(roster: Mapping[str, Any], spelled: Mapping[str, str]) -> list[Change]:
    """The seats the Roster revokes in authoritative mode (``revoke`` input: keys and team counts)."""
    plan = roster.get("revoke")
    if not isinstance(plan, Mapping):
        return []
    why = "held outside seats.yaml (authoritative mode)"
    out = [Change("revoke", "user", spelled.get(str(key), str(key)), detail=why) for key in plan.get("users") or ()]
    teams = plan.get("teams") or {}
    if isinstance(teams, Mapping):
        out += [Change("revoke", "team", str(slug), detail=f"{why}; {count} seat(s) through it",
                       seats=int(count) if isinstance(count, int) else 0)
                for slug, count in teams.items()]
    return out


def _diagnostics(data: Mapping[str, Any], severity: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for diag in data.get("diagnostics") or ():
        if isinstance(diag, Mapping) and diag.get("severity") == severity:
            message = str(diag.get("message", "")).strip()
            for prefix in ("error: ", "warning: "):
                message = message.removeprefix(prefix)
            if message:
                seen.setdefault(message, None)
    return tuple(seen)


def parse_preview(data: Mapping[str, Any]) -> PreviewPlan:
    """The plan of a ``pulumi preview --json`` document (unknown shapes are skipped, not fatal)."""
    steps = [s for s in data.get("steps") or () if isinstance(s, Mapping)]
    resources: list[tuple[str, Mapping[str, Any]]] = []
    organization: Mapping[str, Any] = {}
    roster: Mapping[str, Any] = {}
    for step in steps:
        op = str(step.get("op", ""))
        rtype, _ = _name(step)
        if op in _DELETES or op in ("delete-replaced", "create-replacement"):
            continue  # a replace step carries the same new inputs
        inputs = _known(dict(_state(step, "newState")))
        resources.append((rtype, inputs))
        if rtype == ORGANIZATION_TYPE:
            organization = inputs
        elif rtype == ROSTER_TYPE:
            roster = inputs
    forget = organization.get("on_delete") == "forget"
    changes = [c for c in (_change(s, forget) for s in steps) if c is not None]
    spelled = {str(u.get("login", "")).casefold(): str(u.get("login")) for u in organization.get("unmanaged") or ()
               if isinstance(u, Mapping)}
    changes += _authoritative(roster, spelled)
    order = {"grant": 0, "revoke": 1, "change": 2}
    changes.sort(key=lambda c: (order[c.action], c.kind, c.name.casefold()))
    return PreviewPlan(tuple(changes), tuple(resources), organization,
                       _diagnostics(data, "error"), _diagnostics(data, "warning"))


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
