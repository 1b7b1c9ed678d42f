"""``copilot-seats pr-comment``: the pull-request comment of a seats preview.

Reads the PR's seats.yaml, the output of ``pulumi preview --policy-pack policies --json`` and,
when ``GITHUB_TOKEN`` is set, the live seat listing (read-only) for last activity and billing;
writes Markdown that leads with the plan and always fits GitHub's comment limit
(:mod:`copilot_seats.reports.pr_comment`). The violations are judged by the pack's own rules over the
preview's resource inputs (:mod:`copilot_seats.reports.pr_plan`).

It renders a comment for every outcome (invalid seats.yaml, failed or missing preview, live
listing unavailable) and says which; the workflow's own steps decide the check's status.
Exit codes: 0 comment written; 2 usage error (bad flags, unreadable ``--policy-pack-config``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from copilot_seats.cli import main
from copilot_seats.decisions.analysis import seat_price
from copilot_seats.desired.loader import check_file
from copilot_seats.desired.names import check_name
from copilot_seats.desired.trusted_org import check_organization
from copilot_seats.errors import ApiError, CredentialsError, EditError
from copilot_seats.github.api import client_from_env
from copilot_seats.github.live import fetch_snapshot
from copilot_seats.redact import scrub
from copilot_seats.reports.pr_comment import CommentInput, SeatFacts, render_comment
from copilot_seats.reports.pr_plan import PreviewPlan, judge, parse_preview

__all__ = ["pr_comment"]


def _preview(path: Path | None) -> tuple[PreviewPlan | None, str]:
    """The parsed preview, or ``None`` with the reason it is not there."""
    if path is None:
        return None, "no preview output was given (--preview)"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, f"{path} does not exist: the preview did not run"
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    if not text.strip():
        return None, f"{path} is empty: the preview stopped before it produced a plan (see the workflow log)"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{path} is not the JSON of `pulumi preview --json` ({exc.msg}, line {exc.lineno})"
    if not isinstance(data, dict):
        return None, f"{path} is not the JSON of `pulumi preview --json`"
    return parse_preview(data), ""


def _pack_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise click.UsageError(f"--policy-pack-config {path}: {exc}") from None
    if not isinstance(data, dict):
        raise click.UsageError(f"--policy-pack-config {path}: not a JSON object")
    return data


def _live(org: str, now: datetime) -> tuple[dict[str, SeatFacts] | None, str]:
    if not os.environ.get("GITHUB_TOKEN", "").strip():
        return None, "GITHUB_TOKEN is unset: last activity and billing come from the preview only"
    try:
        with client_from_env(read_only=True) as client:
            snapshot = fetch_snapshot(client, org, now=now)
    except (ApiError, CredentialsError) as exc:  # a comment degrades; it never fails for GitHub
        return None, f"the live seat listing of {org} was not available ({scrub(str(exc))})"
    return {key: SeatFacts(True, seat.pending_cancellation_date is not None, seat.last_activity_at)
            for key, seat in snapshot.seats.items()}, ""


@main.command("pr-comment")
@click.option("--seats", "seats_path", default="seats.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="the pull request's seats file.")
@click.option("--preview", "preview_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="output of `pulumi preview --policy-pack policies --json`.")
@click.option("--policy-pack-config", "pack_config_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="the --policy-pack-config file the preview used, if any.")
@click.option("--stack", default="", help="stack name shown in the title.")
@click.option("--details-url", default="", help="link to the workflow run (full preview and report).")
@click.option("--live/--no-live", default=True, show_default=True,
              help="read the live seats (GITHUB_TOKEN, read-only) for last activity and billing.")
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="write the comment here instead of stdout.")
@click.option("--org", envvar="COPILOT_SEATS_ORG", show_envvar=True, default=None,
              help="the organization this repository manages: a seats file naming another one is shown "
                   "as invalid and nothing is read (the preview workflow sets it).")
def pr_comment(seats_path: Path, preview_path: Path | None, pack_config_path: Path | None, stack: str,
               details_url: str, live: bool, output: Path | None, org: str | None) -> None:
    """Render the PR comment of a seats preview: the plan first, then cost, then violations.

    Lists every seat granted, revoked or changed by login with owner and reason, the monthly
    cost now and after (this billing cycle and the next), violations summarised by policy, and
    the details collapsed. Always under GitHub's 65,536-character limit. Never writes to GitHub.
    With --org, a seats file naming another organization is shown as invalid and nothing is read.
    """
    pack_config = _pack_config(pack_config_path)
    now = datetime.now(UTC)
    expected = check_name("organization", org, "--org (COPILOT_SEATS_ORG)") if org else None
    checked = check_organization(check_file(seats_path), str(seats_path), expected)
    if checked.spec is None:
        data = CommentInput(stack=stack, problems=[str(p) for p in checked.errors], details_url=details_url)
    else:
        plan, missing = _preview(preview_path)
        facts, live_note = _live(checked.spec.organization, now) if live and plan is not None else (None, "")
        data = CommentInput(
            stack=stack, plan=plan or PreviewPlan(), preview_ran=plan is not None,
            findings=list(judge(plan, now, pack_config)) if plan is not None else [],
            live=facts, price=seat_price(checked.spec.settings), details_url=details_url,
            notes=[n for n in (missing, live_note) if n],
        )
    text = render_comment(data)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EditError(f"cannot write {output}: {exc.strerror or exc}") from None
