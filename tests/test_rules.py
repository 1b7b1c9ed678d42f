"""Pure policy rules (copilot_seats.policies.rules): resource inputs + config + now -> violations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from copilot_seats.policies import catalog, org_rules, rules
from copilot_seats.policies.config import (
    MAX_STALE_DAYS,
    ORGANIZATION_TYPE,
    POLICIES,
    SEAT_TYPE,
    TEAM_TYPE,
    policy_spec,
    setting,
)
from copilot_seats.policies.rules import UNKNOWN, Violation

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

SEAT: dict[str, Any] = {
    "organization": "octo-demo", "login": "alice", "owner": "platform", "reason": "dev",
    "expires": None, "cost_center": None, "stale_exemption_reason": None, "stale_exemption_until": None,
    "live": True, "assigning_team": None, "last_activity_at": "2026-11-19T08:00:00Z",
    "last_activity_editor": "vscode/1.99.0/copilot/1.300.0", "last_authenticated_at": "2026-11-19T08:00:00Z",
    "created_at": "2026-01-05T10:00:00Z", "pending_cancellation_date": None, "plan_type": "business",
    "remembered_last_activity_at": None, "via_declared_team": False, "stack": "dev", "api_url": None,
    "standing": "seated",
}
TEAM: dict[str, Any] = {
    "organization": "octo-demo", "team": "mobile", "owner": "mobile-lead", "reason": "pilot",
    "expires": None, "cost_center": None, "stale_exemption_reason": None, "stale_exemption_until": None,
    "live_seats": 3, "members": [], "stack": "dev", "api_url": None, "standing": "seated",
}
ORG: dict[str, Any] = {
    "organization": "octo-demo", "mode": "additive", "plan": "business",
    "seat_management_setting": "assign_selected", "plan_type": "business",
    "declared_users": ["alice", "bob"], "declared_team_seats": {"mobile": 3},
    "unmanaged": [], "missing": [], "pending_cancellation": [], "unassigned_seats": 0,
    "live_seats": 5, "declared_seats": 2, "estimated_monthly_cost": "95", "authoritative_revocations": 0,
}


def seat(**changes: Any) -> dict[str, Any]:
    return {**SEAT, **changes}


def team(**changes: Any) -> dict[str, Any]:
    return {**TEAM, **changes}


def org(**changes: Any) -> dict[str, Any]:
    return {**ORG, **changes}


def run(rule: rules.Rule, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[Violation]:
    return list(rule(props, config or {}, NOW))


# --- stale-seat -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("props", "config", "stale"),
    [
        (seat(), {}, False),
        (seat(last_activity_at="2026-09-20T13:00:00Z"), {}, False),  # 60 days 23 h: inside the lag day
        (seat(last_activity_at="2026-09-20T11:00:00Z"), {}, True),   # 61 days 1 h
        (seat(last_activity_at="2026-10-01T00:00:00Z"), {"staleDays": 30}, True),
        (seat(last_activity_at="2026-10-01T00:00:00Z"), {"staleDays": 30.0}, True),  # engine sends floats
        (seat(last_activity_at=None, created_at="2026-11-10T00:00:00Z"), {}, False),
        (seat(last_activity_at=None, created_at="2026-11-01T00:00:00Z"), {}, True),
        (seat(last_activity_at=None, created_at="2026-11-01T00:00:00Z"), {"graceDays": 30}, False),
        (seat(last_activity_at="2026-01-01T00:00:00Z", live=False), {}, False),
        (seat(last_activity_at="2026-01-01T00:00:00Z", pending_cancellation_date="2026-12-01"), {}, False),
        (seat(last_activity_at="2026-01-01T00:00:00Z", stale_exemption_reason="leave",
              stale_exemption_until="2026-11-20"), {}, False),
        (seat(last_activity_at="2026-01-01T00:00:00Z", stale_exemption_reason="leave",
              stale_exemption_until="2026-11-19"), {}, True),
        (seat(last_activity_at=None, remembered_last_activity_at="2026-11-01T00:00:00Z"), {}, False),
    ],
    ids=["recent", "within-lag-tolerance", "just-past-threshold", "configured-threshold",
         "threshold-as-float", "new-never-used-seat-in-grace", "never-used-after-grace", "longer-grace",
         "not-live-is-missing-seat-business", "pending-cancellation", "exemption-until-today",
         "exemption-ended-yesterday", "remembered-recent-activity-beats-null"],
)
def test_stale_seat_judgment(props: dict[str, Any], config: dict[str, Any], stale: bool) -> None:
    found = run(rules.stale_seat, props, config)
    assert bool(found) is stale, found
    assert all(v.policy == "stale-seat" and v.subject == "alice" and v.logins == ("alice",) for v in found)


def test_stale_message_names_login_date_editor_days_and_hint() -> None:
    [v] = run(rules.stale_seat, seat(last_activity_at="2026-08-01T09:00:00Z"))
    assert v.message.startswith("alice: ")
    assert "2026-08-01" in v.message and "vscode/1.99.0/copilot/1.300.0" in v.message
    assert "111 days" in v.message and "threshold 60 days" in v.message
    assert "24 hours" in v.message and "telemetry" in v.message
    assert "Owner: platform" in v.message


def test_stale_null_activity_is_explained_honestly() -> None:
    [v] = run(rules.stale_seat, seat(last_activity_at=None, last_activity_editor=None))
    assert "never used, or inactive for more than GitHub's 90-day retention" in v.message
    assert "Granted on 2026-01-05." in v.message and "grace 14 days" in v.message


def test_stale_uses_remembered_activity_when_github_reports_null() -> None:
    [v] = run(rules.stale_seat, seat(last_activity_at=None, last_activity_editor=None,
                                     remembered_last_activity_at="2026-07-01T00:00:00Z"))
    assert "2026-07-01" in v.message and "remembered" in v.message
    assert "never used" not in v.message


def test_stale_message_mentions_an_ended_exemption() -> None:
    props = seat(last_activity_at="2026-01-01T00:00:00Z", stale_exemption_reason="Parental leave",
                 stale_exemption_until="2026-10-01")
    [v] = run(rules.stale_seat, props)
    assert "Parental leave" in v.message and "ended 2026-10-01" in v.message


def test_stale_cannot_judge_unknown_activity() -> None:
    [v] = run(rules.stale_seat, seat(last_activity_at=UNKNOWN))
    assert not v.determined and v.unknown == ("last_activity_at",)
    assert "cannot judge" in v.message


def test_stale_malformed_timestamp_is_reported_not_raised() -> None:
    [v] = run(rules.stale_seat, seat(created_at="yesterday"))
    assert v.determined and "cannot judge" in v.message and "created_at" in v.message


# --- missing-seat -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("rule", "props", "expected"),
    [
        (rules.missing_seat, seat(), None),
        (rules.missing_seat, seat(live=False, created_at=None, standing="missing"), "missing — declared"),
        (rules.missing_seat, seat(pending_cancellation_date="2026-12-01", standing="leaving"),
         "leaving — the seat is pending cancellation"),
        (rules.missing_team_seats, team(), None),
        (rules.missing_team_seats, team(live_seats=0, standing="missing"), "no Copilot seat comes through it"),
        (rules.missing_team_seats, team(live_seats=0, standing="leaving"), "every seat through it is pending"),
    ],
    ids=["live-seat", "not-live", "pending-cancellation", "team-with-seats", "team-without-seats",
         "team-leaving"],
)
def test_missing_seat(rule: rules.Rule, props: dict[str, Any], expected: str | None) -> None:
    found = run(rule, props)
    if expected is None:
        assert found == []
    else:
        [v] = found
        assert v.policy == "missing-seat" and expected in v.message


def test_missing_pending_names_the_end_date() -> None:
    [v] = run(rules.missing_seat, seat(pending_cancellation_date="2026-12-01", standing="leaving"))
    assert v.subject == "alice" and "2026-12-01" in v.message


def test_a_seat_removed_by_this_change_is_not_reported_unmanaged_in_additive_mode() -> None:
    entries = [{"login": "bob", "assigning_team": None}, {"login": "carl", "assigning_team": None}]
    found = run(org_rules.unmanaged_seats, org(unmanaged=entries, revoking={"users": ["bob"], "teams": {}}))
    assert [v.subject for v in found] == ["carl"]
    authoritative = run(org_rules.unmanaged_seats, org(unmanaged=entries, mode="authoritative",
                                                  revoking={"users": ["bob", "carl"], "teams": {}}))
    assert {v.subject for v in authoritative} == {"bob", "carl"}


# --- expired-grant ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("props", "expired"),
    [(seat(expires=None), False), (seat(expires="2026-11-20"), False), (seat(expires="2026-11-19"), True),
     (team(expires="2026-10-31"), True), (team(expires="2027-05-31"), False)],
    ids=["open-ended", "expires-today-still-valid", "expired-yesterday", "team-expired", "team-future"],
)
def test_expired_grant(props: dict[str, Any], expired: bool) -> None:
    found = run(rules.expired_grant, props)
    assert bool(found) is expired
    for v in found:
        assert v.policy == "expired-grant" and "remove the entry" in v.message


def test_expired_team_message_says_team() -> None:
    [v] = run(rules.expired_grant, team(expires="2026-10-31"))
    assert v.message.startswith("team mobile: the grant expired on 2026-10-31 (20 days ago)")


def test_grant_expired_is_strictly_after_the_date() -> None:
    from datetime import date

    from copilot_seats.desired.spec import Grant
    assert not rules.grant_expired(Grant(expires=date(2026, 11, 20)), NOW)
    assert rules.grant_expired(Grant(expires=date(2026, 11, 19)), NOW)
    assert not rules.grant_expired(Grant(), NOW)


# --- double-grant -----------------------------------------------------------------------------

def test_double_grant_names_the_team() -> None:
    [v] = run(rules.double_grant, seat(via_declared_team=True, assigning_team="mobile"))
    assert v.subject == "alice" and "team mobile" in v.message


def test_no_double_grant_for_direct_or_undeclared_team_seat() -> None:
    assert run(rules.double_grant, seat()) == []
    assert run(rules.double_grant, seat(assigning_team="ghosts", via_declared_team=False)) == []


# --- unmanaged-seat ---------------------------------------------------------------------------

def test_unmanaged_one_violation_per_direct_seat_and_per_team() -> None:
    props = org(unmanaged=[
        {"login": "zed", "assigning_team": None},
        {"login": "Yan", "assigning_team": "ghosts"},
        {"login": "xia", "assigning_team": "ghosts"},
        {"login": "wu", "assigning_team": "interns"},
    ])
    found = run(org_rules.unmanaged_seats, props)
    assert [(v.subject, v.logins) for v in found] == [
        ("zed", ("zed",)), ("team ghosts", ("Yan", "xia")), ("team interns", ("wu",))]
    assert "team ghosts: not in seats.yaml but grants Copilot seats in octo-demo to 2 user(s): xia, Yan" \
        in found[1].message
    assert "additive mode" in found[0].message


def test_unmanaged_direct_seats_above_the_threshold_become_one_summary() -> None:
    logins = [f"user{i:03d}" for i in range(60)]
    props = org(unmanaged=[{"login": login, "assigning_team": None} for login in logins])
    [summary] = run(org_rules.unmanaged_seats, props, {"summarizeAbove": 20})
    assert summary.subject == "60 direct seats" and summary.logins == tuple(logins)
    assert summary.message.startswith("60 direct seats: held in octo-demo by users not in seats.yaml")
    assert "user049 and 10 more" in summary.message and "user050" not in summary.message
    assert len(run(org_rules.unmanaged_seats, props, {"summarizeAbove": 60})) == 60


def test_unmanaged_says_authoritative_mode_revokes() -> None:
    [v] = run(org_rules.unmanaged_seats, org(mode="authoritative", unmanaged=[{"login": "zed"}]))
    assert "`pulumi up` revokes it" in v.message


def test_no_unmanaged_seats_no_violation() -> None:
    assert run(org_rules.unmanaged_seats, org()) == []


# --- seat-budget ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("props", "config", "count"),
    [
        (org(), {}, 0),
        (org(), {"maxSeats": 5}, 0),                 # 2 users + 3 team seats
        (org(), {"maxSeats": 4}, 1),
        (org(), {"maxSeats": 4.0}, 1),
        (org(declared_count=4), {"maxSeats": 4}, 0),  # analysis' count when the resource carries it
        (org(), {"maxMonthlyCost": 95}, 0),
        (org(), {"maxMonthlyCost": 94.5}, 1),
        (org(), {"maxSeats": 1, "maxMonthlyCost": 10}, 2),
    ],
    ids=["no-caps-no-check", "at-seat-cap", "over-seat-cap", "cap-as-float", "declared-count-preferred",
         "at-cost-cap", "over-cost-cap", "both-over"],
)
def test_seat_budget(props: dict[str, Any], config: dict[str, Any], count: int) -> None:
    found = run(org_rules.seat_budget, props, config)
    assert len(found) == count and all(v.subject == "octo-demo" for v in found)


def test_seat_budget_messages_name_the_numbers() -> None:
    seats, cost = run(org_rules.seat_budget, org(), {"maxSeats": 4, "maxMonthlyCost": 50})
    assert "declares 5 seats, above the cap of 4" in seats.message
    assert "95 USD/month for 5 listed seats, above the cap of 50" in cost.message


# --- seat-management-setting ------------------------------------------------------------------

@pytest.mark.parametrize("value", ["assign_all", "disabled", "unconfigured", "something_new"])
def test_setting_other_than_assign_selected_is_a_violation(value: str) -> None:
    [v] = run(org_rules.seat_management_setting, org(seat_management_setting=value))
    assert v.subject == "octo-demo" and repr(value) in v.message and "assign_selected" in v.message


def test_assign_selected_is_fine() -> None:
    assert run(org_rules.seat_management_setting, org()) == []


# --- catalogue, unknowns, purity --------------------------------------------------------------

def test_every_policy_has_rules_for_exactly_its_resource_types() -> None:
    assert set(catalog.RULES) == {p.name for p in POLICIES}
    for spec in POLICIES:
        assert set(catalog.RULES[spec.name]) == set(spec.resource_types)
        assert set(spec.resource_types) <= {SEAT_TYPE, TEAM_TYPE, ORGANIZATION_TYPE}


def test_pack_defaults_advisory_except_seat_management_setting() -> None:
    levels = {p.name: p.enforcement for p in POLICIES}
    assert levels.pop("seat-management-setting") == "mandatory"
    assert set(levels.values()) == {"advisory"}


def test_config_defaults_and_float_coercion() -> None:
    assert policy_spec("stale-seat").defaults() == {"staleDays": 60, "graceDays": 14, "summarizeAbove": 20}
    assert policy_spec("seat-budget").defaults() == {}
    assert setting({"staleDays": 45.0}, "stale-seat", "staleDays") == 45
    assert isinstance(setting({"staleDays": 45.0}, "stale-seat", "staleDays"), int)
    assert setting({}, "seat-budget", "maxSeats") is None
    assert policy_spec("stale-seat").properties["staleDays"]["maximum"] == MAX_STALE_DAYS == 89


@pytest.mark.parametrize(
    ("policy", "resource_type", "props"),
    [(name, rtype, {**{SEAT_TYPE: SEAT, TEAM_TYPE: TEAM, ORGANIZATION_TYPE: ORG}[rtype]})
     for name, by_type in catalog.RULES.items() for rtype in by_type],
    ids=lambda v: v if isinstance(v, str) and "/" not in v and ":" not in v else None,
)
def test_every_rule_degrades_when_every_input_is_unknown(policy: str, resource_type: str,
                                                         props: dict[str, Any]) -> None:
    unknown = dict.fromkeys(props, UNKNOWN)
    config = {"maxSeats": 1, "maxMonthlyCost": 1} if policy == "seat-budget" else {}
    found = run(catalog.RULES[policy][resource_type], unknown, config)
    assert found, "a rule that needs unknown inputs must say it cannot judge"
    assert all(not v.determined and v.policy == policy for v in found)


def test_rules_are_deterministic_given_now() -> None:
    props = seat(last_activity_at=None)
    assert run(rules.stale_seat, props) == run(rules.stale_seat, props)


def test_stale_team_members_judges_each_member_and_names_the_team() -> None:
    from copilot_seats.policies.rules import stale_team_members

    now = datetime(2026, 11, 25, tzinfo=UTC)
    team = {
        "team": "ml", "owner": "ml-lead", "stale_exemption_reason": None, "stale_exemption_until": None,
        "members": [
            {"login": "idle", "created_at": "2025-01-01T00:00:00Z", "last_activity_at": "2026-08-01T00:00:00Z",
             "last_activity_editor": "vscode/1", "pending_cancellation_date": None,
             "remembered_last_activity_at": None},
            {"login": "busy", "created_at": "2025-01-01T00:00:00Z", "last_activity_at": "2026-11-20T00:00:00Z",
             "last_activity_editor": "vscode/1", "pending_cancellation_date": None,
             "remembered_last_activity_at": None},
        ],
    }
    found = list(stale_team_members(team, {}, now))
    assert [v.logins for v in found] == [("idle",)]
    assert found[0].message.startswith("(via team ml) idle:")
    exempt = {**team, "stale_exemption_reason": "sabbatical", "stale_exemption_until": "2027-01-01"}
    assert list(stale_team_members(exempt, {}, now)) == []
