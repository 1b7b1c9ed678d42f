"""``copilot-seats audit``: every seat change in a period, or one login's history, with its
pull request and the Pulumi update that applied it (Markdown or CSV).

Reads the first-parent git history of the seats file (the merges to the default branch) and,
with ``--stack``, ``pulumi stack history --json`` of that stack, joined on the commit (Pulumi
records ``git.head`` with every update; the apply workflow adds the pull request, its author and
approvers as the update message). See :mod:`copilot_seats.reports.audit`. Never writes anything.

Exit codes: 0 ok; 2 usage error (not a git repository, bad dates, ``pulumi`` missing for
``--stack``, the stack history unreadable).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import click

from copilot_seats.cli import main
from copilot_seats.desired.loader import check_spec
from copilot_seats.desired.spec import SeatSpec
from copilot_seats.reports.audit import AuditRow, Commit, Update, entry_changes, pr_number, render_audit

__all__ = ["audit_command"]


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _spec_at(cwd: Path, rev: str, path: str) -> SeatSpec | None:
    shown = _git(cwd, "show", f"{rev}:{path}")
    if shown.returncode != 0:
        return None  # the file did not exist at that commit
    result = check_spec(shown.stdout, path)
    if result.spec is None:
        click.echo(f"audit: warning: {path} is invalid at {rev[:10]}; its changes are not listed", err=True)
    return result.spec


def _commits(cwd: Path, path: str, since: date | None, until: date | None) -> list[Commit]:
    args = ["log", "--first-parent", "--reverse", "--format=%H%x1f%aI%x1f%an%x1f%s"]
    args += [f"--since={since.isoformat()} 00:00:00"] if since else []
    args += [f"--until={until.isoformat()} 23:59:59"] if until else []
    log = _git(cwd, *args, "--", path)
    if log.returncode != 0:
        raise click.UsageError(f"cannot read the git history of {path}: {log.stderr.strip()}")
    return [Commit(*line.split("\x1f", 3)) for line in log.stdout.splitlines() if line.count("\x1f") == 3]


def _updates(cwd: Path, stack: str) -> dict[str, Update]:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise click.UsageError("--stack needs the pulumi CLI on PATH")
    proc = subprocess.run([pulumi, "stack", "history", "--json", "--stack", stack, "--non-interactive"],
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise click.UsageError(f"cannot read the history of stack {stack}: {proc.stderr.strip()}")
    by_commit: dict[str, Update] = {}
    entries = [e for e in json.loads(proc.stdout or "[]") if isinstance(e, dict)]
    for position, entry in enumerate(entries):
        head = (entry.get("environment") or {}).get("git.head")
        if entry.get("kind") != "update" or not head or entry.get("result") != "succeeded":
            continue
        # Pulumi Cloud numbers its updates; the self-managed backends (file, s3, azblob, gs) print
        # "version": 0 for every one (v3.78.1), newest first: the stack's version is then its place
        # counted from the oldest, the number `pulumi stack history` shows as "Version".
        version = int(entry.get("version") or 0) or len(entries) - position
        by_commit.setdefault(head, Update(version, str(entry.get("startTime", "")),
                                          str(entry.get("result", "")), str(entry.get("message", ""))))
    return by_commit


@main.command("audit")
@click.option("--seats", "seats_path", default="seats.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The seats file (in a git repository).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="first day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="last day (YYYY-MM-DD).")
@click.option("--login", default=None, help="only this login or team slug (case-insensitive).")
@click.option("--stack", default=None, help="join with this stack's `pulumi stack history` (which update applied it).")
@click.option("--expand-bootstrap", is_flag=True,
              help="list the entries of the commit that created seats.yaml one by one (default: one 'adopted' row).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv"]), default="markdown", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of stdout.")
def audit_command(seats_path: Path, since: datetime | None, until: datetime | None, login: str | None,
                  stack: str | None, expand_bootstrap: bool, fmt: str, output: Path | None) -> None:
    """Every seat granted, revoked or changed (by git history of seats.yaml), with its pull
    request, author and the Pulumi update that applied it (approvers are in its message).

    The commit that created seats.yaml (typically `copilot-seats import` of the seats an org
    already had) is one "adopted" row unless --expand-bootstrap (or --login) asks for its entries."""
    cwd = seats_path.resolve().parent
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise click.UsageError(f"{seats_path} is not in a git repository")
    path = str(seats_path.resolve().relative_to(Path(top.stdout.strip()).resolve()))
    first = since.date() if since else None
    last = until.date() if until else None
    updates = _updates(cwd, stack) if stack else {}
    rows: list[AuditRow] = []
    root = Path(top.stdout.strip())
    for commit in _commits(root, path, first, last):
        before = _spec_at(root, f"{commit.sha}^", path)
        after = _spec_at(root, commit.sha, path)
        update = updates.get(commit.sha)
        applied = f"update {update.version} on {update.time}: {update.message}" if update else ""
        if before is None and after is not None and not expand_bootstrap and not login:
            rows.append(AuditRow(
                date=commit.date, kind="file", name=path, change="adopted",
                owner="", reason="", detail=f"{len(after.users)} user(s) and {len(after.teams)} team(s) declared by "
                "the commit that created the file (--expand-bootstrap lists them)",
                pull_request=pr_number(commit.subject), commit=commit.sha, author=commit.author, applied=applied,
                applied_by_update=str(update.version) if update else ""))
            continue
        for kind, name, change, grant, detail in entry_changes(before, after):
            if login and name.casefold() != login.casefold():
                continue
            rows.append(AuditRow(
                date=commit.date, kind=kind, name=name, change=change, owner=grant.owner or "",
                reason=grant.reason or "", detail=detail, pull_request=pr_number(commit.subject),
                commit=commit.sha, author=commit.author,
                applied=applied, applied_by_update=str(update.version) if update else ""))
    title = f"Copilot seat changes{f' of {login}' if login else ''}"
    if first or last:
        title += f" ({first or '…'} to {last or '…'})"
    text = render_audit(rows, fmt, title)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
