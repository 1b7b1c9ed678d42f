"""Pure policy rules (copilot_seats.policies.rules) and the catalogue that applies them to the one
Seats resource (copilot_seats.policies.catalog): resource inputs + config + now -> violations.

The per-entry rules judge the *views* the catalogue builds of the Seats inputs (one per declared
user, one per declared team, one of the organization); :data:`SEAT`, :data:`TEAM` and :data:`ORG`
are those views of :data:`SEATS`, pinned below, so the rule tests judge the shapes the pack sees.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from copilot_seats.policies import catalog, org_rules, rules
from copilot_seats.policies.config import (
    MAX_STALE_DAYS,
    POLICIES,
    SEATS_TYPE,
    policy_spec,
    setting,
)
from copilot_seats.policies.rules import UNKNOWN, Violation
from copilot_seats.provider.contract import (
    SEATS,
    OrgObservation,
    SeatObservation,
    SeatsInputs,
    TeamEntry,
    TeamObservation,
    UserEntry,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _seen(**changes: Any) -> SeatObservation:
    base = SeatObservation(created_at="2026-01-05T10:00:00Z", last_activity_at="2026-11-19T08:00:00Z",
                           last_activity_editor="vscode/1.99.0/copilot/1.300.0", standing="seated")
    return replace(base, **changes)


SEATS_INPUTS = SeatsInputs(
    organization="octo-demo", mode="additive", declared_count=5,
    users={"alice": UserEntry(login="alice", owner="platform", reason="dev"),
           "bob": UserEntry(login="bob", owner="platform", reason="dev")},
    teams={"mobile": TeamEntry(team="mobile", owner="mobile-lead", reason="pilot")},
    observed_users={"alice": _seen(), "bob": _seen()},
    observed_teams={"mobile": TeamObservation("seated", {
        f"m{i}": _seen(assigning_team="mobile", last_activity_at="2026-11-18T08:00:00Z") for i in range(1, 4)})},
    org=OrgObservation(plan="business", seat_management_setting="assign_selected", plan_type="business",
                       declared_team_seats={"mobile": 3}, live_seats=5, declared_seats=2,
                       estimated_monthly_cost="95"),
)
"""One organization: two direct users, one team of three, nothing stale, missing or unmanaged."""

SEAT: dict[str, Any] = {
    "organization": "octo-demo", "login": "alice", "owner": "platform", "reason": "dev",
    "expires": None, "cost_center": None, "stale_exemption_reason": None, "stale_exemption_until": None,
    "last_activity_at": "2026-11-19T08:00:00Z", "last_activity_editor": "vscode/1.99.0/copilot/1.300.0",
    "created_at": "2026-01-05T10:00:00Z", "standing": "seated",
    "live": True, "via_declared_team": False, "remembered_last_activity_at": None, "repair": None,
    "repair_kind": None,
}
MEMBER: dict[str, Any] = {
    "assigning_team": "mobile", "created_at": "2026-01-05T10:00:00Z", "last_activity_at": "2026-11-18T08:00:00Z",
    "last_activity_editor": "vscode/1.99.0/copilot/1.300.0", "standing": "seated",
}
TEAM: dict[str, Any] = {
    "organization": "octo-demo", "team": "mobile", "owner": "mobile-lead", "reason": "pilot",
    "expires": None, "cost_center": None, "stale_exemption_reason": None, "stale_exemption_until": None,
    "standing": "seated", "members": [{"login": f"m{i}", **MEMBER} for i in range(1, 4)], "live_seats": 3,
}
ORG: dict[str, Any] = {
    "plan": "business", "seat_management_setting": "assign_selected", "plan_type": "business",
    "seat_breakdown": {}, "unmanaged": [], "missing": [], "leaving": [], "missing_teams": [], "leaving_teams": [],
    "pending_cancellation": [], "unassigned_seats": 0, "live_seats": 5, "declared_seats": 2,
    "declared_team_seats": {"mobile": 3}, "estimated_monthly_cost": "95",
    "organization": "octo-demo", "mode": "additive", "declared_count": 5, "revoking": {"users": [], "teams": {}},
}


def seats(**changes: Any) -> SeatsInputs:
    """:data:`SEATS_INPUTS` with some fields replaced."""
    return replace(SEATS_INPUTS, **changes)


def observed(login: str = "alice", **changes: Any) -> SeatsInputs:
    """:data:`SEATS_INPUTS` with ``login``'s observation changed."""
    return seats(observed_users={**SEATS_INPUTS.observed_users, login: _seen(**changes)})


def declared(login: str = "alice", **changes: Any) -> SeatsInputs:
    """:data:`SEATS_INPUTS` with ``login``'s seats.yaml entry changed."""
    return seats(users={**SEATS_INPUTS.users, login: replace(SEATS_INPUTS.users[login], **changes)})


