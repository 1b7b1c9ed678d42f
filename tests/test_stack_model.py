"""seats.yaml + snapshot -> resource inputs (copilot_seats.stack.model.build_stack)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from copilot_seats.decisions.run_settings import OnDelete, RunSettings
from copilot_seats.desired.spec import Mode, SeatSpec, Settings, TeamGrant, UserGrant
from copilot_seats.github.live import LiveBilling, LiveSeat, LiveSnapshot, SeatBreakdown
from copilot_seats.stack.model import Declared, RunOptions, build_stack

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


def by_name(declared: tuple[Declared, ...]) -> dict[str, dict[str, Any]]:
    return {d.name: d.props for d in declared}


def test_one_seat_resource_per_declared_user_named_by_casefolded_login_with_observations() -> None:
    model = build_stack(spec(), LIVE, NOW, RunOptions(stack="dev"))
    seats = by_name(model.seats)
    assert set(seats) == {"alice", "bob"}
    assert model.seats[0].aliases == ("Alice",)  # the name earlier versions used
    alice = seats["alice"]
    assert alice["login"] == "Alice" and alice["live"] is True and alice["last_activity_at"] == "2026-11-20T00:00:00Z"
    assert alice["expires"] == "2027-01-01" and alice["owner"] == "platform"
    assert seats["bob"]["live"] is False
    assert "token" not in str(model).lower()


def test_each_seat_carries_its_standing_and_planned_repair() -> None:
    seats = by_name(build_stack(spec(), LIVE, NOW, RunOptions()).seats)
    assert seats["alice"]["standing"] == "seated" and seats["alice"]["repair"] is None
    assert seats["bob"]["standing"] == "missing" and seats["bob"]["repair"] == "grant: GitHub lists no seat"


def test_a_pending_declared_seat_is_leaving_and_re_granted() -> None:
    s = SeatSpec(organization="octo", users=(UserGrant(login="frank"),))
    frank = by_name(build_stack(s, LIVE, NOW, RunOptions()).seats)["frank"]
    assert frank["standing"] == "leaving" and frank["repair_kind"] == "re-grant"
    assert "2026-12-01" in frank["repair"]


def test_team_grant_counts_its_live_seats() -> None:
    teams = by_name(build_stack(spec(), LIVE, NOW, RunOptions()).teams)
    assert teams["ml"]["live_seats"] == 1 and teams["ml"]["standing"] == "seated"


def test_organization_carries_drift_for_the_policy_pack() -> None:
    org = build_stack(spec(), LIVE, NOW, RunOptions()).organization
    assert org.name == "organization" and org.aliases == ("octo",)
    props = org.props
    assert [u["login"] for u in props["unmanaged"]] == ["carol", "erin"]
    assert props["unmanaged"][1]["assigning_team"] == "design"
    assert props["missing"] == ["bob"]
    assert props["pending_cancellation"] == ["frank"] and props["leaving"] == []
    assert props["roster_users"] == ["alice", "bob"] and props["roster_teams"] == ["ml"]
    assert props["unmanaged_direct"] == ["carol"] and props["team_seats"] == {"design": 1, "ml": 1}
    assert props["seat_management_setting"] == "assign_selected"
    assert props["estimated_monthly_cost"] == "114"  # 5 listed + 1 unassigned, business list price


def test_additive_mode_plans_no_revocation_of_seats_outside_seats_yaml() -> None:
    model = build_stack(spec(), LIVE, NOW, RunOptions())
    assert model.roster is not None and model.roster.props["revoke"] is None
    assert model.organization.props["authoritative_revocations"] == 0


def test_authoritative_mode_revokes_unmanaged_direct_seats_and_undeclared_teams() -> None:
    model = build_stack(spec(Mode.AUTHORITATIVE), LIVE, NOW, RunOptions())
    assert model.roster is not None
    assert model.roster.props["revoke"] == {"users": ["carol"], "teams": {"design": 1}, "seats": 2}
    assert model.organization.props["authoritative_revocations"] == 2


def test_guard_settings_reach_the_organization_including_zero() -> None:
    settings = RunSettings(max_removal_count=0, max_removal_fraction=0.0, on_delete=OnDelete.FORGET)
    props = build_stack(spec(), LIVE, NOW, RunOptions(settings=settings)).organization.props
    assert props["max_removal_count"] == 0 and props["max_removal_fraction"] == 0.0
    assert props["on_delete"] == "forget"


def test_outputs_count_each_category() -> None:
    model = build_stack(spec(), LIVE, NOW, RunOptions())
    out = model.outputs
    assert out["declaredSeats"] == 2 and out["liveSeats"] == 6
    assert out["missingSeats"] == 1 and out["pendingCancellationSeats"] == 1 and out["leavingSeats"] == 0
    assert out["grantsPlanned"] == 1  # bob
    assert model.unmanaged_count == 2


def test_team_grant_lists_its_members_activity_for_the_stale_rule() -> None:
    team = by_name(build_stack(spec(), LIVE, NOW, RunOptions()).teams)["ml"]
    assert [m["login"] for m in team["members"]] == ["dave"]
    assert team["members"][0]["created_at"] == "2025-01-01T00:00:00Z"


def test_every_property_the_program_sends_is_in_the_providers_contract_and_back() -> None:
    """One contract: build_stack sends exactly the fields copilot_seats.provider.contract declares
    for each type (desired + observed), and the provider's check adds only what it declares."""
    from copilot_seats.provider.contract import ORGANIZATION, ROSTER, SEAT, TEAM, ResourceType

    model = build_stack(spec(Mode.AUTHORITATIVE), LIVE, NOW, RunOptions(stack="dev", run_id="r1"))
    sent: list[tuple[ResourceType, dict[str, Any]]] = [(ORGANIZATION, model.organization.props)]
    sent += [(SEAT, d.props) for d in model.seats] + [(TEAM, d.props) for d in model.teams]
    assert model.roster is not None
    sent.append((ROSTER, model.roster.props))
    for rtype, props in sent:
        declared = set(rtype.desired_names) | rtype.observed_names
        assert set(props) <= declared, (rtype.name, sorted(set(props) - declared))
        checked_only = {"remembered_last_activity_at"} if rtype is SEAT else set()
        assert declared - set(props) <= checked_only | {f.name for f in rtype.outputs}, (
            rtype.name, sorted(declared - set(props)))
