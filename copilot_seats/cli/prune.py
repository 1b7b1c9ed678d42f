"""``copilot-seats prune``: remove stale (and, with ``--expired``, expired) entries from seats.yaml.

Staleness is judged by :func:`copilot_seats.decisions.analysis.compare` (hence
:func:`~copilot_seats.decisions.analysis.stale_reason`), the rule the ``stale-seat`` policy uses. One run
revokes at most what the mass-removal guard leaves it, stalest first: with ``--stack``, the
guard's own verdict on the branch as it stands (:func:`copilot_seats.reports.pr_plan.derive_plan`
over the stack's last applied record and its config: the limit, minus the seats the branch
already revokes), so the PR a prune opens passes the guard when it is previewed and applied;
without ``--stack``, :func:`copilot_seats.decisions.planning.removal_limit` over the file's
declared seats and the default thresholds, and the summary says that is an assumption.
``--max`` lowers it. The summary says how many stale users wait for the next run. The file is
edited only through :mod:`copilot_seats.desired.seats_edit` and
re-validated before it is written.

Exit codes: 0 done (also when nothing changed); 1 the seats file is invalid; 2 usage error;
3 GitHub API error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from copilot_seats import defaults
from copilot_seats.cli import main
from copilot_seats.cli.edit import checked_file, day, editor, fetch_live, verified, write_atomically
from copilot_seats.decisions.analysis import SeatRow, compare, is_exempt, stale_reason
from copilot_seats.decisions.planning import removal_limit
from copilot_seats.decisions.run_settings import SettingsError, parse_settings
from copilot_seats.decisions.seat_state import active
from copilot_seats.desired.seats_edit import SeatsEditError, remove_entries
from copilot_seats.desired.spec import SeatSpec
from copilot_seats.errors import EditError
from copilot_seats.escape import md_code, md_text
from copilot_seats.github.live import LiveSeat, LiveSnapshot
from copilot_seats.provider.stack_config import read_project_config
from copilot_seats.reports.pr_plan import derive_plan
from copilot_seats.stack.memory import StackMemoryError, applied_inputs, read_export, remembered_activity

__all__ = ["GuardBudget", "PrunePlan", "guard_budget", "plan_prune", "prune_command", "prune_summary"]


def _exempt_but_stale(row: SeatRow, now: datetime, stale_days: int, grace_days: int) -> bool:
    """A declared user who would be stale without their (still valid) stale exemption."""
    return (row.declared_directly and is_exempt(row.grant, now)
            and stale_reason(row.seat, None, now, stale_days, grace_days) is not None)


def _activity(seat: LiveSeat | None) -> str:
    if seat is None or seat.last_activity_at is None:
        return "none reported"
    used = editor(seat)
    return f"{day(seat.last_activity_at)}{f' ({used})' if used else ''}"


@dataclass(frozen=True)
class GuardBudget:
    """What the mass-removal guard leaves a prune: its limit, minus what the branch already revokes.

    :param exact: from the stack's own record and config (``--stack``); else assumed from the file.
    """

    limit: int
    already: int
    exact: bool

    @property
    def left(self) -> int:
        return max(0, self.limit - self.already)

    def describe(self, stack: str | None) -> str:
        if not self.exact:
            return (f"the guard allows {self.limit} in one run if stack config and the last applied run match this "
                    "file and the default thresholds (an assumption: pass `--stack` for the guard's own budget)")
        return (f"the guard of stack {stack} allows {self.limit} in one run and this branch already revokes "
                f"{self.already} before the prune, which therefore took at most {self.left}: its preview passes "
                "the guard")


def guard_budget(spec: SeatSpec, snapshot: LiveSnapshot, now: datetime, declared: int, stack: str | None,
                 export: dict[str, Any] | None, cwd: Path) -> GuardBudget:
    """The guard's budget for a prune of ``spec`` (see :class:`GuardBudget`); ``declared``: the
    seats the file declares (the assumed base without a stack)."""
    if stack is None or export is None:
        return GuardBudget(removal_limit(declared, defaults.MAX_REMOVAL_COUNT, defaults.MAX_REMOVAL_FRACTION), 0,
                           False)
    try:
        settings = parse_settings(read_project_config(stack, str(cwd)).get, os.environ)
    except SettingsError as exc:
        raise click.UsageError(f"--stack {stack}: {exc}") from None
    verdict = derive_plan(spec, snapshot, applied_inputs(export), settings, now).verdict
    assert verdict is not None
    return GuardBudget(verdict.limit, verdict.revoking, True)


@dataclass(frozen=True)
class PrunePlan:
    """What one prune removes, what it keeps, and what waits for the next run.

    :param removed: stale users removed, stalest first.
    :param expired: entries (users, and teams as ``team <slug>``) removed because ``expires`` passed.
    :param deferred: stale users not removed because the run's limit was reached (next run).
    :param limit: most seats this prune may revoke (``--max``; default: the mass-removal guard's limit).
    :param revoking: seats the removals revoke (what the guard counts when the PR is applied).
    """

    removed: tuple[SeatRow, ...]
    expired: tuple[str, ...]
    deferred: tuple[SeatRow, ...]
    limit: int
    revoking: int


def _staleness(row: SeatRow) -> tuple[datetime, datetime]:
    """Sort key, stalest first: no activity reported before the oldest activity; then oldest grant."""
    assert row.seat is not None
    floor = datetime.min.replace(tzinfo=UTC)
    return row.seat.last_activity_at or floor, row.seat.created_at


def plan_prune(spec: SeatSpec, rows: Sequence[SeatRow], expired_users: Sequence[str], expired_teams: Sequence[str],
               limit: int) -> PrunePlan:
    """Choose the removals: expired entries first (they carry an explicit end), then stale users,
    stalest first, while the seats they revoke stay within ``limit`` (the guard's count: a user's
    active direct seat, a team's active seats not declared directly). Entries that revoke nothing
    always fit."""
    by_key = {r.key: r for r in rows}
    budget = limit
    expired: list[str] = []
    removed_keys: set[str] = set()
    for login in expired_users:
        row = by_key.get(login.casefold())
        cost = 1 if row is not None and row.assigning_team is None and active(row.seat) else 0
        if cost <= budget:
            budget -= cost
            expired.append(login)
            removed_keys.add(login.casefold())
    for slug in expired_teams:
        cost = sum(1 for r in rows if r.assigning_team == slug.casefold() and active(r.seat)
                   and not r.declared_directly)
        if cost <= budget:
            budget -= cost
            expired.append(f"team {slug}")
    stale = sorted((r for r in rows if r.declared_directly and r.stale is not None and r.assigning_team is None
                    and r.seat is not None and r.key not in removed_keys), key=_staleness)
    removed: list[SeatRow] = []
    deferred: list[SeatRow] = []
    for row in stale:
        if budget >= 1:
            budget -= 1
            removed.append(row)
        else:
            deferred.append(row)
    return PrunePlan(tuple(removed), tuple(expired), tuple(deferred), limit, limit - budget)


def prune_summary(path: str, plan: PrunePlan, kept_team: Sequence[SeatRow],
                  exempt: Sequence[SeatRow], stale_days: int, grace_days: int, dry_run: bool,
                  guard: str = "") -> str:
    """The Markdown summary of a prune, written to be a pull-request body."""
    verb = "Would remove" if dry_run else "Removed"
    removed = plan.removed
    out = ["## Prune stale Copilot seats", ""]
    if removed:
        out += [f"{verb} {len(removed)} user(s) from {md_code(path)} whose Copilot seat is stale: no activity "
                f"for more than {stale_days} days, or none reported and granted more than {grace_days} "
                "days ago. This is the rule of the `stale-seat` policy; users with a valid "
                "`stale_exemption` are kept. Merging revokes these seats (GitHub keeps access until "
                "the end of the billing cycle). Stalest first.", "",
                "| Login | Last activity | Granted | Why |", "|---|---|---|---|"]
        out += [f"| {md_code(r.login)} | {md_text(_activity(r.seat))} | {day(r.seat.created_at if r.seat else None)} "
                f"| {md_text(r.stale.message if r.stale else '')} |" for r in removed]
    else:
        out.append(f"No stale users to remove from {md_code(path)} (threshold {stale_days} days, "
                   f"grace {grace_days} days).")
    if plan.expired:
        out += ["", f"{verb} {len(plan.expired)} entr{'y' if len(plan.expired) == 1 else 'ies'} whose "
                "`expires` date has passed:", ""]
        out += [f"- {md_code(name.removeprefix('team '))}{' (team)' if name.startswith('team ') else ''}"
                for name in plan.expired]
    out += ["", f"This PR revokes {plan.revoking} seat(s) by pruning, at most {plan.limit} in this run: "
            + (md_text(guard) if guard else "`--max`") + "."]
    if plan.deferred:
        out += [f"**{len(plan.deferred)} more stale user(s) remain for the next run** (stalest first: "
                + ", ".join(md_code(r.login) for r in plan.deferred[:20])
                + (" …" if len(plan.deferred) > 20 else "") + ")."]
    if exempt:
        out += ["", "Kept, stale but exempt:", ""]
        out += [f"- {md_code(r.login)}: {md_text(r.grant.stale_exemption.reason)} "
                f"(until {r.grant.stale_exemption.until.isoformat()})"
                for r in exempt if r.grant is not None and r.grant.stale_exemption is not None]
    if kept_team:
        out += ["", "Kept, stale but the seat comes through a team (removing the entry frees nothing):", ""]
        out += [f"- {md_code(r.login)} through team {md_code(r.assigning_team or '')}" for r in kept_team]
    out += ["", "_Generated by `copilot-seats prune`._"]
    return "\n".join(out) + "\n"


def _export(stack: str, seats_path: Path) -> dict[str, Any]:
    try:
        return read_export(stack, seats_path.resolve().parent)
    except StackMemoryError as exc:
        raise click.UsageError(str(exc)) from None


@main.command("prune")
@click.option("--stale-days", type=click.IntRange(min=1), default=defaults.STALE_AFTER_DAYS,
              show_default=True, help="a seat is stale after this many days without activity.")
@click.option("--grace-days", type=click.IntRange(min=0), default=defaults.GRACE_DAYS, show_default=True,
              help="a seat with no reported activity is stale only when granted longer ago than this.")
@click.option("--seats", "seats_path", default="seats.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="seats file to prune.")
@click.option("--max", "max_revocations", type=click.IntRange(min=0), default=None,
              help="revoke at most N seats (stalest first); default: what the mass-removal guard leaves this run "
                   "(with --stack: its limit minus what the branch already revokes; without: the larger of 10 and "
                   "10% of the declared seats).")
@click.option("--expired", is_flag=True, help="also remove users and teams whose `expires` date has passed.")
@click.option("--stack", default=None,
              help="the stack: its guard's budget (last applied record and config) and the activity it remembers "
                   "past GitHub's 90 days (as the stale-seat policy does).")
@click.option("--dry-run", is_flag=True, help="print the summary; leave the file unchanged.")
def prune_command(stale_days: int, grace_days: int, seats_path: Path, max_revocations: int | None,
                  expired: bool, stack: str | None, dry_run: bool) -> None:
    """Remove stale users from seats.yaml and print a Markdown summary (a pull-request body).

    Staleness is the `stale-seat` policy's rule; users with a valid `stale_exemption` are
    kept, and teams are never pruned as stale. At most --max seats are revoked per run,
    stalest first, so the PR's preview passes the mass-removal guard; the summary says how
    many remain for the next run. Comments and formatting of the file are preserved. Reads
    GITHUB_TOKEN and GITHUB_API_URL; never writes to GitHub.
    """
    if not seats_path.exists():
        raise click.UsageError(f"{seats_path} does not exist")
    spec = checked_file(seats_path).spec
    assert spec is not None
    now = datetime.now(UTC)
    snapshot = fetch_live(spec.organization, now)
    export = _export(stack, seats_path) if stack else None
    remembered = remembered_activity(export) if export is not None else None
    cmp = compare(spec, snapshot, now, stale_days, grace_days, remembered)
    rows = cmp.rows
    budget = guard_budget(spec, snapshot, now, cmp.declared_count, stack, export, seats_path.resolve().parent)
    limit = budget.left if max_revocations is None else (min(max_revocations, budget.left) if budget.exact
                                                         else max_revocations)
    plan = plan_prune(spec, rows, cmp.expired if expired else (), cmp.expired_teams if expired else (), limit)
    kept_team = [r for r in rows if r.declared_directly and r.stale is not None and r.assigning_team is not None]
    exempt = [r for r in rows if _exempt_but_stale(r, now, stale_days, grace_days)]
    users = [r.login for r in plan.removed] + [n for n in plan.expired if not n.startswith("team ")]
    teams = [n.removeprefix("team ") for n in plan.expired if n.startswith("team ")]
    if users or teams:
        before = seats_path.read_text(encoding="utf-8")
        grants = {u.key: u.login for u in spec.users}
        slugs = {t.key: t.slug for t in spec.teams}
        try:
            text = remove_entries(before, "users", [grants[u.casefold()] for u in users]) if users else before
            text = remove_entries(text, "teams", [slugs[t.casefold()] for t in teams]) if teams else text
        except SeatsEditError as exc:
            raise EditError(f"{seats_path}: {exc}") from None
        verified(text, seats_path)
        if not dry_run:
            write_atomically(seats_path, text)
    click.echo(prune_summary(str(seats_path), plan, kept_team, exempt, stale_days, grace_days, dry_run,
                             budget.describe(stack)), nl=False)
    action = "would remove" if dry_run else "removed"
    rest = f"; {len(plan.deferred)} more stale user(s) left for the next run" if plan.deferred else ""
    click.echo(f"prune: {action} {len(plan.removed)} stale user(s)"
               f"{f' and {len(plan.expired)} expired entr(ies)' if plan.expired else ''} from {seats_path}"
               f" (revoking {plan.revoking} of at most {plan.limit} seat(s)){rest}", err=True)
