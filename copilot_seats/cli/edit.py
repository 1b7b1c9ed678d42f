"""``copilot-seats import``: write seats.yaml from the live seats (and the helpers ``prune`` shares).

``import`` and ``prune`` (:mod:`copilot_seats.cli.prune`) read GitHub through a read-only
client (``GITHUB_TOKEN``, ``GITHUB_API_URL``) and edit seats.yaml only through
:mod:`copilot_seats.desired.seats_edit`, so every unrelated comment and line survives. Both re-validate
the result with the loader before writing anything.

Exit codes: 0 done (also when nothing changed); 1 the seats file is invalid or cannot be
edited or written; 2 usage error (bad flags, an invalid ``--org``, org mismatch, refusing to
overwrite, ``GITHUB_TOKEN`` unset or malformed); 3 GitHub API error. Errors are raised typed and
mapped once by :mod:`copilot_seats.cli.failures`.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from copilot_seats import defaults
from copilot_seats.cli import main
from copilot_seats.decisions.seat_state import Held, active
from copilot_seats.decisions.seat_state import held as held_as
from copilot_seats.desired.loader import CheckResult, check_file, check_spec
from copilot_seats.desired.names import check_name
from copilot_seats.desired.seats_edit import (
    NewEntry,
    SeatsEditError,
    add_entries,
    render_seats_file,
)
from copilot_seats.desired.spec import SeatSpec
from copilot_seats.errors import EditError, SpecError
from copilot_seats.github.api import client_from_env
from copilot_seats.github.live import LiveSeat, LiveSnapshot, fetch_snapshot

__all__ = ["checked_file", "day", "editor", "fetch_live", "import_command", "imported_file", "seat_comment",
           "team_comment", "verified", "write_atomically"]


def fetch_live(org: str, now: datetime) -> LiveSnapshot:
    """The live seats of ``org``: CredentialsError (exit 2) or ApiError (exit 3) on failure."""
    with client_from_env(read_only=True) as client:
        return fetch_snapshot(client, org, now=now)


def checked_file(path: Path) -> CheckResult:
    """Load ``path`` or raise SpecError listing every problem (exit 1); warnings go to stderr."""
    result = check_file(path)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.spec is None:
        raise SpecError(result.errors)
    return result


def verified(text: str, path: Path) -> SeatSpec:
    """The spec of edited text; an invalid result is a bug, so refuse to write it (exit 1)."""
    result = check_spec(text, str(path))
    if result.spec is None:
        detail = "; ".join(str(p) for p in result.errors)
        raise EditError(f"refusing to write {path}: the edited file would be invalid: {detail}")
    return result.spec


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` atomically (a reader never sees half a file), keeping its permissions.

    A new file gets the usual ``0o666 & ~umask``. An unwritable location is exit 1, not a traceback.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise EditError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment is not None else "never"


def editor(seat: LiveSeat) -> str:
    """``vscode/1.77.3/copilot/1.86.82`` -> ``vscode``."""
    return (seat.last_activity_editor or "").split("/")[0]


def seat_comment(seat: LiveSeat) -> str:
    """The trailing comment of an imported user: ``last activity 2026-11-02 (vscode), granted 2025-03-01``.

    A null activity is spelled out as GitHub means it (never used, or idle beyond its 90-day
    retention).
    """
    granted = f"granted {seat.created_at.date().isoformat()}"
    if seat.last_activity_at is None:
        days = defaults.GITHUB_RETENTION_DAYS
        return f"no activity reported (never used, or idle > {days} days), {granted}"
    used = editor(seat)
    return f"last activity {day(seat.last_activity_at)}{f' ({used})' if used else ''}, {granted}"


def team_comment(seats: Sequence[LiveSeat]) -> str:
    """The trailing comment of an imported team: its seat count, latest activity, first grant."""
    active = [s.last_activity_at for s in seats if s.last_activity_at is not None]
    latest = f"last activity {day(max(active))}" if active else "no activity reported"
    first = min(s.created_at for s in seats).date().isoformat()
    return f"{len(seats)} seat(s) through this team, {latest}, granted {first}"


@dataclass(frozen=True)
class _Importable:
    """The live seats as seats.yaml entries, and what cannot be imported."""

    users: tuple[NewEntry, ...]
    teams: tuple[NewEntry, ...]
    pending: tuple[str, ...]
    unassigned: int

    def summary(self) -> str:
        notes = []
        if self.pending:
            notes.append(f"skipped {len(self.pending)} seat(s) pending cancellation: "
                         f"{', '.join(self.pending)}")
        if self.unassigned:
            notes.append(f"{self.unassigned} seat(s) with no assignee cannot be declared")
        return "; ".join(notes)


def _importable(snapshot: LiveSnapshot, known_users: frozenset[str] = frozenset(),
                known_teams: frozenset[str] = frozenset()) -> _Importable:
    """Direct seats as users and assigning teams as teams, sorted by key, minus known ones.

    Users who hold their seat through a team are not listed (the team entry covers them);
    seats pending cancellation are left out (declaring them would re-grant them).
    """
    seats = sorted(snapshot.seats.values(), key=lambda s: s.key)
    held = [s for s in seats if active(s)]
    by_team: dict[str, list[LiveSeat]] = {}
    for seat in held:
        if seat.assigning_team is not None:
            by_team.setdefault(seat.assigning_team, []).append(seat)
    return _Importable(
        users=tuple(NewEntry(s.login, seat_comment(s)) for s in held
                    if held_as(s) is Held.DIRECT and s.key not in known_users),
        teams=tuple(NewEntry(slug, team_comment(members)) for slug, members in sorted(by_team.items())
                    if slug not in known_teams),
        pending=tuple(s.login for s in seats if held_as(s) is Held.PENDING),
        unassigned=snapshot.unassigned_count,
    )


def imported_file(org: str, snapshot: LiveSnapshot, now: datetime) -> tuple[str, _Importable]:
    """A new seats.yaml declaring ``snapshot``'s seats (``import`` and ``init --import``)."""
    found = _importable(snapshot)
    plan_type = snapshot.billing.plan_type
    plan = plan_type if plan_type in ("business", "enterprise") else None
    text = render_seats_file(
        org, found.users, found.teams,
        header=[f"Copilot seats of {org}, imported from GitHub on {now.date().isoformat()} "
                "by `copilot-seats import`.",
                "Comments record what GitHub reported then; add owner and reason to each entry.",
                "Every change is a pull request: validate, preview, merge (docs/gitops.md)."],
        settings={"mode": "additive", **({"plan": plan} if plan else {})},
    )
    return text, found


