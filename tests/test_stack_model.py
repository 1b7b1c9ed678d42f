"""seats.yaml + snapshot -> the one Seats resource's inputs (copilot_seats.stack.model.build_stack)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from copilot_seats.decisions.planning import LiveView
from copilot_seats.decisions.run_settings import OnDelete, RunSettings
from copilot_seats.desired.spec import Mode, SeatSpec, Settings, TeamGrant, UserGrant
from copilot_seats.github.live import LiveBilling, LiveSeat, LiveSnapshot, SeatBreakdown
from copilot_seats.provider.contract import SEATS, Guard, Revoking, SeatsInputs
from copilot_seats.provider.seats import SeatsHandler
from copilot_seats.stack.model import RunOptions, build_stack

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def seat(login: str, team: str | None = None, pending: date | None = None,
         activity: datetime | None = None) -> LiveSeat:
    return LiveSeat(login=login, key=login.casefold(), assigning_team=team,
                    created_at=datetime(2025, 1, 1, tzinfo=UTC), pending_cancellation_date=pending,
                    last_activity_at=activity, last_activity_editor="vscode/1.0" if activity else None)


def snapshot(*seats: LiveSeat, setting: str = "assign_selected") -> LiveSnapshot:
    billing = LiveBilling(seat_breakdown=SeatBreakdown(total=len(seats)), seat_management_setting=setting,
                          public_code_suggestions="block", plan_type="business")
    return LiveSnapshot(organization="octo", billing=billing, seats={s.key: s for s in seats},
                        unassigned_count=1, fetched_at=NOW)


def spec(mode: Mode = Mode.ADDITIVE) -> SeatSpec:
    return SeatSpec(
        organization="octo",
        users=(UserGrant(login="Alice", owner="platform", expires=date(2027, 1, 1)), UserGrant(login="bob")),
        teams=(TeamGrant(slug="ml"),),
        settings=Settings(mode=mode),
    )


LIVE = snapshot(
    seat("alice", activity=datetime(2026, 11, 20, tzinfo=UTC)),
    seat("carol"),                              # unmanaged, direct
    seat("dave", team="ml"),                    # via declared team
    seat("erin", team="design"),                # unmanaged, via undeclared team
    seat("frank", pending=date(2026, 12, 1)),   # leaving
)


def test_one_seats_resource_keyed_by_casefolded_login_with_observations() -> None:
    seats = build_stack(spec(), LIVE, NOW, RunOptions()).seats
    assert set(seats.users) == {"alice", "bob"} and seats.organization == "octo"
    alice = seats.users["alice"]
    assert alice.login == "Alice" and alice.expires == "2027-01-01" and alice.owner == "platform"
    seen = seats.observed_users["alice"]
    assert seen.created_at == "2025-01-01T00:00:00Z" and seen.last_activity_at == "2026-11-20T00:00:00Z"
    assert seats.observed_users["bob"].created_at is None  # GitHub lists no seat for bob
    assert "token" not in str(seats.to_props()).lower()


def test_a_case_only_edit_is_a_spelling_change_of_the_same_entry() -> None:
    """Replaces the per-seat resources' aliases (one resource now, its name fixed): the entry's
    key stays the casefolded login, only its spelling changes."""
    respelled = SeatSpec(organization="OCTO", users=(UserGrant(login="ALICE", owner="platform",
                                                               expires=date(2027, 1, 1)), UserGrant(login="bob")),
                         teams=(TeamGrant(slug="ml"),))
    before = build_stack(spec(), LIVE, NOW, RunOptions()).seats
    after = build_stack(respelled, LIVE, NOW, RunOptions()).seats
    assert set(after.users) == set(before.users) and after.users["alice"].login == "ALICE"
    assert after.observed_users == before.observed_users and after.grant_users == before.grant_users
    assert after.organization == "OCTO"


def test_each_user_carries_its_standing_and_planned_repair() -> None:
    seats = build_stack(spec(), LIVE, NOW, RunOptions()).seats
    assert seats.observed_users["alice"].standing == "seated" and "alice" not in seats.grant_users
    assert seats.observed_users["bob"].standing == "missing"
    assert seats.grant_users["bob"].reason == "grant: GitHub lists no seat"


def test_a_pending_declared_seat_is_leaving_and_re_granted() -> None:
    s = SeatSpec(organization="octo", users=(UserGrant(login="frank"),))
    seats = build_stack(s, LIVE, NOW, RunOptions()).seats
    assert seats.observed_users["frank"].standing == "leaving"
    assert seats.observed_users["frank"].pending_cancellation_date == "2026-12-01"
    assert seats.grant_users["frank"].kind == "re-grant" and "2026-12-01" in seats.grant_users["frank"].reason


def test_a_declared_team_carries_its_standing_and_members() -> None:
    seats = build_stack(spec(), LIVE, NOW, RunOptions()).seats
    ml = seats.observed_teams["ml"]
    assert ml.standing == "seated" and list(ml.members) == ["dave"]
    assert ml.members["dave"].created_at == "2025-01-01T00:00:00Z"
    assert seats.org.declared_team_seats == {"ml": 1} and seats.grant_teams == {}


def test_the_org_observation_carries_drift_for_the_policy_pack() -> None:
    seats = build_stack(spec(), LIVE, NOW, RunOptions()).seats
    org = seats.org
    assert org.unmanaged == (("carol", None), ("erin", "design"))
    assert org.missing == ("bob",) and org.pending_cancellation == ("frank",) and org.leaving == ()
    assert org.seat_management_setting == "assign_selected"
    assert org.estimated_monthly_cost == "114"  # 5 listed + 1 unassigned, business list price
    assert seats.live == LiveView(frozenset({"carol"}), {"design": 1, "ml": 1})
    assert seats.declared_count == 3  # alice, bob and dave (through ml)


def test_the_program_plans_no_revocation_the_providers_check_does() -> None:
    """Revocations need the last applied record, which only the provider's check sees: the
    program sends the mode and the live view, the check plans from them."""
    for mode, users, teams in ((Mode.ADDITIVE, {}, {}), (Mode.AUTHORITATIVE, {"carol"}, {"design": 1})):
        seats = build_stack(spec(mode), LIVE, NOW, RunOptions()).seats
        assert seats.revoking == Revoking() and seats.mode == mode.value
        checked, failures = SeatsHandler().check({}, seats.to_props())
        assert failures == []
        revoking = SeatsInputs.from_props(checked).revoking
        assert set(revoking.users) == set(users) and dict(revoking.teams) == teams
        assert revoking.seats == len(users) + sum(teams.values())


def test_guard_settings_reach_the_resource_including_zero() -> None:
    settings = RunSettings(max_removal_count=0, max_removal_fraction=0.0, on_delete=OnDelete.FORGET)
    seats = build_stack(spec(), LIVE, NOW, RunOptions(settings=settings)).seats
    assert seats.guard == Guard(0, 0.0, False, False, OnDelete.FORGET)
    props = seats.to_props()["guard"]
    assert props["max_removal_count"] == 0 and props["max_removal_fraction"] == 0.0
    assert props["on_delete"] == "forget"


def test_outputs_count_each_category() -> None:
    model = build_stack(spec(), LIVE, NOW, RunOptions())
    out = model.outputs
    assert out["declaredSeats"] == 2 and out["liveSeats"] == 6
    assert out["missingSeats"] == 1 and out["pendingCancellationSeats"] == 1 and out["leavingSeats"] == 0
    assert out["grantsPlanned"] == 1  # bob
    assert model.unmanaged_count == 2


def test_every_property_the_program_sends_is_in_the_providers_contract_and_back() -> None:
    """One contract: build_stack sends exactly the inputs copilot_seats.provider.contract declares
    for the Seats resource, the provider's check returns no other, and nothing is lost on the wire."""
    seats = build_stack(spec(Mode.AUTHORITATIVE), LIVE, NOW, RunOptions(run_id="r1")).seats
    sent = seats.to_props()
    assert set(sent) == set(SEATS.inputs), sorted(set(sent) ^ set(SEATS.inputs))
    assert SeatsInputs.from_props(sent) == seats and sent["run_id"] == "r1"
    checked, _ = SeatsHandler().check({}, sent)
    assert set(checked) == set(SEATS.inputs), sorted(set(checked) ^ set(SEATS.inputs))
