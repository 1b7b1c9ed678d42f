"""live: payload parsers and fetch_snapshot (against the simulator)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pytest
from conftest import RunningSimulator

from copilot_seats.errors import ResponseError
from copilot_seats.github import live
from copilot_seats.github.live import fetch_snapshot, parse_billing, parse_datetime, parse_seat, parse_seats

GITHUB_EXAMPLE_SEAT: dict[str, Any] = {  # from GitHub's published example (offsets, no plan_type)
    "created_at": "2021-09-23T18:00:00-06:00", "updated_at": "2021-09-23T15:00:00-06:00",
    "pending_cancellation_date": "2021-11-01", "last_activity_at": "2021-10-13T00:53:32-06:00",
    "last_activity_editor": "vscode/1.77.3/copilot/1.86.82", "last_authenticated_at": "2021-10-14T00:53:32-06:00",
    "assignee": {"login": "OctoKitten", "id": 1, "type": "User"},
}


def test_module_exports_are_pinned() -> None:
    assert sorted(live.__all__) == ["LiveBilling", "LiveSeat", "LiveSnapshot", "SeatBreakdown", "fetch_snapshot",
                                    "parse_billing", "parse_date", "parse_datetime", "parse_seat", "parse_seats"]


def test_parse_seat_normalizes_login_and_converts_offsets_to_utc() -> None:
    seat = parse_seat(GITHUB_EXAMPLE_SEAT)
    assert seat is not None
    assert (seat.login, seat.key) == ("OctoKitten", "octokitten")
    assert seat.created_at == datetime(2021, 9, 24, 0, 0, tzinfo=UTC)
    assert seat.pending_cancellation_date == date(2021, 11, 1)
    assert seat.assigning_team is None and seat.plan_type is None


@pytest.mark.parametrize(
    ("team", "expected"),
    [pytest.param({"slug": "Platform"}, "platform", id="team-slug-casefolded"),
     pytest.param(None, None, id="null-team-is-direct"),
     pytest.param("absent", None, id="absent-team-is-direct")],
)
def test_parse_seat_assigning_team(team: Any, expected: str | None) -> None:
    payload = dict(GITHUB_EXAMPLE_SEAT)
    if team != "absent":
        payload["assigning_team"] = team
    seat = parse_seat(payload)
    assert seat is not None and seat.assigning_team == expected


def test_parse_seat_keeps_null_activity_as_none() -> None:
    seat = parse_seat({**GITHUB_EXAMPLE_SEAT, "last_activity_at": None, "last_activity_editor": None})
    assert seat is not None and seat.last_activity_at is None and seat.last_activity_editor is None


@pytest.mark.parametrize("assignee", [None, {}, {"login": ""}], ids=["null", "empty", "blank-login"])
def test_parse_seat_without_assignee_is_none(assignee: Any) -> None:
    assert parse_seat({**GITHUB_EXAMPLE_SEAT, "assignee": assignee}) is None


def test_parse_seat_requires_created_at() -> None:
    with pytest.raises(ResponseError, match="created_at") as caught:
        parse_seat({"assignee": {"login": "a"}})
    assert caught.value.field == "created_at"


def test_parse_seats_counts_unassigned_and_keeps_first_duplicate() -> None:
    second = {**GITHUB_EXAMPLE_SEAT, "assignee": {"login": "octokitten"}, "pending_cancellation_date": None}
    seats, unassigned = parse_seats([GITHUB_EXAMPLE_SEAT, second, {"created_at": "2021-01-01", "assignee": None}])
    assert list(seats) == ["octokitten"] and unassigned == 1
    assert seats["octokitten"].pending_cancellation_date == date(2021, 11, 1)


def test_parse_billing_tolerates_missing_optional_keys() -> None:
    billing = parse_billing({"seat_breakdown": {"total": 12, "active_this_cycle": 12},
                             "seat_management_setting": "assign_all", "public_code_suggestions": "block",
                             "extra": True})
    assert billing.seat_breakdown.total == 12 and billing.seat_breakdown.pending_invitation is None
    assert billing.seat_management_setting == "assign_all" and billing.ide_chat is None


def test_parse_datetime_accepts_z_and_offsets() -> None:
    assert parse_datetime("2025-06-10T14:02:11Z") == parse_datetime("2025-06-10T08:02:11-06:00")
    assert parse_datetime(None) is None


def test_fetch_snapshot_reads_billing_and_every_page(simulator: RunningSimulator) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pages: list[int] = []
    snap = fetch_snapshot(simulator.client(), "ACME", now=now, on_page=lambda p, s, t: pages.append(p))
    assert snap.fetched_at == now and snap.billing.seat_management_setting == "assign_selected"
    assert sorted(snap.seats) == ["alice", "bob", "carol", "dave", "erin", "newbie"]
    assert snap.unassigned_count == 1 and snap.listed_count == snap.total_seats == 7
    assert snap.seats["carol"].assigning_team == "platform"
    assert snap.seats["erin"].pending_cancellation_date is not None
    assert [r.path for r in simulator.requests] == ["/orgs/ACME/copilot/billing", "/orgs/ACME/copilot/billing/seats"]
    assert pages == [1]


@pytest.mark.parametrize("count", [99, 100, 101, 250], ids=lambda n: f"{n}-seats")
def test_fetch_snapshot_makes_one_billing_get_and_ceil_n_over_100_listing_gets(
        make_simulator: Any, count: int) -> None:
    fixture = {"organizations": [{"login": "big", "seats": [
        {"login": f"user{i}", "created_at": {"days_ago": 10}} for i in range(count)]}]}
    sim = make_simulator(fixture)
    snap = fetch_snapshot(sim.client(), "big")
    assert len(snap.seats) == count
    assert len(sim.requests) == 1 + math.ceil(count / 100)
    assert all(r.method == "GET" for r in sim.requests)