def props_of(inputs: SeatsInputs) -> dict[str, Any]:
    """The Seats resource's inputs on the wire (what the pack and the preview see)."""
    return inputs.to_props()


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
        (org(declared_count=4), {"maxSeats": 4}, 0),  # analysis' count, not declared_seats + team seats (5)
        ({k: v for k, v in ORG.items() if k != "declared_count"}, {"maxSeats": 4}, 1),  # 2 users + 3 team seats
        (org(), {"maxMonthlyCost": 95}, 0),
        (org(), {"maxMonthlyCost": 94.5}, 1),
        (org(), {"maxSeats": 1, "maxMonthlyCost": 10}, 2),
    ],
    ids=["no-caps-no-check", "at-seat-cap", "over-seat-cap", "cap-as-float", "declared-count-preferred",
         "without-declared-count", "at-cost-cap", "over-cost-cap", "both-over"],
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
        assert set(catalog.RULES[spec.name]) == set(spec.resource_types) == {SEATS_TYPE}
    assert SEATS_TYPE == SEATS.token == "copilot:index:Seats"


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


USERS, TEAMS, THE_ORG = catalog.user_views, catalog.team_views, catalog.org_view
ENTRY_RULES: list[tuple[str, rules.Rule, catalog.View, dict[str, Any]]] = [
    ("stale-seat", rules.stale_seat, USERS, SEAT), ("stale-seat", rules.stale_team_members, TEAMS, TEAM),
    ("unmanaged-seat", org_rules.unmanaged_seats, THE_ORG, ORG),
    ("missing-seat", rules.missing_seat, USERS, SEAT), ("missing-seat", rules.missing_team_seats, TEAMS, TEAM),
    ("expired-grant", rules.expired_grant, USERS, SEAT), ("expired-grant", rules.expired_grant, TEAMS, TEAM),
    ("double-grant", rules.double_grant, USERS, SEAT),
    ("seat-budget", org_rules.seat_budget, THE_ORG, ORG),
    ("seat-management-setting", org_rules.seat_management_setting, THE_ORG, ORG),
]
"""Every (policy, entry rule, view) the catalogue applies to the Seats resource, with the view's shape."""


@pytest.mark.parametrize(("policy", "rule", "props"), [(p, r, shape) for p, r, _, shape in ENTRY_RULES],
                         ids=[f"{p}-{r.__name__}" for p, r, _, _ in ENTRY_RULES])
def test_every_rule_degrades_when_every_input_of_its_view_is_unknown(policy: str, rule: rules.Rule,
                                                                     props: dict[str, Any]) -> None:
    unknown = dict.fromkeys(props, UNKNOWN)
    config = {"maxSeats": 1, "maxMonthlyCost": 1} if policy == "seat-budget" else {}
    found = run(rule, unknown, config)
    assert found, "a rule that needs unknown inputs must say it cannot judge"
    assert all(not v.determined and v.policy == policy for v in found)


DRIFTED = seats(
    users={**SEATS_INPUTS.users, "carl": UserEntry(login="Carl", expires="2026-01-01")},
    observed_users={**SEATS_INPUTS.observed_users, "alice": _seen(last_activity_at=None),
                    "bob": _seen(assigning_team="mobile", via_declared_team=True),
                    "carl": SeatObservation(standing="missing")},
    teams={"mobile": replace(SEATS_INPUTS.teams["mobile"], expires="2026-02-01")},
    observed_teams={"mobile": TeamObservation("seated", {"m1": _seen(last_activity_at=None)})},
    org=replace(SEATS_INPUTS.org, seat_management_setting="assign_all", unmanaged=(("zed", None),)),
)
"""Something for every policy: alice and team member m1 never used, bob also seated by a declared
team, Carl missing and expired, the team expired, zed unmanaged, the org on assign_all."""


def test_the_catalogue_applies_exactly_the_entry_rules_to_every_view() -> None:
    config = {"maxSeats": 1}
    for policy, by_type in catalog.RULES.items():
        expected = [v for p, rule, view, _ in ENTRY_RULES if p == policy
                    for item in view(DRIFTED) for v in rule(item, config, NOW)]
        assert expected, policy
        assert list(by_type[SEATS_TYPE](props_of(DRIFTED), config, NOW)) == expected, policy


@pytest.mark.parametrize(("policy", "subjects"), [
    ("stale-seat", ["alice", "m1"]), ("missing-seat", ["Carl"]), ("expired-grant", ["Carl", "mobile"]),
    ("double-grant", ["bob"]), ("unmanaged-seat", ["zed"]), ("seat-budget", ["octo-demo"]),
    ("seat-management-setting", ["octo-demo"]),
])
def test_one_seats_resource_yields_a_violation_per_entry_in_violation(policy: str, subjects: list[str]) -> None:
    found = run(catalog.RULES[policy][SEATS_TYPE], props_of(DRIFTED), {"maxSeats": 1})
    assert [v.subject for v in found] == subjects
    assert all(v.determined and v.policy == policy for v in found)
    assert run(catalog.RULES[policy][SEATS_TYPE], props_of(SEATS_INPUTS), {"maxSeats": 5}) == []


