"""analysis: stale judgment, declared-vs-live comparison, cost, activity buckets (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from copilot_seats import defaults
from copilot_seats.decisions import analysis
from copilot_seats.decisions.analysis import StaleKind, activity_bucket, compare, estimated_monthly_cost, stale_reason
from copilot_seats.desired.spec import Plan, SeatSpec, Settings, StaleExemption, TeamGrant, UserGrant
from copilot_seats.github.live import LiveBilling, LiveSeat, LiveSnapshot, SeatBreakdown

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def seat(login: str, *, activity_days: float | None = 1, created_days: float = 365, team: str | None = None,
         pending: date | None = None) -> LiveSeat:
    return LiveSeat(
        login=login, key=login.casefold(), assigning_team=team,
        created_at=NOW - timedelta(days=created_days),
        last_activity_at=None if activity_days is None else NOW - timedelta(days=activity_days),
        pending_cancellation_date=pending,
    )


def snapshot(*seats: LiveSeat, unassigned: int = 0) -> LiveSnapshot:
    return LiveSnapshot("acme", LiveBilling(SeatBreakdown(), "assign_selected", "block"),
                        {s.key: s for s in seats}, unassigned, NOW)


def test_module_exports_are_pinned() -> None:
    assert sorted(analysis.__all__) == [
        "ACTIVITY_BUCKETS", "Comparison", "SeatRow", "StaleKind", "StaleVerdict", "activity_bucket",
        "compare", "estimated_monthly_cost", "is_exempt", "seat_price", "stale_reason"]


@pytest.mark.parametrize(
    ("activity_days", "created_days", "expected"),
    [
        pytest.param(10, 365, None, id="recent-activity-is-not-stale"),
        pytest.param(60.5, 365, None, id="at-threshold-is-not-stale"),
        pytest.param(61, 365, None, id="within-reporting-lag-tolerance-is-not-stale"),
        pytest.param(61.5, 365, StaleKind.INACTIVE, id="older-than-threshold-plus-lag-is-stale"),
        pytest.param(None, 200, StaleKind.NO_ACTIVITY, id="null-activity-old-grant-is-stale"),
        pytest.param(None, 10, None, id="null-activity-within-grace-is-not-stale"),
        pytest.param(None, 14, None, id="null-activity-at-grace-boundary-is-not-stale"),
    ],
)
def test_stale_reason_applies_threshold_lag_and_grace(
        activity_days: float | None, created_days: float, expected: StaleKind | None) -> None:
    verdict = stale_reason(seat("a", activity_days=activity_days, created_days=created_days), None, NOW,
                           stale_days=60, grace_days=14)
    assert (verdict.kind if verdict else None) == expected


def test_stale_reason_explains_null_as_never_used_or_beyond_retention() -> None:
    verdict = stale_reason(seat("a", activity_days=None, created_days=120), None, NOW)
    assert verdict is not None
    assert "never used, or inactive for more than GitHub's 90-day retention" in verdict.message
    assert verdict.days == 120 and verdict.last_activity_at is None


def test_stale_reason_uses_remembered_activity_when_github_reports_null() -> None:
    remembered = NOW - timedelta(days=100)
    verdict = stale_reason(seat("a", activity_days=None), None, NOW, remembered_last_activity=remembered)
    assert verdict is not None and verdict.kind is StaleKind.INACTIVE
    assert verdict.remembered and verdict.days == 100 and "remembered" in verdict.message


def test_stale_reason_prefers_the_later_of_reported_and_remembered_activity() -> None:
    verdict = stale_reason(seat("a", activity_days=5), None, NOW,
                           remembered_last_activity=NOW - timedelta(days=100))
    assert verdict is None


@pytest.mark.parametrize(
    ("until", "stale"),
    [pytest.param(date(2026, 7, 1), False, id="future-until-exempts"),
     pytest.param(date(2026, 6, 15), False, id="until-today-still-exempts"),
     pytest.param(date(2026, 6, 14), True, id="past-until-no-longer-exempts")],
)
def test_stale_exemption_holds_until_its_date(until: date, stale: bool) -> None:
    grant = UserGrant(login="a", stale_exemption=StaleExemption("leave", until))
    assert (stale_reason(seat("a", activity_days=200), grant, NOW) is not None) is stale


def test_seat_pending_cancellation_is_never_stale() -> None:
    assert stale_reason(seat("a", activity_days=None, pending=date(2026, 7, 1)), None, NOW) is None


def test_no_seat_is_never_stale() -> None:
    assert stale_reason(None, UserGrant(login="a"), NOW) is None


SPEC = SeatSpec(
    organization="acme",
    users=(UserGrant(login="Alice"), UserGrant(login="bob"), UserGrant(login="dave"),
           UserGrant(login="old", expires=date(2026, 1, 1)), UserGrant(login="erin")),
    teams=(TeamGrant(slug="platform"), TeamGrant(slug="ghost", expires=date(2025, 1, 1))),
)
SNAP = snapshot(
    seat("alice", activity_days=2),
    seat("carol", team="platform"),
    seat("dave", team="platform"),
    seat("zoe", activity_days=None, created_days=300),
    seat("zed", pending=date(2026, 7, 1)),
    seat("erin", pending=date(2026, 7, 1)),
    seat("old", team="other"),
    unassigned=2,
)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        pytest.param("unmanaged", ("zoe",), id="undeclared-live-seat-is-unmanaged-but-pending-is-not"),
        pytest.param("missing", ("bob",), id="declared-user-without-seat-is-missing"),
        pytest.param("missing_teams", ("ghost",), id="declared-team-without-seats-is-missing"),
        pytest.param("pending_cancellation", ("erin", "zed"), id="pending-seats-are-listed"),
        pytest.param("stale", ("zoe",), id="stale-seats-are-listed"),
        pytest.param("expired", ("old",), id="expired-user-grant"),
        pytest.param("expired_teams", ("ghost",), id="expired-team-grant"),
        pytest.param("double_granted", ("dave",), id="direct-and-declared-team-is-double-granted"),
    ],
)
def test_compare_sets(field: str, expected: tuple[str, ...]) -> None:
    assert getattr(compare(SPEC, SNAP, NOW), field) == expected


def test_compare_rows_join_declared_and_live_by_case_insensitive_key() -> None:
    result = compare(SPEC, SNAP, NOW)
    rows = {r.key: r for r in result.rows}
    assert rows["alice"].login == "alice" and rows["alice"].declared_directly and rows["alice"].live
    assert rows["carol"].declared and not rows["carol"].declared_directly
    assert rows["carol"].assigning_team == "platform" and rows["carol"].grant == SPEC.teams[0]
    assert rows["bob"].seat is None and not rows["bob"].live
    assert not rows["zoe"].declared and rows["zoe"].stale is not None
    assert result.declared_count == 6 and result.live_count == 7 and result.unassigned_count == 2
    assert result.has_drift


def test_compare_without_drift_reports_none() -> None:
    spec = SeatSpec("acme", users=(UserGrant(login="a"),))
    assert not compare(spec, snapshot(seat("a")), NOW).has_drift


@pytest.mark.parametrize(
    ("settings", "expected"),
    [pytest.param(Settings(), Decimal(19 * 9), id="business-list-price"),
     pytest.param(Settings(plan=Plan.ENTERPRISE), Decimal(39 * 9), id="enterprise-list-price"),
     pytest.param(Settings(seat_price_usd=Decimal("10.5")), Decimal("94.5"), id="price-override")],
)
def test_estimated_monthly_cost_counts_all_listed_seats(settings: Settings, expected: Decimal) -> None:
    assert estimated_monthly_cost(SNAP, settings) == expected


def test_estimated_monthly_cost_accepts_a_count() -> None:
    assert estimated_monthly_cost(3, Settings()) == defaults.SEAT_PRICE_USD["business"] * 3
    with pytest.raises(ValueError):
        estimated_monthly_cost(-1, Settings())


@pytest.mark.parametrize(
    ("days", "bucket"),
    [pytest.param(0, "0-7", id="today"), pytest.param(7, "0-7", id="7"), pytest.param(8, "8-30", id="8"),
     pytest.param(45, "31-60", id="45"), pytest.param(90, "61-90", id="90"),
     pytest.param(91, ">90/never", id="91"), pytest.param(None, ">90/never", id="null")],
)
def test_activity_bucket(days: int | None, bucket: str) -> None:
    assert activity_bucket(seat("a", activity_days=days), NOW) == bucket