@main.command("import")
@click.option("--output", "-o", "output", default="seats.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="seats file to write (or, with --merge, to add to); '-' writes to stdout.")
@click.option("--org", help="organization to import; default: the file's 'organization'.")
@click.option("--merge", is_flag=True,
              help="add only the seats held outside the existing file, keeping its comments and order.")
@click.option("--dry-run", is_flag=True, help="print the new file (or, with --merge, a diff); write nothing.")
@click.option("--force", is_flag=True, help="overwrite an existing file (without --merge).")
def import_command(output: Path, org: str | None, merge: bool, dry_run: bool, force: bool) -> None:
    """Write seats.yaml from the live Copilot seats (bootstrap, or --merge the drift in).

    Users holding a direct seat become `users`, teams through which seats are held become
    `teams` (their members are not listed). Each entry gets a comment with its last activity
    and grant date. Reads GITHUB_TOKEN and GITHUB_API_URL; never writes to GitHub.
    """
    to_stdout = str(output) == "-"
    if merge and to_stdout:
        raise click.UsageError("--merge needs a file to add to (not '-')")
    existing: SeatSpec | None = None
    if merge:
        if not output.exists():
            raise click.UsageError(f"--merge: {output} does not exist (import without --merge first)")
        existing = checked_file(output).spec
        assert existing is not None
        if org and org.casefold() != existing.organization.casefold():
            raise click.UsageError(
                f"--org {org} does not match {output}'s organization {existing.organization}")
        org = existing.organization
    elif not to_stdout and output.exists() and not force and not dry_run:
        raise click.UsageError(
            f"{output} exists: use --merge to add the live seats to it, or --force to replace it")
    if not org:
        raise click.UsageError("which organization? pass --org ORG (or --merge into a file that names one)")
    check_name("organization", org, "--org")

    now = datetime.now(UTC)
    snapshot = fetch_live(org, now)
    if existing is not None:
        found = _importable(snapshot, existing.user_keys, existing.team_keys)
        before = output.read_text(encoding="utf-8")
        try:
            text = add_entries(add_entries(before, "users", found.users), "teams", found.teams)
        except SeatsEditError as exc:
            raise EditError(f"{output}: {exc}") from None
    else:
        text, found = imported_file(org, snapshot, now)
        before = ""
    verified(text, output)
    added = f"{len(found.users)} user(s), {len(found.teams)} team(s)"
    notes = found.summary()
    if dry_run or to_stdout:
        if merge:
            click.echo("".join(difflib.unified_diff(before.splitlines(True), text.splitlines(True),
                                                    str(output), str(output))), nl=False)
        else:
            click.echo(text, nl=False)
        click.echo(f"import: {'would add' if merge else 'would write'} {added}"
                   f"{' (dry run)' if dry_run else ''}{'; ' + notes if notes else ''}", err=True)
        return
    if merge and text == before:
        click.echo(f"import: {output} already declares every live seat{'; ' + notes if notes else ''}",
                   err=True)
        return
    write_atomically(output, text)
    click.echo(f"import: {'added' if merge else 'wrote'} {added} {'to' if merge else 'in'} {output}"
               f"{'; ' + notes if notes else ''}", err=True)
