"""Policy rules over the Organization record: seats outside seats.yaml, the seat budget, and
the org's Copilot access setting (see :mod:`copilot_seats.policies.rules` for the contract)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from copilot_seats.desired.spec import normalize_login
from copilot_seats.policies.config import setting
from copilot_seats.policies.rules import Props, Violation, _cannot_judge, _subject

__all__ = ["seat_budget", "seat_management_setting", "unmanaged_seats"]


# --- Organization resource --------------------------------------------------------------------

_SUMMARY_LIST = 50
"""How many logins a summary violation names before "and N more"."""


def unmanaged_seats(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``unmanaged-seat``: seats held outside seats.yaml, one violation per direct seat (or one
    summary above ``summarizeAbove``) and one per undeclared team (listing its seat holders).
    Reads ``unmanaged`` (from analysis.compare) and ``revoking`` (the guard's plan): in additive
    mode a seat this run revokes because its entry was removed is not reported as unmanaged."""
    org = _subject(props)
    blocked = _cannot_judge("unmanaged-seat", org, props, ("unmanaged", "mode"))
    if blocked is not None:
        yield blocked
        return
    authoritative = props.get("mode") == "authoritative"
    fate = ("authoritative mode: `pulumi up` revokes it" if authoritative
            else "additive mode: reported only; declare it in seats.yaml or revoke it")
    planned = props.get("revoking")
    revoking: Mapping[str, Any] = planned if isinstance(planned, Mapping) else {}
    leaving_users = {normalize_login(str(u)) for u in revoking.get("users") or ()}
    leaving_teams = {normalize_login(str(t)) for t in revoking.get("teams") or ()}
    by_team: dict[str, list[str]] = {}
    direct: list[str] = []
    for entry in props.get("unmanaged") or ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("login"), str):
            continue
        login, team = entry["login"], entry.get("assigning_team")
        if not authoritative and (normalize_login(login) in leaving_users or (
                isinstance(team, str) and normalize_login(team) in leaving_teams)):
            continue  # removed from seats.yaml in this change: the preview shows it being revoked
        if isinstance(team, str) and team:
            by_team.setdefault(team, []).append(login)
        else:
            direct.append(login)
    if len(direct) > setting(config, "unmanaged-seat", "summarizeAbove"):
        shown = ", ".join(direct[:_SUMMARY_LIST])
        more = f" and {len(direct) - _SUMMARY_LIST} more" if len(direct) > _SUMMARY_LIST else ""
        yield Violation("unmanaged-seat", f"{len(direct)} direct seats",
                        f"{len(direct)} direct seats: held in {org} by users not in seats.yaml "
                        f"({fate.replace(' it', ' them')}): "
                        f"{shown}{more}. `copilot-seats report` lists them all with their activity.",
                        tuple(direct))
    else:
        for login in direct:
            yield Violation("unmanaged-seat", login,
                            f"{login}: holds a Copilot seat directly in {org} but is not in seats.yaml "
                            f"({fate}).", (login,))
    for team, logins in sorted(by_team.items()):
        held = ", ".join(sorted(logins, key=normalize_login))
        yield Violation("unmanaged-seat", f"team {team}",
                        f"team {team}: not in seats.yaml but grants Copilot seats in {org} to "
                        f"{len(logins)} user(s): {held} ({fate.replace(' it', ' the team')}).",
                        tuple(logins))


def seat_budget(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``seat-budget``: declared seats above ``maxSeats``, or estimated cost above ``maxMonthlyCost``.

    Declared seats = ``declared_count`` when the resource carries it (analysis.compare's count:
    direct users plus live seats through declared teams), else ``declared_seats`` plus the live
    seats of each declared team (a double grant is then counted twice).
    """
    org = _subject(props)
    max_seats = setting(config, "seat-budget", "maxSeats")
    max_cost = setting(config, "seat-budget", "maxMonthlyCost")
    if max_seats is not None:
        blocked = _cannot_judge("seat-budget", org, props, ("declared_count", "declared_seats",
                                                            "declared_team_seats"))
        if blocked is not None:
            yield blocked
            return
        declared = props.get("declared_count")
        if not isinstance(declared, int | float):
            team_seats = props.get("declared_team_seats") or {}
            declared = int(props.get("declared_seats") or 0) + sum(
                int(v) for v in team_seats.values() if isinstance(v, int | float))
        if declared > max_seats:
            yield Violation("seat-budget", org, f"{org}: seats.yaml declares {int(declared)} seats, "
                            f"above the cap of {max_seats} (maxSeats).")
    if max_cost is not None:
        blocked = _cannot_judge("seat-budget", org, props, ("estimated_monthly_cost",))
        if blocked is not None:
            yield blocked
            return
        try:
            cost = Decimal(str(props.get("estimated_monthly_cost")))
        except InvalidOperation:
            yield Violation("seat-budget", org, f"{org}: cannot judge: estimated_monthly_cost is not a "
                            f"number ({props.get('estimated_monthly_cost')!r})")
            return
        cap = Decimal(str(max_cost))
        if cost > cap:
            yield Violation("seat-budget", org, f"{org}: estimated Copilot cost is {cost} USD/month "
                            f"for {props.get('live_seats', '?')} listed seats, above the cap of {cap} "
                            "USD (maxMonthlyCost).")


_SETTING_MEANING = {
    "assign_all": "every member gets a seat implicitly, so seats.yaml cannot be enforced and "
                  "grants/revokes fail with 422",
    "disabled": "Copilot is disabled for the organization",
    "unconfigured": "seat assignment is not configured; grants/revokes fail with 422",
}


def seat_management_setting(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``seat-management-setting``: the org must use ``assign_selected``."""
    org = _subject(props)
    blocked = _cannot_judge("seat-management-setting", org, props, ("seat_management_setting",))
    if blocked is not None:
        yield blocked
        return
    value = props.get("seat_management_setting")
    if value != "assign_selected":
        meaning = _SETTING_MEANING.get(str(value), "an unknown setting")
        yield Violation("seat-management-setting", org,
                        f"{org}: seat_management_setting is {value!r} ({meaning}); set Copilot access "
                        "to 'selected members' (assign_selected) in the organization's Copilot settings.")
