"""Which rule judges which resource type for which policy: the one table the pack, the PR
comment's policy summary (:mod:`copilot_seats.reports.pr_plan`), the tests and the benchmark use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from copilot_seats.policies import org_rules
from copilot_seats.policies.config import ORGANIZATION_TYPE, SEAT_TYPE, TEAM_TYPE
from copilot_seats.policies.rules import (
    Rule,
    double_grant,
    expired_grant,
    missing_seat,
    missing_team_seats,
    stale_seat,
    stale_team_members,
)

__all__ = ["RULES"]

RULES: Final[Mapping[str, Mapping[str, Rule]]] = {
    "stale-seat": {SEAT_TYPE: stale_seat, TEAM_TYPE: stale_team_members},
    "unmanaged-seat": {ORGANIZATION_TYPE: org_rules.unmanaged_seats},
    "missing-seat": {SEAT_TYPE: missing_seat, TEAM_TYPE: missing_team_seats},
    "expired-grant": {SEAT_TYPE: expired_grant, TEAM_TYPE: expired_grant},
    "double-grant": {SEAT_TYPE: double_grant},
    "seat-budget": {ORGANIZATION_TYPE: org_rules.seat_budget},
    "seat-management-setting": {ORGANIZATION_TYPE: org_rules.seat_management_setting},
}
"""Policy name -> resource type token -> rule. The pack, the tests and the benchmark use this."""
