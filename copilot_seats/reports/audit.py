"""Who granted a seat, when, approved by whom: seat changes from git history and stack history.

Every seat change is a merged pull request to seats.yaml, and every apply records that pull
request with its Pulumi update (the apply workflow's ``pulumi up --message``: PR number,
author, approvers, merge commit; Pulumi itself records the commit as ``git.head``). So the
audit trail is the first-parent git history of seats.yaml, each commit compared with its parent
by the loader, joined with ``pulumi stack history --json`` on the commit.

Pure: :func:`entry_changes` compares two specs, :func:`render_audit` renders rows. In Markdown
every value from seats.yaml, git (author names, commit subjects) or the stack history (update
messages) goes through :mod:`copilot_seats.escape` (``md_text``, ``md_code`` for names), as in
every other Markdown writer; the CSV is spreadsheet-safe. The git and
Pulumi plumbing lives in :mod:`copilot_seats.cli.audit`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from copilot_seats.desired.spec import Grant, SeatSpec
from copilot_seats.escape import md_code, md_text
from copilot_seats.reports.finance import spreadsheet_safe

__all__ = ["AUDIT_COLUMNS", "AuditRow", "Commit", "Update", "entry_changes", "pr_number", "render_audit"]

_FIELDS = ("owner", "reason", "expires", "cost_center")


@dataclass(frozen=True)
class Commit:
    """One commit that changed seats.yaml (first parent only: merges of pull requests)."""

    sha: str
    date: str
    author: str
    subject: str


@dataclass(frozen=True)
class Update:
    """The Pulumi update that applied a commit (from ``pulumi stack history --json``)."""

    version: int
    time: str
    result: str
    message: str


@dataclass(frozen=True)
class AuditRow:
    """One seat change: what changed, in which commit and pull request, and which update applied it."""

    date: str
    kind: str
    name: str
    change: str
    owner: str
    reason: str
    detail: str
    pull_request: str
    commit: str
    author: str
    applied: str
    applied_by_update: str


AUDIT_COLUMNS = tuple(AuditRow.__dataclass_fields__)

_PR = re.compile(r"(?:Merge pull request #(\d+)\b|\(#(\d+)\)\s*$)")


def pr_number(subject: str) -> str:
    """The pull request a merge or squash commit names (``Merge pull request #12 …``, ``… (#12)``)."""
    match = _PR.search(subject)
    return next((g for g in match.groups() if g), "") if match else ""


def _value(grant: Grant, field: str) -> str:
    value = getattr(grant, field)
    return "" if value is None else str(value)


def entry_changes(before: SeatSpec | None, after: SeatSpec | None) -> list[tuple[str, str, str, Grant, str]]:
    """``(kind, name, change, grant, detail)`` for every entry granted, revoked or changed.

    ``change`` is ``granted``, ``revoked`` or ``changed``; ``grant`` is the new entry (the old one
    for a revocation); logins compare case-insensitively, as everywhere.
    """
    out: list[tuple[str, str, str, Grant, str]] = []
    pairs: tuple[tuple[str, Sequence[Any], Sequence[Any], str], ...] = (
        ("user", before.users if before else (), after.users if after else (), "login"),
        ("team", before.teams if before else (), after.teams if after else (), "slug"))
    for kind, old_entries, new_entries, attr in pairs:
        old = {e.key: e for e in old_entries}
        new = {e.key: e for e in new_entries}
        for key, entry in new.items():
            name = getattr(entry, attr)
            if key not in old:
                out.append((kind, name, "granted", entry, ""))
                continue
            diffs = [f"{f}: {_value(old[key], f) or '-'} → {_value(entry, f) or '-'}" for f in _FIELDS
                     if _value(old[key], f) != _value(entry, f)]
            if diffs:
                out.append((kind, name, "changed", entry, "; ".join(diffs)))
        out += [(kind, getattr(e, attr), "revoked", e, "") for k, e in old.items() if k not in new]
    return out


def render_audit(rows: Sequence[AuditRow], fmt: str, title: str = "") -> str:
    """The rows as ``csv`` (spreadsheet-safe) or ``markdown``."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(AUDIT_COLUMNS)
        for row in rows:
            values: Mapping[str, str] = asdict(row)
            writer.writerow(spreadsheet_safe(values[c]) for c in AUDIT_COLUMNS)
        return out.getvalue()
    lines = [f"## {md_text(title or 'Copilot seat changes')}", "", f"{len(rows)} change(s).", ""]
    if rows:
        lines += ["| date | seat | change | owner | reason | pull request | applied |", "|---|---|---|---|---|---|---|"]
        for r in rows:
            seat = f"team {md_code(r.name)}" if r.kind == "team" else md_code(r.name)
            change = md_text(r.change) + (f" ({md_text(r.detail)})" if r.detail else "")
            pr = (f"#{r.pull_request}" if re.fullmatch("[0-9]+", r.pull_request)  # GitHub links its own PR
                  else md_text(f"commit {r.commit[:10]}" if not r.pull_request else f"#{r.pull_request}"))
            applied = md_text(r.applied) if r.applied else "not applied yet"
            lines.append(f"| {md_text(r.date[:10])} | {seat} | {change} | {md_text(r.owner) or '-'} "
                         f"| {md_text(r.reason) or '-'} | {pr} by {md_text(r.author) or '-'} | {applied} |")
    return "\n".join(lines) + "\n"
