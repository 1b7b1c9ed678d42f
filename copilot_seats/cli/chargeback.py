"""``copilot-seats chargeback``: what the seats cost, per seat (CSV) and by cost center, owner, team.

Reads seats.yaml and the live seats (read-only ``GITHUB_TOKEN``), prices every billed seat with
the plan's price (``settings.seat_price_usd`` or ``--seat-price``) and renders
:mod:`copilot_seats.reports.finance`: ``--format csv`` is one line per billed seat, including one per
``assignee: null`` seat, spreadsheet-safe; ``table``, ``markdown`` and ``json`` are the
chargeback summary. Never writes to GitHub.

Exit codes: 0 ok; 1 invalid seats.yaml; 2 usage error (``GITHUB_TOKEN`` unset); 3 GitHub API error.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import click

from copilot_seats import defaults
from copilot_seats.cli import main
from copilot_seats.cli.edit import checked_file, fetch_live
from copilot_seats.decisions.analysis import compare
from copilot_seats.decisions.analysis import seat_price as price_of
from copilot_seats.errors import EditError
from copilot_seats.reports.finance import chargeback, render_chargeback, render_finance_csv, seat_lines

__all__ = ["chargeback_command"]


@main.command("chargeback")
@click.option("--seats", "seats_path", default="seats.yaml", show_default=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path), help="The seats file.")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="csv: one line per billed seat; the others: the chargeback summary.")
@click.option("--seat-price", type=click.FloatRange(min=0), default=None,
              help="Monthly price per seat in USD (default: settings.seat_price_usd, else the plan's list price).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of stdout.")
def chargeback_command(seats_path: Path, fmt: str, seat_price: float | None, output: Path | None) -> None:
    """Cost of the Copilot seats: per seat (CSV: price, monthly cost, plan type, cost center,
    owner, team; a line per unassigned seat) or summed by cost center, owner and team."""
    spec = checked_file(seats_path).spec
    assert spec is not None
    if seat_price is not None:
        spec = dataclasses.replace(spec, settings=dataclasses.replace(
            spec.settings, seat_price_usd=Decimal(str(seat_price))))
    now = datetime.now(UTC).replace(microsecond=0)
    snapshot = fetch_live(spec.organization, now)
    comparison = compare(spec, snapshot, now, defaults.STALE_AFTER_DAYS, defaults.GRACE_DAYS)
    lines = seat_lines(comparison, snapshot, price_of(spec.settings))
    summary = chargeback(lines, spec.organization)
    text = render_finance_csv(lines) if fmt == "csv" else render_chargeback(summary, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EditError(f"cannot write {output}: {exc.strerror or exc}") from None
