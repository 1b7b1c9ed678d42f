"""Large simulated organizations and the preview documents the program would produce for them.

:func:`scale_fixture` is a simulator fixture of N direct seats with a realistic spread of
activity (a fifth never used or idle past GitHub's retention, some stale, most active).
:func:`preview_document` builds the ``pulumi preview --json`` document of a pull request
without the engine: the one Seats resource's inputs come from
:func:`copilot_seats.stack.model.build_stack` (what the program declares) passed through the
provider's own ``check`` against the last applied record (which plans the revocations and runs
the guard), the op from the provider's ``diff`` (create, update, same). Used where the engine
would be too slow (10,000 seats); tests/test_pr_comment_e2e.py checks the same path on the real
engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copilot_seats.decisions.run_settings import RunSettings
from copilot_seats.desired.spec import SeatSpec, UserGrant
from copilot_seats.github.live import LiveSnapshot
from copilot_seats.policies.config import SEATS_TYPE
from copilot_seats.provider.contract import SEATS_NAME, SeatsInputs
from copilot_seats.provider.seats import SeatsHandler
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


_URN = f"urn:pulumi:prod::copilot-seats::{SEATS_TYPE}::{SEATS_NAME}"


def _state(inputs: dict[str, Any]) -> dict[str, Any]:
    record = SeatsInputs.from_props(inputs)
    outputs = {"organization": record.organization, "managed_users": sorted(record.users),
               "managed_teams": sorted(record.teams), "declared_count": record.declared_count}
    return {"urn": _URN, "type": SEATS_TYPE, "inputs": inputs, "outputs": outputs}


def preview_document(base: SeatSpec | None, pr: SeatSpec, snapshot: LiveSnapshot, now: datetime,
                     settings: RunSettings | None = None) -> dict[str, Any]:
    """The preview of ``pr`` on a stack last applied with ``base`` (``None``: a new stack).

    The guard refusing the plan fails the preview as the engine does: its message is an error
    diagnostic and the Seats resource plans no step.
    """
    handler = SeatsHandler()
    options = RunOptions(settings=settings or RunSettings(), run_id="pr")
    olds: dict[str, Any] = {}
    if base is not None:
        olds, _ = handler.check({}, build_stack(base, snapshot, now, options).seats.to_props())
    news, failures = handler.check(olds, build_stack(pr, snapshot, now, options).seats.to_props())
    diagnostics = [{"urn": _URN, "severity": "error", "message": f"error: {reason}\n"} for _, reason in failures]
    steps: list[dict[str, Any]] = []
    if not failures:
        op = "create" if not olds else "update" if handler.diff(olds, news) else "same"
        step: dict[str, Any] = {"op": op, "urn": _URN, "newState": _state(news)}
        if olds:
            step["oldState"] = _state(olds)
        steps.append(step)
    return {"config": {}, "steps": steps, "diagnostics": diagnostics,
            "changeSummary": {step["op"]: 1 for step in steps}}
