"""Repairs, revocation plans and the guard (copilot_seats.decisions.planning), including properties over
random live states and random seats.yaml edits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_seats.decisions.planning import (
    LiveView,
    Roster,
    destroy_revocations,
    guard_verdict,
    live_view,
    plan_revocations,
    removal_limit,
    seat_repair,
    team_repair,
)
from copilot_seats.decisions.run_settings import RunSettings
from copilot_seats.github.live import LiveBilling, LiveSeat, LiveSnapshot, SeatBreakdown

NOW = datetime(2026, 11, 25, tzinfo=UTC)
DEFAULTS = RunSettings()


def seat(login: str, team: str | None = None, pending: bool = False) -> LiveSeat:
    return LiveSeat(login=login, key=login.casefold(), assigning_team=team, created_at=NOW,
                    pending_cancellation_date=date(2026, 12, 1) if pending else None)


def snap(*seats: LiveSeat) -> LiveSnapshot:
    billing = LiveBilling(seat_breakdown=SeatBreakdown(), seat_management_setting="assign_selected",
                          public_code_suggestions="block")
    return LiveSnapshot(organization="acme", billing=billing,
                        seats={s.key: s for s in seats}, unassigned_count=0, fetched_at=NOW)


def users(n: int, prefix: str = "u") -> frozenset[str]:
    return frozenset(f"{prefix}{i}" for i in range(n))


@pytest.mark.parametrize(("declared", "expected"), [(0, 10), (50, 10), (100, 10), (101, 11), (1000, 100)])
def test_removal_limit_is_larger_of_count_and_fraction(declared: int, expected: int) -> None:
    assert removal_limit(declared, 10, 0.10) == expected


@pytest.mark.parametrize(
    ("live", "kind"),
    [(None, "grant"), (seat("a", pending=True), "re-grant"), (seat("a", team="other"), "grant-direct"),
     (seat("a"), None), (seat("a", team="ml"), None)],
    ids=["absent", "pending", "undeclared-team", "direct", "declared-team"],
)
def test_seat_repair_by_what_github_lists(live: LiveSeat | None, kind: str | None) -> None:
    repair = seat_repair(live, ["ml"])
    assert (repair.kind if repair else None) == kind


def test_team_repair_only_when_every_seat_through_it_is_pending() -> None:
    assert team_repair("ml", [seat("a", "ml", pending=True), seat("b", "ml", pending=True)]) is not None
    assert team_repair("ml", [seat("a", "ml", pending=True), seat("b", "ml")]) is None
    assert team_repair("ml", []) is None  # empty team, or grant long gone: not repeated every run


def test_removed_user_still_seated_is_revoked_and_one_that_left_is_not() -> None:
    previous = Roster("acme", frozenset({"a", "b", "c"}), declared_count=3)
    current = Roster("acme", frozenset({"a"}))
    view = live_view(snap(seat("a"), seat("b"), seat("c", pending=True)), current.users)
    assert plan_revocations(previous, current, view, authoritative=False).users == {"b"}


def test_a_team_seated_by_the_last_run_counts_in_full_when_dropped() -> None:
    previous = Roster("acme", frozenset(), frozenset({"ml"}), declared_count=0)  # listed before its grant
    current = Roster("acme")
    view = live_view(snap(*[seat(f"m{i}", "ml") for i in range(50)]), current.users)
    plan = plan_revocations(previous, current, view, authoritative=False)
    verdict = guard_verdict(plan, previous, current, DEFAULTS)
    assert plan.seat_count == 50 and not verdict.ok and "refusing to revoke 50 Copilot seats" in verdict.message


def test_padding_the_file_does_not_raise_the_limit() -> None:
    previous = Roster("acme", users(100), declared_count=100)
    current = Roster("acme", users(60) | users(400, "new"), declared_count=460)
    view = LiveView(unmanaged_direct=users(100) - users(60))
    verdict = guard_verdict(plan_revocations(previous, current, view, False), previous, current, DEFAULTS)
    assert not verdict.ok and verdict.limit == 10 and verdict.revoking == 40


def test_zero_means_zero() -> None:
    strict = RunSettings(max_removal_count=0, max_removal_fraction=0.0)
    previous = Roster("acme", users(10), declared_count=10)
    current = Roster("acme", users(9))
    plan = plan_revocations(previous, current, LiveView(unmanaged_direct=frozenset({"u9"})), False)
    assert not guard_verdict(plan, previous, current, strict).ok
    assert "refusing to revoke 1 Copilot seat " in guard_verdict(plan, previous, current, strict).message


def test_a_change_of_organization_is_refused_but_its_case_is_not() -> None:
    previous = Roster("acme", users(3), declared_count=3)
    same = guard_verdict(plan_revocations(previous, Roster("ACME", users(3)), LiveView(), False),
                         previous, Roster("ACME", users(3)), DEFAULTS)
    moved = guard_verdict(plan_revocations(previous, Roster("acme-two", users(3)), LiveView(), False),
                          previous, Roster("acme-two", users(3)), DEFAULTS)
    assert same.ok and not moved.ok and "acme-two" in moved.message


def test_a_new_stack_gets_the_absolute_limit_only() -> None:
    current = Roster("acme", users(500))
    plan = plan_revocations(None, current, LiveView(unmanaged_direct=users(11, "x")), authoritative=True)
    assert plan.seat_count == 11 and not guard_verdict(plan, None, current, DEFAULTS).ok


def test_destroy_counts_managed_seats_that_would_be_lost() -> None:
    roster = Roster("acme", frozenset({"a", "b", "c"}), frozenset({"ml"}), declared_count=5)
    live = snap(seat("a"), seat("b", team="other"), seat("c", pending=True), seat("d", "ml"), seat("e", "ml"),
                seat("z"))
    plan = destroy_revocations(roster, live)
    assert plan.users == {"a"} and plan.teams == {"ml": 2}  # b keeps an unmanaged team seat; z is not ours


# --- properties -----------------------------------------------------------------------------

LOGINS = [f"user{i}" for i in range(12)]
TEAMS = ["ml", "web", "ops"]
held_state = st.sampled_from(["absent", "direct", "pending", "ml", "web", "ops"])


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Roster | None, Roster, LiveSnapshot, bool]:
    live = []
    for login in LOGINS:
        state = draw(held_state)
        if state == "absent":
            continue
        live.append(seat(login if draw(st.booleans()) else login.upper(),
                         team=state if state in TEAMS else None, pending=state == "pending"))
    before_users = draw(st.frozensets(st.sampled_from(LOGINS)))
    before_teams = draw(st.frozensets(st.sampled_from(TEAMS)))
    after_users = draw(st.frozensets(st.sampled_from(LOGINS)))
    after_teams = draw(st.frozensets(st.sampled_from(TEAMS)))
    previous = None if draw(st.booleans()) and not before_users else Roster(
        "acme", before_users, before_teams, draw(st.integers(0, 200)))
    return previous, Roster(draw(st.sampled_from(["acme", "ACME"])), after_users, after_teams), snap(*live), \
        draw(st.booleans())


@settings(max_examples=400, deadline=None)
@given(worlds())
def test_property_a_declared_login_is_never_planned_for_revocation(
        world: tuple[Roster | None, Roster, LiveSnapshot, bool]) -> None:
    previous, current, live, authoritative = world
    plan = plan_revocations(previous, current, live_view(live, current.users), authoritative)
    assert not plan.users & current.users
    # a team revocation never counts (so never loses) a user declared directly
    for team in plan.teams:
        through = {k for k, s in live.seats.items()
                   if s.assigning_team == team and s.pending_cancellation_date is None}
        assert plan.teams[team] == len(through - current.users)


@settings(max_examples=400, deadline=None)
@given(worlds(), st.integers(0, 20), st.sampled_from([0.0, 0.05, 0.1, 0.5, 1.0]))
def test_property_the_guard_never_passes_more_than_the_limit_from_the_last_applied_count(
        world: tuple[Roster | None, Roster, LiveSnapshot, bool], count: int, fraction: float) -> None:
    previous, current, live, authoritative = world
    limits = RunSettings(max_removal_count=count, max_removal_fraction=fraction)
    plan = plan_revocations(previous, current, live_view(live, current.users), authoritative)
    verdict = guard_verdict(plan, previous, current, limits)
    expected_limit = removal_limit(previous.declared_count if previous else 0, count, fraction)
    assert verdict.limit == expected_limit  # the new file's size never enters the limit
    assert verdict.ok == (plan.seat_count <= expected_limit)
    allowed = guard_verdict(plan, previous, current,
                            RunSettings(max_removal_count=count, max_removal_fraction=fraction,
                                        allow_mass_removal=True))
    assert allowed.ok


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_property_a_case_only_edit_plans_exactly_what_the_unedited_file_plans(
        world: tuple[Roster | None, Roster, LiveSnapshot, bool]) -> None:
    previous, current, live, authoritative = world
    shouted = Roster(current.organization.upper(), frozenset(u.upper().casefold() for u in current.users),
                     current.teams, current.declared_count)
    a = plan_revocations(previous, current, live_view(live, current.users), authoritative)
    b = plan_revocations(previous, shouted, live_view(live, shouted.users), authoritative)
    assert a == b
