"""Human views of the report model (:func:`copilot_seats.reports.render.report_data`): a text table for
terminals and Markdown (with a Mermaid chart) for PR comments and job summaries.

Every string that comes from GitHub or seats.yaml passes :mod:`copilot_seats.escape` on its way
out: in Markdown, names are code spans (:func:`~copilot_seats.escape.md_code`) and prose is
literal text (:func:`~copilot_seats.escape.md_text`), so a newline, HTML, a link or image, a
pipe or an @mention in an editor string or a team slug renders as those characters and nothing
more; in the table, control characters (escape sequences) are shown escaped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copilot_seats.escape import md_code, md_text, one_line

__all__ = ["mermaid_chart", "render_markdown", "render_table"]

_NULL_NOTE = ("no activity reported: never used, or inactive for more than GitHub's 90-day retention "
              "(activity can take up to 24 h to appear and needs IDE telemetry)")


def _days_ago(stamp: str | None, now: str) -> str:
    if stamp is None:
        return "never/>90d"
    delta = datetime.fromisoformat(now.replace("Z", "+00:00")) - datetime.fromisoformat(
        stamp.replace("Z", "+00:00"))
    return f"{stamp[:10]} ({max(delta.days, 0)}d)"


def _source(seat: dict[str, Any]) -> str:
    if not seat["live"]:
        return "-"
    return f"team:{seat['assigning_team']}" if seat["assigning_team"] else "direct"


def _md_source(seat: dict[str, Any]) -> str:
    return md_code(_source(seat)) if seat["live"] and seat["assigning_team"] else _source(seat)


def _status(seat: dict[str, Any]) -> str:
    flags = []
    if seat["live"] and not seat["declared"]:
        flags.append("unmanaged")
    if not seat["live"]:
        flags.append("missing")
    if seat["pending_cancellation_date"]:
        flags.append(f"pending {seat['pending_cancellation_date']}")
    if seat["stale"]:
        flags.append("stale")
    return ", ".join(flags) or "ok"


_FROM_DATA = frozenset({"Organization", "Seat management"})
"""The summary values that come from seats.yaml or GitHub; the others are counts, dates and
prices this module formats itself (``$114.00 (6 x $19.00)`` stays readable)."""


def _summary_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Organization", data["organization"]),
        ("Generated at", data["generated_at"]),
        ("Seat management", str(data["seat_management_setting"])),
        ("Live seats", f"{data['live_seats']} (+{data['unassigned_seats']} without assignee)"),
        ("Declared seats", str(data["declared_seats"])),
        ("Estimated monthly cost", f"${data['estimated_monthly_cost']:,.2f} "
                                   f"({data['live_seats'] + data['unassigned_seats']} x "
                                   f"${data['seat_price_usd']:,.2f})"),
        ("Unmanaged", str(len(data["unmanaged"]))),
        ("Missing", f"{len(data['missing'])} users, {len(data['missing_teams'])} teams"),
        ("Leaving (declared, pending)", f"{len(data['leaving'])} users, {len(data['leaving_teams'])} teams"),
        ("Pending cancellation", str(len(data["pending_cancellation"]))),
        ("Stale", str(len(data["stale"]))),
        ("Expired grants", f"{len(data['expired'])} users, {len(data['expired_teams'])} teams"),
        ("Double granted", str(len(data["double_granted"]))),
    ]


def render_table(data: dict[str, Any]) -> str:
    """A fixed-width table of every login plus a summary, for terminals."""
    now = data["generated_at"]
    lines = [f"{label + ':':<24}{value}" for label, value in _summary_lines(data)]
    header = ("LOGIN", "SOURCE", "DECLARED", "LAST ACTIVITY", "EDITOR", "STATUS")
    rows = [(one_line(s["login"]), one_line(_source(s)), "yes" if s["declared"] else "no",
             _days_ago(s["last_activity_at"], now) if s["live"] else "-",
             one_line((s["last_activity_editor"] or "-").split("/copilot")[0]), _status(s)) for s in data["seats"]]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines += ["", "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for title, key in (("Stale", "stale"), ("Unmanaged (not in seats.yaml)", "unmanaged"),
                       ("Missing (declared, no seat)", "missing"),
                       ("Leaving (declared, pending cancellation)", "leaving"),
                       ("Pending cancellation", "pending_cancellation")):
        if data[key]:
            lines += ["", f"{title}: {', '.join(one_line(v) for v in data[key])}"]
    if data["missing_teams"]:
        lines += ["", f"Declared teams with no seat: {', '.join(one_line(t) for t in data['missing_teams'])}"]
    if data["leaving_teams"]:
        lines += ["", "Declared teams whose seats are all pending cancellation: "
                      f"{', '.join(one_line(t) for t in data['leaving_teams'])}"]
    lines += ["", f"Note: 'never/>90d' = {_NULL_NOTE}."]
    return "\n".join(lines) + "\n"


def mermaid_chart(buckets: dict[str, int]) -> str:
    """A Mermaid ``xychart-beta`` bar chart of seats per days-since-last-activity bucket."""
    labels = ", ".join(f'"{label}"' for label in buckets)
    values = ", ".join(str(v) for v in buckets.values())
    top = max([*buckets.values(), 1])
    return "\n".join([
        "```mermaid",
        "xychart-beta",
        '    title "Seats by days since last Copilot activity"',
        f"    x-axis [{labels}]",
        f'    y-axis "Seats" 0 --> {top}',
        f"    bar [{values}]",
        "```",
    ])


def _md_list(title: str, logins: list[str], note: str = "") -> list[str]:
    if not logins:
        return []
    return ["", f"### {title} ({len(logins)})", *([note] if note else []), "",
            ", ".join(md_code(login) for login in logins)]


def render_markdown(data: dict[str, Any]) -> str:
    """Markdown for PR comments and job summaries: summary, chart, drift lists, seat table."""
    now = data["generated_at"]
    lines = [f"## Copilot seats: {md_text(data['organization'])}", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {md_text(value) if label in _FROM_DATA else value} |"
              for label, value in _summary_lines(data)]
    lines += ["", "### Activity", "", mermaid_chart(data["activity_buckets"]), "",
              f"_`>90/never`: {_NULL_NOTE}._"]
    stale = [s for s in data["seats"] if s["stale"]]
    if stale:
        lines += ["", f"### Stale seats ({len(stale)})", "", "| Login | Source | Why |", "|---|---|---|"]
        lines += [f"| {md_code(s['login'])} | {_md_source(s)} | {md_text(s['stale_reason'] or '')} |"
                  for s in stale]
    lines += _md_list("Unmanaged seats", data["unmanaged"], "Live seats not declared in seats.yaml.")
    lines += _md_list("Missing seats", data["missing"], "Declared in seats.yaml, no live seat.")
    lines += _md_list("Declared teams without seats", data["missing_teams"])
    lines += _md_list("Leaving seats", data["leaving"] + [f"team:{t}" for t in data["leaving_teams"]],
                      "Declared in seats.yaml but pending cancellation; `pulumi up` re-grants them.")
    lines += _md_list("Pending cancellation", data["pending_cancellation"],
                      "Access ends at the end of the billing cycle.")
    lines += _md_list("Expired grants", data["expired"] + [f"team:{t}" for t in data["expired_teams"]])
    lines += _md_list("Declared directly and through a declared team", data["double_granted"])
    lines += ["", "<details><summary>All seats (most recently active first)</summary>", "",
              "| Login | Source | Declared | Last activity | Editor | Status |", "|---|---|---|---|---|---|"]
    lines += [f"| {md_code(s['login'])} | {_md_source(s)} | {'yes' if s['declared'] else 'no'} | "
              f"{_days_ago(s['last_activity_at'], now) if s['live'] else '-'} | "
              f"{md_code(s['last_activity_editor']) if s['last_activity_editor'] else '-'} | "
              f"{md_text(_status(s))} |" for s in data["seats"]]
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
