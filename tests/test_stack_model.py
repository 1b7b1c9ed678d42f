"""seats.yaml + snapshot -> resource inputs (copilot_seats.stack_model.build_stack)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from copilot_seats.live import LiveBilling, LiveSeat, LiveSnapshot, SeatBreakdown
from copilot_seats.spec import Mode, SeatSpec, Settings, TeamGrant, UserGrant
from copilot_seats.stack_model import RunOptions, build_stack

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


def test_one_seat_resource_per_declared_user_named_by_login_with_observations() -> None:
    model = build_stack(spec(), LIVE, NOW, RunOptions(stack="dev"))
    assert set(model.seats) == {"Alice", "bob"}
    alice = model.seats["Alice"]
    assert alice["live"] is True and alice["last_activity_at"] == "2026-11-20T00:00:00Z"
    assert alice["expires"] == "2027-01-01" and alice["owner"] == "platform"
    assert model.seats["bob"]["live"] is False
    assert "token" not in str(model).lower()


def test_team_grant_counts_its_live_seats() -> None:
    model = build_stack(spec(), LIVE, NOW, RunOptions())
    assert model.teams["ml"]["live_seats"] == 1


def test_organization_carries_drift_for_the_policy_pack() -> None:
    org = build_stack(spec(), LIVE, NOW, RunOptions()).organization
    assert [u["login"] for u in org["unmanaged"]] == ["carol", "erin"]
    assert org["unmanaged"][1]["assigning_team"] == "design"
    assert org["missing"] == ["bob"]
    assert org["pending_cancellation"] == ["frank"]
    assert org["declared_users"] == ["alice", "bob"]
    assert org["seat_management_setting"] == "assign_selected"
    assert org["estimated_monthly_cost"] == "114"  # 5 listed + 1 unassigned, business list price


def test_additive_mode_revokes_nothing() -> None:
    model = build_stack(spec(), LIVE, NOW, RunOptions())
    assert model.revocations == {}
    assert model.organization["authoritative_revocations"] == 0


def test_authoritative_mode_revokes_unmanaged_direct_seats_and_undeclared_teams() -> None:
    model = build_stack(spec(Mode.AUTHORITATIVE), LIVE, NOW, RunOptions())
    assert set(model.revocations) == {"carol", "team:design"}
    assert model.revocations["team:design"] == {**model.revocations["team:design"], "kind": "team", "target": "design"}
    assert model.organization["authoritative_revocations"] == 2


def test_outputs_count_each_category() -> None:
    out = build_stack(spec(), LIVE, NOW, RunOptions()).outputs
    assert out["declaredSeats"] == 2 and out["liveSeats"] == 6
    assert out["unmanagedSeats"] == 2 and out["missingSeats"] == 1 and out["pendingCancellationSeats"] == 1


def test_team_grant_lists_its_members_activity_for_the_stale_rule() -> None:
    team = build_stack(spec(), LIVE, NOW, RunOptions()).teams["ml"]
    assert [m["login"] for m in team["members"]] == ["dave"]
    assert team["members"][0]["created_at"] == "2025-01-01T00:00:00Z"
