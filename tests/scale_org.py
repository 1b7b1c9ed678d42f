"""Large simulated organizations and the preview documents the program would produce for them.

:func:`scale_fixture` is a simulator fixture of N direct seats with a realistic spread of
activity (a fifth never used or idle past GitHub's retention, some stale, most active).
:func:`preview_document` builds the ``pulumi preview --json`` document of a pull request
without the engine: the resource inputs come from :func:`copilot_seats.stack.model.build_stack`
(what the program declares), the ops from the base and PR seats files (what the engine's
diff yields: create, delete, update on metadata, same). Used where the engine would be too slow
(10,000 seats); tests/test_pr_comment_e2e.py checks the same path on the real engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copilot_seats.desired.spec import SeatSpec, UserGrant
from copilot_seats.github.live import LiveSnapshot
from copilot_seats.policies.config import ORGANIZATION_TYPE, ROSTER_TYPE, SEAT_TYPE, TEAM_TYPE
from copilot_seats.provider.contract import SEAT
from copilot_seats.stack.model import RunOptions, build_stack

__all__ = ["login", "preview_document", "scale_fixture", "seats_yaml", "spec_of"]


def login(i: int) -> str:
    return f"dev-{i:05d}"


def scale_fixture(n: int, org: str = "bigco", *, emu: str = "") -> dict[str, Any]:
    """``n`` direct seats ``dev-00000``... (``_emu`` suffixed when given) with varied activity."""
    seats = []
    for i in range(n):
        activity = None if i % 5 == 0 else {"days_ago": (i * 7) % 120}
        seats.append({"login": login(i) + (f"_{emu}" if emu else ""), "created_at": {"days_ago": 30 + i % 400},
                      "last_activity_at": activity, "last_activity_editor": "vscode/1.99.0/copilot/1.300.0"})
    return {"organizations": [{"login": org, "seat_management_setting": "assign_selected",
                               "plan_type": "business", "seats": seats}]}


def seats_yaml(org: str, logins: list[str], owner: str = "eng", reason: str = "development",
               mode: str = "additive") -> str:
    lines = [f"organization: {org}", "settings:", f"  mode: {mode}", "users:"]
    lines += [f"  {name}:\n    owner: {owner}\n    reason: {reason}" for name in logins]
    return "\n".join(lines) + "\n"


def spec_of(org: str, logins: list[str], owner: str = "eng", reason: str = "development") -> SeatSpec:
    """The spec :func:`seats_yaml` describes, built directly (the loader is tested elsewhere;
    parsing 10,000 entries would dominate these tests)."""
    return SeatSpec(org, tuple(UserGrant(login=name, owner=owner, reason=reason) for name in logins))


def _urn(rtype: str, name: str) -> str:
    return f"urn:pulumi:prod::copilot-seats::{rtype}::{name}"


def _step(op: str, rtype: str, name: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    step: dict[str, Any] = {"op": op, "urn": _urn(rtype, name)}
    if new is not None:
        step["newState"] = {"urn": _urn(rtype, name), "type": rtype, "inputs": new}
    if old is not None:
        step["oldState"] = {"urn": _urn(rtype, name), "type": rtype, "inputs": old, "outputs": old}
    return step


def preview_document(base: SeatSpec | None, pr: SeatSpec, snapshot: LiveSnapshot, now: datetime) -> dict[str, Any]:
    """The preview of ``pr`` on a stack last applied with ``base`` (``None``: a new stack)."""
    options = RunOptions(stack="prod")
    new = build_stack(pr, snapshot, now, options)
    old = build_stack(base, snapshot, now, options) if base is not None else None
    org, roster = new.organization, new.roster
    assert roster is not None
    steps = [_step("same" if old else "create", ORGANIZATION_TYPE, org.name, org.props,
                   old.organization.props if old else None)]
    for rtype, new_items, old_items in ((SEAT_TYPE, new.seats, old.seats if old else ()),
                                        (TEAM_TYPE, new.teams, old.teams if old else ())):
        old_by_name = {d.name: d.props for d in old_items}
        for declared in new_items:
            before = old_by_name.pop(declared.name, None)
            if before is None:
                steps.append(_step("create", rtype, declared.name, declared.props, None))
            else:
                changed = any(declared.props.get(f) != before.get(f) for f in SEAT.desired_names)
                steps.append(_step("update" if changed else "same", rtype, declared.name, declared.props, before))
        steps += [_step("delete", rtype, name, None, props) for name, props in old_by_name.items()]
    steps.append(_step("update" if old else "create", ROSTER_TYPE, roster.name, roster.props,
                       old.roster.props if old and old.roster else None))
    summary: dict[str, int] = {}
    for step in steps:
        summary[step["op"]] = summary.get(step["op"], 0) + 1
    return {"config": {}, "steps": steps, "diagnostics": [], "changeSummary": summary}
