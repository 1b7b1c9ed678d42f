"""Rendering a :class:`~copilot_seats.decisions.analysis.Comparison` as JSON, CSV, a text table or Markdown.

Everything here is pure: the report model (:func:`report_data`) is built once from the
comparison, and each format is a view of it. Table and Markdown live in
:mod:`copilot_seats.reports.render_text`.

Row order everywhere: live seats by last activity, most recent first; seats with no reported
activity (null: never used, or inactive > 90 days) after them; declared users without a seat last.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from copilot_seats.decisions.analysis import ACTIVITY_BUCKETS, Comparison, SeatRow, activity_bucket
from copilot_seats.escape import csv_cell
from copilot_seats.github.live import LiveSnapshot

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "last_surface_used",
    "render",
    "render_csv",
    "render_json",
    "report_data",
    "sorted_rows",
]

FORMATS = ("table", "markdown", "json", "csv")

CSV_COLUMNS = (
    # GitHub's Copilot activity report columns, in its documented order ...
    "report_time", "login", "last_authenticated_at", "last_activity_at", "last_surface_used",
    # ... followed by ours.
    "declared", "declared_directly", "live", "assigning_team", "created_at", "pending_cancellation_date",
    "last_activity_editor", "stale", "stale_reason", "owner", "reason", "expires", "cost_center", "standing",
)

_EDITOR_NAMES = {"vscode": "VS Code", "vs": "Visual Studio", "visualstudio": "Visual Studio",
                 "neovim": "Neovim", "vim": "Vim", "xcode": "Xcode", "eclipse": "Eclipse"}


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def last_surface_used(editor: str | None) -> str:
    """GitHub's activity-report style (``VS Code 1.89.1``) from ``vscode/1.89.1/copilot/...``;
    ``Unspecified`` when unknown, as in GitHub's report."""
    if not editor:
        return "Unspecified"
    parts = editor.split("/")
    name = _EDITOR_NAMES.get(parts[0].casefold(), parts[0])
    return f"{name} {parts[1]}" if len(parts) > 1 and parts[1] else name


def sorted_rows(comparison: Comparison) -> list[SeatRow]:
    """Rows in report order (see module docstring)."""
    def key(row: SeatRow) -> tuple[int, float, str]:
        if row.seat is None:
            return (2, 0.0, row.key)
        if row.seat.last_activity_at is None:
            return (1, 0.0, row.key)
        return (0, -row.seat.last_activity_at.timestamp(), row.key)
    return sorted(comparison.rows, key=key)


def _row_data(row: SeatRow) -> dict[str, Any]:
    seat, grant = row.seat, row.grant
    return {
        "login": row.login,
        "declared": row.declared,
        "standing": row.standing.value,
        "declared_directly": row.declared_directly,
        "live": row.live,
        "assigning_team": row.assigning_team,
        "last_activity_at": _iso(seat.last_activity_at) if seat else None,
        "last_activity_editor": seat.last_activity_editor if seat else None,
        "last_authenticated_at": _iso(seat.last_authenticated_at) if seat else None,
        "created_at": _iso(seat.created_at) if seat else None,
        "pending_cancellation_date": _iso(seat.pending_cancellation_date) if seat else None,
        "stale": row.stale is not None,
        "stale_reason": row.stale.message if row.stale else None,
        "owner": grant.owner if grant else None,
        "reason": grant.reason if grant else None,
        "expires": _iso(grant.expires) if grant else None,
        "cost_center": grant.cost_center if grant else None,
    }


def report_data(comparison: Comparison, snapshot: LiveSnapshot, monthly_cost: Decimal,
                seat_price: Decimal) -> dict[str, Any]:
    """The JSON report model: totals, settings, one object per login, and the drift lists."""
    buckets = Counter(activity_bucket(r.seat, comparison.generated_at) for r in comparison.rows if r.seat)
    buckets[ACTIVITY_BUCKETS[-1]] += comparison.unassigned_count
    billing = snapshot.billing
    return {
        "organization": comparison.organization,
        "generated_at": _iso(comparison.generated_at),
        "fetched_at": _iso(snapshot.fetched_at),
        "seat_management_setting": billing.seat_management_setting,
        "plan_type": billing.plan_type,
        "live_seats": comparison.live_count,
        "unassigned_seats": comparison.unassigned_count,
        "declared_seats": comparison.declared_count,
        "seat_price_usd": float(seat_price),
        "estimated_monthly_cost": float(monthly_cost),
        "currency": "USD",
        "activity_buckets": {label: buckets.get(label, 0) for label in ACTIVITY_BUCKETS},
        "seats": [_row_data(r) for r in sorted_rows(comparison)],
        "unmanaged": list(comparison.unmanaged),
        "missing": list(comparison.missing),
        "missing_teams": list(comparison.missing_teams),
        "leaving": list(comparison.leaving),
        "leaving_teams": list(comparison.leaving_teams),
        "pending_cancellation": list(comparison.pending_cancellation),
        "stale": list(comparison.stale),
        "expired": list(comparison.expired),
        "expired_teams": list(comparison.expired_teams),
        "double_granted": list(comparison.double_granted),
    }


def render_json(data: dict[str, Any]) -> str:
    """JSON with one top-level key per line and one seat object per line.

    Readable and diff-friendly, and uses the C encoder per element: ``json.dumps(indent=2)``
    falls back to the pure-Python encoder and doubled peak memory at 50,000 seats.
    """
    lines = ["{"]
    for index, (key, value) in enumerate(data.items()):
        comma = "," if index < len(data) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"  {json.dumps(key)}: [")
            lines += [f"    {json.dumps(item)}," for item in value[:-1]]
            lines += [f"    {json.dumps(value[-1])}", f"  ]{comma}"]
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}\n")
    return "\n".join(lines)


def render_csv(data: dict[str, Any]) -> str:
    """GitHub's activity-report columns, then ours; booleans as ``true``/``false``, null as empty.

    Every cell passes :func:`copilot_seats.escape.csv_cell`: a value from GitHub or seats.yaml
    starting with ``=``, ``+``, ``-``, ``@``, tab or CR is prefixed with ``'`` so a spreadsheet
    shows it instead of evaluating it.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for seat in data["seats"]:
        values = {**seat, "report_time": data["generated_at"],
                  "last_surface_used": last_surface_used(seat["last_activity_editor"])}
        writer.writerow(_cell(values.get(column)) for column in CSV_COLUMNS)
    return out.getvalue()


def _cell(value: Any) -> str:
    """One CSV cell: booleans as ``true``/``false``, null as empty, text never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return csv_cell(str(value))


def render(fmt: str, data: dict[str, Any]) -> str:
    """Render the report model in ``fmt`` (one of :data:`FORMATS`)."""
    from copilot_seats.reports.render_text import render_markdown, render_table

    renderers: dict[str, Callable[[dict[str, Any]], str]] = {
        "json": render_json, "csv": render_csv, "table": render_table, "markdown": render_markdown}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](data)
