"""``copilot-seats pr-comment``: the pull-request comment of a seats preview.

Reads the PR's seats.yaml, the output of ``pulumi preview --policy-pack policies --json``, the
stack's last applied record (``pulumi stack export``) and settings (``pulumi config --json``)
and, when ``GITHUB_TOKEN`` is set, the live seat listing (read-only). From these it derives the
plan itself, exactly as the program and the provider's check would
(:func:`copilot_seats.reports.pr_plan.derive_plan`): the pinned engine's ``--json`` shows no
Seats step when its inputs did not change, and none at all when the guard refuses, and a
reviewer still needs the plan, the money and the findings. The preview's own steps cross-check
it; its errors and warnings are shown. Without the live listing or a last applied record it
falls back to the preview's plan and says so.

Writes Markdown that leads with the plan and always fits GitHub's comment limit
(:mod:`copilot_seats.reports.pr_comment`). The violations are judged by the pack's own rules
over the plan's resource inputs (:mod:`copilot_seats.reports.pr_plan`).

It renders a comment for every outcome (invalid seats.yaml, failed or missing preview, live
listing unavailable) and says which; the workflow's own steps decide the check's status.
Exit codes: 0 comment written; 2 usage error (bad flags, unreadable ``--policy-pack-config``).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from copilot_seats.cli import main
from copilot_seats.decisions.analysis import seat_price
from copilot_seats.decisions.planning import GuardVerdict
from copilot_seats.decisions.run_settings import RunSettings, SettingsError, parse_settings
from copilot_seats.desired.loader import check_file
from copilot_seats.desired.names import check_name
from copilot_seats.desired.spec import SeatSpec
from copilot_seats.desired.trusted_org import check_organization
from copilot_seats.errors import ApiError, CredentialsError, EditError
from copilot_seats.github.api import client_from_env
from copilot_seats.github.live import LiveSnapshot, fetch_snapshot
from copilot_seats.provider.seats import previous_roster
from copilot_seats.provider.stack_config import project_config
from copilot_seats.redact import scrub
from copilot_seats.reports.pr_comment import CommentInput, GuardFacts, SeatFacts, render_comment
from copilot_seats.reports.pr_plan import PreviewPlan, derive_plan, disagreement, judge, parse_preview, previous_inputs
from copilot_seats.stack.memory import applied_inputs

__all__ = ["pr_comment"]


def _preview(path: Path | None) -> tuple[PreviewPlan | None, str, dict[str, Any] | None]:
    """The parsed preview, why it is not there (``""`` when it is) and its document."""
    if path is None:
        return None, "no preview output was given (--preview)", None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, f"{path} does not exist: the preview did not run", None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", None
    if not text.strip():
        return None, f"{path} is empty: the preview stopped before it produced a plan (see the workflow log)", None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{path} is not the JSON of `pulumi preview --json` ({exc.msg}, line {exc.lineno})", None
    if not isinstance(data, dict):
        return None, f"{path} is not the JSON of `pulumi preview --json`", None
    return parse_preview(data), "", data


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


def _snapshot(org: str, now: datetime) -> tuple[LiveSnapshot | None, str]:
    if not os.environ.get("GITHUB_TOKEN", "").strip():
        return None, "GITHUB_TOKEN is unset: the plan, last activity and billing come from the preview only"
    try:
        with client_from_env(read_only=True) as client:
            return fetch_snapshot(client, org, now=now), ""
    except (ApiError, CredentialsError) as exc:  # a comment degrades; it never fails for GitHub
        return None, f"the live seat listing of {org} was not available ({scrub(str(exc))})"


def _facts(snapshot: LiveSnapshot) -> dict[str, SeatFacts]:
    return {key: SeatFacts(True, seat.pending_cancellation_date is not None, seat.last_activity_at)
            for key, seat in snapshot.seats.items()}


def _json_file(path: Path, what: str) -> tuple[Any, str]:
    """The JSON document at ``path``, or ``None`` with why not (a comment degrades, never fails)."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), ""
    except FileNotFoundError:
        return None, f"{path} does not exist: {what} was not recorded"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read {path} ({what}): {getattr(exc, 'strerror', None) or exc}"
    except json.JSONDecodeError as exc:
        return None, f"{path} is not JSON ({what}; {exc.msg}, line {exc.lineno})"


def _applied(path: Path | None, preview: PreviewPlan | None,
             preview_data: dict[str, Any] | None) -> tuple[bool, dict[str, Any] | None, str]:
    """Whether the last applied record is known, the Seats inputs it holds (``None``: the stack
    applied none) and, when not known, why: from ``--applied`` (``pulumi stack export``), else
    from the preview's Seats step."""
    if path is not None:
        export, why = _json_file(path, "the last applied record (`pulumi stack export`)")
        if isinstance(export, dict):
            return True, applied_inputs(export), ""
        why = why or f"{path} is not the JSON of `pulumi stack export`"
    else:
        why = "no last applied record was given (--applied)"
    if preview is not None and preview.seats_step and preview_data is not None:
        return True, previous_inputs(preview_data), ""
    return False, None, why


