"""Finance views of the seats: one billed line per seat, and chargeback by cost center, owner, team.

GitHub bills every listed seat, including seats pending cancellation (until the cycle ends) and
seats with no assignee; a declared user without a seat costs nothing. So :func:`seat_lines`
has one line per listed seat and one per ``assignee: null`` seat, each with its plan type,
price and monthly cost, and the accountable owner and cost center from seats.yaml (the user's
entry, else the entry of the team that grants the seat). :func:`chargeback` sums the lines three
ways; the totals of each view equal the estimated monthly cost of the report.

Spreadsheet safety: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
is a formula in Excel, LibreOffice and Google Sheets; :func:`spreadsheet_safe` prefixes it
with ``'`` so owner or reason text from seats.yaml can never run as one. In the Markdown
summary every name (cost center, owner, team) goes through :func:`copilot_seats.escape.md_text`,
the one escaping function of every Markdown writer (no link, mention, image, HTML or invisible
character comes from it); the terminal table shows control characters escaped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from copilot_seats.decisions.analysis import Comparison
from copilot_seats.escape import csv_cell, md_text, one_line
from copilot_seats.github.live import LiveSnapshot

__all__ = ["FINANCE_COLUMNS", "NONE", "UNASSIGNED", "UNMANAGED", "SeatLine", "chargeback", "render_chargeback",
           "render_finance_csv", "seat_lines", "spreadsheet_safe"]

NONE = "(none)"
"""Group of seats whose seats.yaml entry names no owner / cost center."""
UNMANAGED = "(unmanaged)"
"""Group of seats held outside seats.yaml."""
UNASSIGNED = "(unassigned)"
"""Group of seats GitHub lists with ``assignee: null`` (billed, nobody uses them)."""
DIRECT = "(direct)"
"""Team group of seats granted to the user directly."""


@dataclass(frozen=True)
class SeatLine:
    """One billed seat."""

    login: str
    plan_type: str
    price_usd: Decimal
    monthly_cost_usd: Decimal
    cost_center: str
    owner: str
    team: str
    standing: str
    pending_cancellation_date: str
    last_activity_at: str
    created_at: str


FINANCE_COLUMNS = tuple(SeatLine.__dataclass_fields__)


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else ""


def seat_lines(comparison: Comparison, snapshot: LiveSnapshot, price: Decimal) -> list[SeatLine]:
    """Every billed seat: the listed ones (by login) and one line per ``assignee: null`` seat."""
    plan = snapshot.billing.plan_type or "unknown"
    lines = []
    for row in sorted(comparison.rows, key=lambda r: r.key):
        seat = row.seat
        if seat is None:
            continue  # declared, no seat: not billed
        grant = row.grant
        lines.append(SeatLine(
            login=row.login, plan_type=seat.plan_type or plan, price_usd=price, monthly_cost_usd=price,
            cost_center=(grant.cost_center or NONE) if grant is not None else UNMANAGED,
            owner=(grant.owner or NONE) if grant is not None else UNMANAGED,
            team=seat.assigning_team or DIRECT, standing=row.standing.value,
            pending_cancellation_date=seat.pending_cancellation_date.isoformat()
            if seat.pending_cancellation_date else "",
            last_activity_at=_day(seat.last_activity_at), created_at=_day(seat.created_at),
        ))
    lines += [SeatLine("", plan, price, price, UNASSIGNED, UNASSIGNED, UNASSIGNED, "unassigned", "", "", "")
              for _ in range(snapshot.unassigned_count)]
    return lines


def _groups(lines: Iterable[SeatLine], field: str) -> list[dict[str, Any]]:
    seats: dict[str, int] = {}
    cost: dict[str, Decimal] = {}
    for line in lines:
        key = str(getattr(line, field))
        seats[key] = seats.get(key, 0) + 1
        cost[key] = cost.get(key, Decimal(0)) + line.monthly_cost_usd
    ordered = sorted(seats, key=lambda k: (-cost[k], k))
    return [{field: k, "seats": seats[k], "monthly_cost_usd": float(cost[k])} for k in ordered]


def chargeback(lines: Sequence[SeatLine], organization: str) -> dict[str, Any]:
    """Cost by cost center, owner and team; each view sums to the same total."""
    total = sum((line.monthly_cost_usd for line in lines), Decimal(0))
    return {
        "organization": organization,
        "currency": "USD",
        "seats": len(lines),
        "monthly_cost_usd": float(total),
        "by_cost_center": _groups(lines, "cost_center"),
        "by_owner": _groups(lines, "owner"),
        "by_team": _groups(lines, "team"),
    }


def spreadsheet_safe(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: formulas are prefixed with ``'`` (the one rule,
    :func:`copilot_seats.escape.csv_cell`, shared with ``report --format csv``)."""
    return csv_cell("" if value is None else str(value))


def render_finance_csv(lines: Sequence[SeatLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FINANCE_COLUMNS)
    for line in lines:
        values = asdict(line)
        writer.writerow(spreadsheet_safe(values[c]) for c in FINANCE_COLUMNS)
    return out.getvalue()


def _money(value: float) -> str:
    return f"${value:,.2f}"


_VIEWS = (("by_cost_center", "cost_center", "Cost center"), ("by_owner", "owner", "Owner"),
          ("by_team", "team", "Team"))


def render_chargeback(data: Mapping[str, Any], fmt: str) -> str:
    """The chargeback summary as ``json``, ``markdown`` or ``table``."""
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    def title(organization: str) -> str:
        return (f"Copilot chargeback for {organization}: {data['seats']} seats, "
                f"{_money(data['monthly_cost_usd'])} per month")
    out: list[str] = []
    if fmt == "markdown":  # every name from seats.yaml or GitHub through the one escaping function
        out += [f"## {title(md_text(data['organization']))}", ""]
        for key, field, label in _VIEWS:
            out += [f"### By {label.lower()}", "", f"| {label} | Seats | Monthly cost |", "|---|---:|---:|"]
            out += [f"| {md_text(str(row[field])) or '-'} | {row['seats']} | {_money(row['monthly_cost_usd'])} |"
                    for row in data[key]]
            out.append("")
        return "\n".join(out)
    out += [one_line(title(data["organization"])), ""]
    for key, field, label in _VIEWS:
        rows = [(one_line(str(r[field])), str(r["seats"]), _money(r["monthly_cost_usd"])) for r in data[key]]
        width = max([len(label), *(len(r[0]) for r in rows)])
        out += [f"{label.upper():<{width}}  {'SEATS':>6}  {'MONTHLY':>14}"]
        out += [f"{name:<{width}}  {seats:>6}  {cost:>14}" for name, seats, cost in rows]
        out.append("")
    return "\n".join(out)
