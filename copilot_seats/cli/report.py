"""``copilot-seats report``: live Copilot seats joined with seats.yaml (read-only).

A thin shell: load the spec (``loader``), fetch a snapshot through a read-only client
(``api``/``live``), compare (``analysis``), render (``render``). Exit codes: 0 ok; 1 invalid
seats.yaml, or drift found with ``--fail-on-drift``; 2 usage (bad flags, GITHUB_TOKEN unset);
3 GitHub API error (auth, not found, rate limit, network).
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from copilot_seats import defaults
from copilot_seats.cli import main
from copilot_seats.errors import CheckFailed
from copilot_seats.escape import one_line

__all__ = ["drift_message", "report"]

if TYPE_CHECKING:
    from copilot_seats.decisions.analysis import Comparison


class _Progress:
    """``Listing seats: page 3 (300/1000)`` on stderr, rewritten in place."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, pages: int, seen: int, total: int | None) -> None:
        if self.enabled:
            of = f"/{total}" if total is not None else ""
            click.echo(f"\rListing seats: page {pages} ({seen}{of} seats)", err=True, nl=False)
            self.shown = True

    def done(self) -> None:
        if self.shown:
            click.echo("", err=True)


def drift_message(comparison: Comparison, shown: int = 5) -> str:
    """Every kind of drift with its count and first names: seats held outside seats.yaml, and
    declared seats revoked outside it (gone: missing; pending cancellation: leaving)."""
    kinds = (("unmanaged", comparison.unmanaged), ("missing users", comparison.missing),
             ("leaving users (pending cancellation)", comparison.leaving),
             ("missing teams", comparison.missing_teams), ("leaving teams", comparison.leaving_teams))
    parts = []
    for label, names in kinds:
        named = ", ".join(one_line(n) for n in names[:shown]) + (f", … {len(names) - shown} more"
                                                                       if len(names) > shown else "")
        parts.append(f"{len(names)} {label}" + (f" ({named})" if names else ""))
    return "drift: " + "; ".join(parts)


@main.command("report")
@click.option("--seats", "seats_path", default="seats.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The seats file to compare with.")
@click.option("--org", default=None, envvar="COPILOT_SEATS_ORG", show_envvar=True,
              help="Organization to read (default: 'organization' in the seats file).")
@click.option("--stale-days", type=click.IntRange(min=1), default=defaults.STALE_AFTER_DAYS,
              show_default=True, help="Stale when last activity is older than this (+1 day lag).")
@click.option("--grace-days", type=click.IntRange(min=0), default=defaults.GRACE_DAYS, show_default=True,
              help="A seat with no reported activity is stale only once granted longer ago than this.")
@click.option("--seat-price", type=click.FloatRange(min=0), default=None,
              help="Monthly USD price per seat (default: settings.seat_price_usd, else list price).")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="Output format (markdown includes a Mermaid activity chart).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--progress/--no-progress", default=None,
              help="Show page progress on stderr (default: only when stderr is a terminal).")
@click.option("--fail-on-drift", is_flag=True,
              help="Exit 1 when a seat is unmanaged or a declared one is missing.")
@click.option("--stack", default=None,
              help="Use the activity this stack remembers past GitHub's 90 days (as the stale-seat policy does).")
def report(seats_path: Path, org: str | None, stale_days: int, grace_days: int, seat_price: float | None,
           fmt: str, output: Path | None, progress: bool | None, fail_on_drift: bool, stack: str | None) -> None:
    """Report live Copilot seats against seats.yaml: totals, estimated monthly cost, users by last
    activity, stale seats, drift both ways (unmanaged / missing) and pending cancellations.

    Reads GITHUB_TOKEN (an organization owner's read-only token; permissions: docs/gitops.md) and
    GITHUB_API_URL (default https://api.github.com). Never writes to GitHub.

    Exit status: 0 ok; 1 invalid seats.yaml, or drift with --fail-on-drift; 2 usage error
    (including an invalid --org, GITHUB_TOKEN unset or malformed); 3 GitHub API error.
    """
    from copilot_seats.decisions.analysis import compare, estimated_monthly_cost
    from copilot_seats.decisions.analysis import seat_price as price_of
    from copilot_seats.desired.loader import load_spec
    from copilot_seats.desired.names import check_name
    from copilot_seats.github.api import client_from_env
    from copilot_seats.github.live import fetch_snapshot
    from copilot_seats.reports.render import render, report_data

    spec = load_spec(seats_path)
    if seat_price is not None:
        spec = dataclasses.replace(spec, settings=dataclasses.replace(
            spec.settings, seat_price_usd=Decimal(str(seat_price))))
    organization = check_name("organization", org, "--org") if org is not None else spec.organization
    client = client_from_env(read_only=True)
    ticker = _Progress(sys.stderr.isatty() if progress is None else progress)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        with client:
            snapshot = fetch_snapshot(client, organization, now=now, on_page=ticker)
    finally:
        ticker.done()
    remembered = None
    if stack:
        from copilot_seats.stack.memory import read_remembered_activity
        remembered = read_remembered_activity(stack, seats_path.resolve().parent)  # StackMemoryError: exit 2
    comparison = compare(spec, snapshot, now, stale_days, grace_days, remembered)
    data = report_data(comparison, snapshot, estimated_monthly_cost(snapshot, spec.settings),
                       price_of(spec.settings))
    text = render(fmt, data)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    if fail_on_drift and comparison.has_drift:
        raise CheckFailed(drift_message(comparison))