def _settings(path: Path | None) -> tuple[RunSettings, str, str]:
    """The stack's settings (``--stack-config``: ``pulumi config --json``), where they come from,
    and a note when they could not be read (the defaults are used: the comment says so)."""
    if path is None:
        return parse_settings(lambda _key: None, os.environ), "defaults (no stack config was given)", ""
    doc, why = _json_file(path, "the stack config (`pulumi config --json`)")
    if not isinstance(doc, dict):
        return (parse_settings(lambda _key: None, os.environ), "defaults",
                why or f"{path} is not the JSON of `pulumi config --json`")
    values = project_config(doc)
    try:
        return parse_settings(values.get, os.environ), "the stack config", ""
    except SettingsError as exc:
        return parse_settings(lambda _key: None, os.environ), "defaults", f"the stack config is invalid: {exc}"


@main.command("pr-comment")
@click.option("--seats", "seats_path", default="seats.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="the pull request's seats file.")
@click.option("--preview", "preview_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="output of `pulumi preview --policy-pack policies --json`.")
@click.option("--applied", "applied_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="output of `pulumi stack export` of the stack (its last applied record: what the guard and the "
                   "plan compare with).")
@click.option("--stack-config", "stack_config_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="output of `pulumi config --json` of the stack (the guard's thresholds; default: the defaults).")
@click.option("--policy-pack-config", "pack_config_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="the --policy-pack-config file the preview used, if any.")
@click.option("--stack", default="", help="stack name shown in the title.")
@click.option("--details-url", default="", help="link to the workflow run (full preview and report).")
@click.option("--live/--no-live", default=True, show_default=True,
              help="read the live seats (GITHUB_TOKEN, read-only): the comment's own plan, last activity, billing.")
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="write the comment here instead of stdout.")
@click.option("--org", envvar="COPILOT_SEATS_ORG", show_envvar=True, default=None,
              help="the organization this repository manages: a seats file naming another one is shown "
                   "as invalid and nothing is read (the preview workflow sets it).")
def pr_comment(seats_path: Path, preview_path: Path | None, applied_path: Path | None,
               stack_config_path: Path | None, pack_config_path: Path | None, stack: str,
               details_url: str, live: bool, output: Path | None, org: str | None) -> None:
    """Render the PR comment of a seats preview: the plan first, then cost, then violations.

    The plan is the comment's own: the PR's seats file, the live listing (GITHUB_TOKEN,
    read-only), the last applied record (--applied) and the stack's settings (--stack-config),
    through the program's model and the provider's check, so it is there whatever the preview
    shows (a refused preview included), and cross-checked against the preview's steps. Grants are
    grouped by owner and reason, revocations show last activity; then the monthly cost now and
    after (this billing cycle and the next), then violations summarised by policy, the details
    collapsed. Always under GitHub's 65,536-character limit. Never writes to GitHub.
    With --org, a seats file naming another organization is shown as invalid and nothing is read.
    """
    pack_config = _pack_config(pack_config_path)
    now = datetime.now(UTC)
    expected = check_name("organization", org, "--org (COPILOT_SEATS_ORG)") if org else None
    checked = check_organization(check_file(seats_path), str(seats_path), expected)
    if checked.spec is None:
        data = CommentInput(stack=stack, problems=[str(p) for p in checked.errors], details_url=details_url)
    else:
        data = _comment(checked.spec, preview_path, applied_path, stack_config_path, pack_config, live, now,
                        stack, details_url)
    text = render_comment(data)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EditError(f"cannot write {output}: {exc.strerror or exc}") from None


def _comment(spec: SeatSpec, preview_path: Path | None, applied_path: Path | None, stack_config_path: Path | None,
             pack_config: dict[str, Any], live: bool, now: datetime, stack: str, details_url: str) -> CommentInput:
    preview, missing, preview_data = _preview(preview_path)
    notes = [missing] if missing else []
    snapshot, live_note = _snapshot(spec.organization, now) if live else (None, "")
    notes += [live_note] if live_note else []
    settings, source, settings_note = _settings(stack_config_path)
    notes += [settings_note] if settings_note else []
    plan = preview
    applied: dict[str, Any] | None = None
    if snapshot is not None:
        known, applied, applied_note = _applied(applied_path, preview, preview_data)
        if not known:
            notes.append(f"{applied_note}: the plan is the preview's own")
        else:
            plan = derive_plan(spec, snapshot, applied, settings, now)
            if preview is not None:
                plan = replace(plan, errors=preview.errors, warnings=preview.warnings)
                notes += [differs] if (differs := disagreement(plan, preview)) else []
    shown = plan or PreviewPlan()
    return CommentInput(
        stack=stack, plan=shown, preview_ran=preview is not None or plan is not None,
        findings=list(judge(shown, now, pack_config)) if plan is not None else [],
        live=_facts(snapshot) if snapshot is not None else None, price=seat_price(spec.settings),
        details_url=details_url, notes=notes,
        guard=_guard_facts(plan.verdict if plan is not None else None, applied, settings, source, spec, now),
    )


def _guard_facts(verdict: GuardVerdict | None, applied: dict[str, Any] | None, settings: RunSettings, source: str,
                 spec: SeatSpec, now: datetime) -> GuardFacts | None:
    approval = spec.settings.removal_approval
    if verdict is None and approval is None:
        return None
    base = previous_roster(applied)
    return GuardFacts(verdict=verdict, settings=settings, source=source,
                      base=base.declared_count if base is not None else 0, approval=approval,
                      today=now.date())
