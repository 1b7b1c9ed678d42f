"""Which rule judges what for which policy: the one table the pack, the PR comment's policy
summary (:mod:`copilot_seats.reports.pr_plan`), the tests and the benchmark use.

The rules (:mod:`copilot_seats.policies.rules`, :mod:`copilot_seats.policies.org_rules`) judge one
seat, one team or the organization. The one ``copilot:index:Seats`` resource holds them all, so
this module reads its inputs as :class:`~copilot_seats.provider.contract.SeatsInputs` and hands
each rule the *view* it judges: one per declared user, one per declared team, one of the org.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from copilot_seats.policies import org_rules
from copilot_seats.policies.config import SEATS_TYPE
from copilot_seats.policies.rules import (
    UNKNOWN,
    Props,
    Rule,
    Violation,
    double_grant,
    expired_grant,
    missing_seat,
    missing_team_seats,
    stale_seat,
    stale_team_members,
)
from copilot_seats.provider.contract import SeatsInputs

__all__ = ["RULES", "org_view", "team_views", "user_views"]

View = Callable[[SeatsInputs], Iterator[Props]]


def user_views(seats: SeatsInputs) -> Iterator[Props]:
    """Each declared user as the per-seat rules read it: desired fields, observations, plan."""
    for k, entry in seats.users.items():
        seen = seats.observed_users.get(k)
        observed = {**seen.to_props(), "standing": seen.standing} if seen is not None else {}
        repair = seats.grant_users.get(k)
        yield {"organization": seats.organization, "login": entry.login or k, **entry.metadata(),
               **observed, "live": bool(observed.get("created_at")),
               "via_declared_team": bool(observed.get("via_declared_team")),
               "remembered_last_activity_at": seats.remembered.get(k),
               "repair": repair.reason if repair else None, "repair_kind": repair.kind if repair else None}


def team_views(seats: SeatsInputs) -> Iterator[Props]:
    """Each declared team as the per-team rules read it: desired fields, standing, members."""
    for k, entry in seats.teams.items():
        seen = seats.observed_teams.get(k)
        members = [{"login": login, **m.to_props(), "standing": m.standing}
                   for login, m in (seen.members.items() if seen else ())]
        yield {"organization": seats.organization, "team": entry.team or k, **entry.metadata(),
               "standing": seen.standing if seen else None, "members": members, "live_seats": len(members)}


def org_view(seats: SeatsInputs) -> Iterator[Props]:
    """The organization as the org rules read it (one view)."""
    yield {**seats.org.to_props(), "organization": seats.organization, "mode": seats.mode,
           "declared_count": seats.declared_count,
           "revoking": {"users": sorted(seats.revoking.users), "teams": dict(seats.revoking.teams)}}


_READS: Final[Mapping[View, frozenset[str]]] = {
    user_views: frozenset({"organization", "users", "observed_users", "grants", "remembered"}),
    team_views: frozenset({"organization", "teams", "observed_teams"}),
    org_view: frozenset({"organization", "mode", "declared_count", "org", "revoking"}),
}
"""The top-level inputs each view reads: an unknown elsewhere does not stop its rules."""


def _unknown_at(value: Any, path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The path of the first value in ``value`` not known during preview (:data:`UNKNOWN`), or ``None``."""
    if value is UNKNOWN:
        return path
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _unknown_at(item, (*path, str(key)))
        if found is not None:
            return found
    return None


def _over(*pairs: tuple[View, Rule]) -> Rule:
    """A rule over the Seats resource: each (view, rule) pair applied to every view.

    ``from_props`` would read an unknown value as absent (and a rule would judge a guess), so a
    pair whose view reads an input holding an unknown says it cannot judge instead."""
    def rule(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
        unknown = {k: path for k, v in props.items() if (path := _unknown_at(v, (str(k),))) is not None}
        try:
            seats = SeatsInputs.from_props({k: v for k, v in props.items() if k not in unknown})
        except (TypeError, ValueError, AttributeError) as exc:
            yield Violation("copilot-seats", "seats", f"cannot judge the Seats resource: {exc}",
                            unknown=("seats",))
            return
        for view, judge in pairs:
            blocked = [".".join(unknown[k]) for k in sorted(_READS[view] & unknown.keys())]
            if blocked:
                yield Violation("copilot-seats", "seats", f"seats: cannot judge yet: {', '.join(blocked)} not "
                                "known during preview", unknown=tuple(blocked))
                continue
            for item in view(seats):
                yield from judge(item, config, now)
    return rule


RULES: Final[Mapping[str, Mapping[str, Rule]]] = {
    "stale-seat": {SEATS_TYPE: _over((user_views, stale_seat), (team_views, stale_team_members))},
    "unmanaged-seat": {SEATS_TYPE: _over((org_view, org_rules.unmanaged_seats))},
    "missing-seat": {SEATS_TYPE: _over((user_views, missing_seat), (team_views, missing_team_seats))},
    "expired-grant": {SEATS_TYPE: _over((user_views, expired_grant), (team_views, expired_grant))},
    "double-grant": {SEATS_TYPE: _over((user_views, double_grant))},
    "seat-budget": {SEATS_TYPE: _over((org_view, org_rules.seat_budget))},
    "seat-management-setting": {SEATS_TYPE: _over((org_view, org_rules.seat_management_setting))},
}
"""Policy name -> resource type token -> rule. The pack, the tests and the benchmark use this."""

