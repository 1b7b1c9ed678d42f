"""render / render_text: the report model and its four formats (pure, from hand-built values)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from copilot_seats.decisions.analysis import compare
from copilot_seats.desired.spec import SeatSpec, TeamGrant, UserGrant
from copilot_seats.github.live import LiveBilling, LiveSeat, LiveSnapshot, SeatBreakdown
from copilot_seats.reports import render
from copilot_seats.reports.render import CSV_COLUMNS, last_surface_used, report_data
from copilot_seats.reports.render_text import mermaid_chart

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def seat(login: str, days: float | None, team: str | None = None, pending: date | None = None,
         editor: str | None = "vscode/1.99.0/copilot/1.300.0") -> LiveSeat:
    return LiveSeat(login, login.casefold(), team, NOW - timedelta(days=400), None, pending,
                    None if days is None else NOW - timedelta(days=days), editor if days is not None else None,
                    None, "business")


SEATS = [seat("fresh", 1), seat("Old|pipe", 80), seat("never", None), seat("teamie", 20, team="platform"),
         seat("leaving", 5, pending=date(2026, 7, 1))]
SNAP = LiveSnapshot("acme", LiveBilling(SeatBreakdown(total=6), "assign_selected", "block", plan_type="business"),
                    {s.key: s for s in SEATS}, 1, NOW)
SPEC = SeatSpec("acme", users=(UserGrant(login="fresh", owner="me"), UserGrant(login="ghost")),
                teams=(TeamGrant(slug="platform"),))
DATA = report_data(compare(SPEC, SNAP, NOW), SNAP, Decimal("114"), Decimal("19"))


def test_module_exports_are_pinned() -> None:
    assert sorted(render.__all__) == ["CSV_COLUMNS", "FORMATS", "last_surface_used", "render", "render_csv",
                                      "render_json", "report_data", "sorted_rows"]


def test_report_data_has_the_documented_keys_and_totals() -> None:
    assert {"organization", "generated_at", "live_seats", "declared_seats", "estimated_monthly_cost", "seats",
            "unmanaged", "missing", "pending_cancellation", "stale"} <= set(DATA)
    assert (DATA["live_seats"], DATA["unassigned_seats"], DATA["declared_seats"]) == (5, 1, 3)
    assert DATA["estimated_monthly_cost"] == 114.0
    assert DATA["activity_buckets"] == {"0-7": 2, "8-30": 1, "31-60": 0, "61-90": 1, ">90/never": 2}


def test_seats_are_sorted_by_last_activity_then_null_then_missing() -> None:
    assert [s["login"] for s in DATA["seats"]] == ["fresh", "leaving", "teamie", "Old|pipe", "never", "ghost"]


def test_seat_objects_carry_every_documented_field() -> None:
    fields = {"login", "declared", "live", "assigning_team", "last_activity_at", "last_activity_editor",
              "last_authenticated_at", "created_at", "pending_cancellation_date", "stale"}
    assert all(fields <= set(s) for s in DATA["seats"])
    fresh = DATA["seats"][0]
    assert fresh["owner"] == "me" and fresh["last_activity_at"] == "2026-06-14T12:00:00Z"


@pytest.mark.parametrize(
    ("editor", "surface"),
    [pytest.param("vscode/1.89.1/copilot/1.2", "VS Code 1.89.1", id="vscode"),
     pytest.param("JetBrains-IU/2024.3/copilot-intellij/1.5", "JetBrains-IU 2024.3", id="jetbrains"),
     pytest.param("neovim", "Neovim", id="no-version"),
     pytest.param(None, "Unspecified", id="unknown")],
)
def test_last_surface_used_mimics_githubs_activity_report(editor: str | None, surface: str) -> None:
    assert last_surface_used(editor) == surface


def test_csv_starts_with_githubs_activity_report_columns() -> None:
    rows = list(csv.DictReader(io.StringIO(render.render("csv", DATA))))
    assert list(rows[0])[:5] == ["report_time", "login", "last_authenticated_at", "last_activity_at",
                                 "last_surface_used"]
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 6
    never = next(r for r in rows if r["login"] == "never")
    assert never["last_activity_at"] == "" and never["last_surface_used"] == "Unspecified"
    assert never["stale"] == "true" and "90-day retention" in never["stale_reason"]


def test_json_round_trips() -> None:
    assert json.loads(render.render("json", DATA)) == DATA


def test_markdown_has_a_mermaid_chart_and_drift_sections() -> None:
    text = render.render("markdown", DATA)
    assert "```mermaid\nxychart-beta" in text and "bar [2, 1, 0, 1, 2]" in text
    for heading in ("Stale seats", "Unmanaged seats", "Missing seats", "Pending cancellation"):
        assert f"### {heading}" in text
    assert "Old\\|pipe" in text, "pipes in logins must not break Markdown tables"


def test_table_lists_every_login_and_the_null_meaning() -> None:
    text = render.render("table", DATA)
    assert all(s["login"] in text for s in DATA["seats"])
    assert "never used, or inactive for more than GitHub's 90-day retention" in text
    assert "Estimated monthly cost: $114.00 (6 x $19.00)" in text


def test_mermaid_chart_axis_covers_the_tallest_bar() -> None:
    assert 'y-axis "Seats" 0 --> 9' in mermaid_chart({"a": 9, "b": 0})


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render.render("xml", DATA)