def test_the_views_of_the_seats_resource_are_what_the_rules_read() -> None:
    for inputs in (SEATS_INPUTS, SeatsInputs.from_props(props_of(SEATS_INPUTS))):  # as given, and off the wire
        alice, bob = catalog.user_views(inputs)
        assert alice == SEAT and bob == {**SEAT, "login": "bob"}
        assert list(catalog.team_views(inputs)) == [TEAM]
        assert list(catalog.org_view(inputs)) == [ORG]


def test_the_user_view_carries_the_planned_repair_and_the_remembered_activity() -> None:
    from copilot_seats.decisions.planning import Repair

    inputs = seats(observed_users={"alice": _seen(last_activity_at=None)},
                   grant_users={"bob": Repair("grant", "grant: GitHub lists no seat")},
                   remembered={"alice": "2026-11-01T00:00:00Z"})
    alice, bob = catalog.user_views(SeatsInputs.from_props(props_of(inputs)))
    assert alice["remembered_last_activity_at"] == "2026-11-01T00:00:00Z" and alice["live"] is True
    assert bob["live"] is False and "standing" not in bob
    assert bob["repair"] == "grant: GitHub lists no seat" and bob["repair_kind"] == "grant"
    # the remembered date is the one the stale rule judges: no violation for alice, though GitHub reports null
    assert run(catalog.RULES["stale-seat"][SEATS_TYPE], props_of(inputs)) == []
    assert [v.subject for v in run(catalog.RULES["stale-seat"][SEATS_TYPE],
                                   props_of(replace(inputs, remembered={})))] == ["alice"]


def test_the_org_view_tells_the_unmanaged_rule_what_this_run_revokes() -> None:
    from copilot_seats.provider.contract import Revoking

    inputs = seats(org=replace(SEATS_INPUTS.org, unmanaged=(("bob", None), ("carl", None))),
                   revoking=Revoking(users={"bob": "entry removed from seats.yaml"}, limit=10))
    assert [v.subject for v in run(catalog.RULES["unmanaged-seat"][SEATS_TYPE], props_of(inputs))] == ["carl"]


@pytest.mark.parametrize("policy", list(catalog.RULES))
def test_a_seats_resource_whose_inputs_are_all_unknown_cannot_be_judged(policy: str) -> None:
    unknown = dict.fromkeys(props_of(SEATS_INPUTS), UNKNOWN)
    found = run(catalog.RULES[policy][SEATS_TYPE], unknown, {"maxSeats": 1, "maxMonthlyCost": 1})
    assert found and all(not v.determined and "cannot judge" in v.message for v in found)


PER_USER = {"stale-seat", "missing-seat", "expired-grant", "double-grant"}
PER_TEAM = {"stale-seat", "missing-seat", "expired-grant"}
PER_ORG = {"unmanaged-seat", "seat-budget", "seat-management-setting"}


@pytest.mark.parametrize(("section", "value", "blocked"), [
    (("org", "seat_management_setting"), None, PER_ORG),
    (("observed_users", "last_activity_at", 0), None, PER_USER),  # a column: alice is the first login
    (("remembered",), {"alice": UNKNOWN}, PER_USER),
    (("users", "alice", "expires"), None, PER_USER),
    (("observed_teams", "mobile", "members", "last_activity_at", 0), None, PER_TEAM),  # m1
    (("mode",), None, PER_ORG),
])
def test_an_unknown_input_is_never_read_as_absent(section: tuple[Any, ...], value: Any, blocked: set[str]) -> None:
    """An unknown value read as absent would be judged: a null activity as stale, a null
    seat_management_setting as a (mandatory) violation. Every policy whose views read it cannot judge."""
    props = props_of(SEATS_INPUTS)
    parent = props
    for key in section[:-1]:
        parent = parent[key]
    parent[section[-1]] = UNKNOWN if value is None else value
    path = ".".join(map(str, section)) if value is None else f"{'.'.join(map(str, section))}.alice"
    for policy, by_type in catalog.RULES.items():
        found = run(by_type[SEATS_TYPE], props, {"maxSeats": 100})
        if policy in blocked:
            assert found and all(not v.determined and v.unknown == (path,) and path in v.message
                                 for v in found), (policy, found)
        else:
            assert found == [], (policy, found)


def test_an_unknown_input_only_stops_the_views_that_read_it() -> None:
    props = props_of(declared(expires="2026-10-31"))
    props["org"]["seat_management_setting"] = UNKNOWN
    [expired] = run(catalog.RULES["expired-grant"][SEATS_TYPE], props)
    assert expired.determined and expired.subject == "alice"
    [blocked] = run(catalog.RULES["seat-management-setting"][SEATS_TYPE], props)
    assert not blocked.determined
    props = props_of(seats(org=replace(SEATS_INPUTS.org, seat_management_setting="assign_all")))
    props["observed_users"]["last_activity_at"][props["observed_users"]["logins"].index("alice")] = UNKNOWN
    [setting_violation] = run(catalog.RULES["seat-management-setting"][SEATS_TYPE], props)
    assert setting_violation.determined and "'assign_all'" in setting_violation.message


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
