"""The PR comment derives its own plan: a stack applied once, refusals, approvals, adoption.

Through the command (click's runner) against the simulator, with the files the preview
workflow writes: ``pulumi stack export`` (the last applied record), ``pulumi config --json``
(the guard's thresholds) and ``pulumi preview --json``. The export is built the way the engine
records the Seats resource: the inputs its provider's check returned on the applied run.
At 10,000 seats, as in the finding: pure, the engine would take minutes (the same path on the
real engine at 2,000 seats: tests/test_pr_comment_e2e.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import RunningSimulator
from scale_org import login, preview_document, scale_fixture, spec_of
from test_markdown_inert import assert_inert

from copilot_seats.cli import main
from copilot_seats.decisions.planning import RevocationPlan, Roster, guard_verdict
from copilot_seats.decisions.run_settings import RunSettings
from copilot_seats.desired.loader import check_spec
from copilot_seats.desired.spec import SeatSpec
from copilot_seats.github.live import fetch_snapshot
from copilot_seats.policies.config import SEATS_TYPE
from copilot_seats.provider.seats import SeatsHandler
from copilot_seats.reports.pr_comment import MAX_COMMENT_CHARS
from copilot_seats.stack.model import RunOptions, build_stack

NOW = datetime.now(UTC)
TODAY = NOW.date()


def _yaml(org: str, users: list[tuple[str, str, str]], teams: tuple[str, ...] = (), approval: str = "") -> str:
    lines = [f"organization: {org}"]
    if approval:
        lines += ["settings:", "  removal_approval:", *(f"    {line}" for line in approval.strip().splitlines())]
    lines.append("users:")
    lines += [f"  {name}:\n    owner: {owner}\n    reason: {reason}" for name, owner, reason in users]
    if teams:
        lines.append("teams:")
        lines += [f"  {team}:\n    owner: platform\n    reason: team seats" for team in teams]
    return "\n".join(lines) + "\n"


def _export(applied: SeatSpec | None, sim: RunningSimulator, org: str) -> dict[str, Any]:
    """``pulumi stack export`` of a stack whose last ``up`` applied ``applied`` (``None``: new)."""
    if applied is None:
        return {"version": 3, "deployment": {"manifest": {}, "resources": []}}
    snapshot = fetch_snapshot(sim.client(), org, now=NOW)
    inputs, failures = SeatsHandler().check({}, build_stack(applied, snapshot, NOW, RunOptions()).seats.to_props())
    assert not failures
    urn = f"urn:pulumi:prod::copilot-seats::{SEATS_TYPE}::seats"
    return {"version": 3, "deployment": {"manifest": {}, "resources": [
        {"urn": "urn:pulumi:prod::copilot-seats::pulumi:pulumi:Stack::copilot-seats-prod",
         "type": "pulumi:pulumi:Stack", "custom": False},
        {"urn": urn, "type": SEATS_TYPE, "custom": True, "id": org, "inputs": inputs, "outputs": {}}]}}


def _comment(tmp_path: Path, sim: RunningSimulator, seats: str, *, applied: dict[str, Any] | None,
             preview: dict[str, Any] | None = None, config: dict[str, Any] | None = None,
             extra: tuple[str, ...] = ()) -> str:
    (tmp_path / "seats.yaml").write_text(seats)
    args = ["pr-comment", "--seats", str(tmp_path / "seats.yaml"), "--stack", "prod", *extra]
    if applied is not None:
        (tmp_path / "applied.json").write_text(json.dumps(applied))
        args += ["--applied", str(tmp_path / "applied.json")]
    if preview is not None:
        (tmp_path / "preview.json").write_text(json.dumps(preview))
        args += ["--preview", str(tmp_path / "preview.json")]
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
        args += ["--stack-config", str(tmp_path / "config.json")]
    result = CliRunner().invoke(main, args, env={"GITHUB_TOKEN": sim.token, "GITHUB_API_URL": sim.base_url,
                                                  "COPILOT_SEATS_ALLOW_MASS_REMOVAL": ""})
    assert result.exit_code == 0, result.output
    assert not sim.writes, "the comment never writes to GitHub"
    assert sim.token not in result.output and "Traceback" not in result.output
    assert len(result.output) <= MAX_COMMENT_CHARS
    return result.output


def _plan(text: str) -> str:
    return text[text.index("### Plan"):text.index("### Cost")]


def _no_steps() -> dict[str, Any]:
    """The pinned engine's ``preview --json`` of a run whose Seats inputs did not change: no step."""
    return {"config": {}, "steps": [], "diagnostics": [], "changeSummary": {"same": 2}}


@pytest.fixture
def big(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator(scale_fixture(10_000))


def test_second_pr_at_10000_seats_shows_the_grants_by_owner_and_reason_the_money_and_the_findings(
        big: RunningSimulator, tmp_path: Path) -> None:
    everyone = [login(i) for i in range(10_000)]
    applied = _export(spec_of("bigco", everyone), big, "bigco")
    grants = [(f"ml-{i:03d}", "ml-team", "model training (JIRA-7)") for i in range(500)]
    grants += [(f"web-{i:03d}", "web-team", "frontend rewrite") for i in range(500)]
    text = _comment(tmp_path, big, _yaml("bigco", [(x, "eng", "development") for x in everyone] + grants),
                    applied=applied, preview=_no_steps())
    plan = _plan(text)
    assert plan.startswith("### Plan: 1000 granted\n")
    assert "- owner **ml-team**, reason: model training (JIRA-7) (500): " in plan
    assert "- owner **web-team**, reason: frontend rewrite (500): " in plan
    assert all(f"`{name}`" in plan for name, _, _ in grants) and "more (full list" not in plan
    assert "Adopted" not in plan, "10,000 seats the stack already records are not news"
    assert "| now | 10000 | $190,000 |" in text
    assert "| from the next billing cycle | 11000 (+1000) | $209,000 (+$19,000) |" in text
    assert re.search(r"\| `stale-seat` \| advisory \| \d{3,} \|", text), "the stale seats live now are found"
    assert "Not known" not in text
    # the preview showed no Seats step, yet the comment's plan has 1,000 grants: it says so
    assert "The preview&#39;s own plan differs" in text or "The preview's own plan differs" in text


def test_a_pr_that_changes_no_seat_still_shows_cost_and_findings(big: RunningSimulator, tmp_path: Path) -> None:
    everyone = [login(i) for i in range(10_000)]
    text = _comment(tmp_path, big, _yaml("bigco", [(x, "eng", "development") for x in everyone]),
                    applied=_export(spec_of("bigco", everyone), big, "bigco"), preview=_no_steps())
    assert "### Plan: no seat changes" in text
    assert "| now | 10000 | $190,000 |" in text and "| from the next billing cycle | 10000 (0) |" in text
    assert "| `stale-seat` | advisory |" in text
    assert "differs" not in text


@pytest.fixture
def org2000(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator(scale_fixture(2_000))


def _refused_pr(sim: RunningSimulator, approval: str = "") -> tuple[str, dict[str, Any], dict[str, Any], list[str]]:
    everyone = [login(i) for i in range(2_000)]
    removed = everyone[::6][:333]
    kept = [x for x in everyone if x not in set(removed)]
    added = [(f"hire-{i:02d}", "hiring", "new joiners") for i in range(30)]
    seats = _yaml("bigco", [(x, "eng", "development") for x in kept] + added, approval=approval)
    base = spec_of("bigco", everyone)
    snapshot = fetch_snapshot(sim.client(), "bigco", now=NOW)
    spec = check_spec(seats, "seats.yaml").spec
    assert spec is not None
    preview = preview_document(base, spec, snapshot, NOW)
    for diag in preview["diagnostics"]:  # as the engine wraps a check failure
        diag["message"] = "error: copilot:index:Seats resource 'seats' has a problem: " + \
            diag["message"].removeprefix("error: ")
    return seats, _export(base, sim, "bigco"), preview, removed


def test_a_refused_pr_shows_the_plan_it_tried_the_verdict_and_how_to_approve_it(
        org2000: RunningSimulator, tmp_path: Path) -> None:
    seats, applied, preview, removed = _refused_pr(org2000)
    assert preview["steps"] == [], "the guard refuses: the preview plans no step"
    text = _comment(tmp_path, org2000, seats, applied=applied, preview=preview, config={})
    top = text[:text.index("### Plan")]
    assert "**The guard refuses this change**: it revokes **333** seat(s); the limit is **200**, the larger of " \
           "maxRemovalCount 10 and maxRemovalFraction 0.1 of the 2000 seats declared at the last applied run " \
           "(thresholds: the stack config)" in top
    assert "removal_approval:\n    seats: 333\n" in top
    assert "has a problem" not in text, "the engine's wrapping is left out"
    assert "refusing to revoke 333 Copilot seats in one run (limit 200" in top
    plan = _plan(text)
    assert plan.startswith("### Plan: 30 granted, 333 revoked (refused by the guard: nothing is applied)")
    assert all(f"`{name}`" in plan for name in removed)
    assert "- owner **hiring**, reason: new joiners (30): " in plan
    assert "| from the next billing cycle | 1697 (-303) |" in text


def test_the_stack_configs_thresholds_are_the_guards(org2000: RunningSimulator, tmp_path: Path) -> None:
    seats, applied, _preview, _removed = _refused_pr(org2000)
    config = {"copilot-seats:maxRemovalCount": {"value": "400", "secret": False},
              "github:token": {"secret": True}}
    text = _comment(tmp_path, org2000, seats, applied=applied, config=config)
    assert "The guard refuses" not in text
    assert text.count("### Plan: 30 granted, 333 revoked\n") == 1


def _approval(seats: int, expires: date, reason: str = "contract with vendor X ended (OPS-9)") -> str:
    return f"seats: {seats}\nexpires: {expires.isoformat()}\nreason: {reason}\n"


def test_an_approval_of_exactly_the_count_lets_the_plan_pass_and_leads_the_comment(
        org2000: RunningSimulator, tmp_path: Path) -> None:
    seats, applied, _preview, _removed = _refused_pr(org2000, _approval(333, TODAY + timedelta(days=7)))
    text = _comment(tmp_path, org2000, seats, applied=applied)
    title = text.index("## Copilot seats")
    banner = text.index("**This seats.yaml approves a large removal**")
    assert title < banner < text.index("**Plan:**"), "the approval is the first thing a reviewer reads"
    assert "revokes exactly **333** seat(s)" in text and "contract with vendor X ended (OPS-9)" in text
    assert "**It applies**: this change revokes 333 seat(s), past the guard's limit of 200." in text
    assert "The guard refuses" not in text
    assert text.count("### Plan: 30 granted, 333 revoked\n") == 1


@pytest.mark.parametrize("seats", [332, 334])
def test_an_approval_of_another_count_does_not_apply(org2000: RunningSimulator, tmp_path: Path, seats: int) -> None:
    text, _ = _comment_with(org2000, tmp_path, _approval(seats, TODAY + timedelta(days=7)))
    assert f"revokes exactly **{seats}** seat(s)" in text
    assert "**It does not apply**: this change revokes 333 seat(s)" in text
    assert "**The guard refuses this change**: it revokes **333** seat(s)" in text


def test_an_expired_approval_is_shown_and_ignored(org2000: RunningSimulator, tmp_path: Path) -> None:
    text, _ = _comment_with(org2000, tmp_path, _approval(333, TODAY - timedelta(days=1)))
    assert "It has expired: the guard ignores it. Remove it." in text
    assert "**The guard refuses this change**" in text


def _comment_with(sim: RunningSimulator, tmp_path: Path, approval: str) -> tuple[str, str]:
    seats, applied, _preview, _removed = _refused_pr(sim, approval)
    return _comment(tmp_path, sim, seats, applied=applied), seats


def test_an_approval_is_for_one_change_the_loader_refuses_one_far_ahead() -> None:
    far = _yaml("acme", [("alice", "eng", "dev")], approval=_approval(5, TODAY + timedelta(days=32)))
    result = check_spec(far, "seats.yaml")
    assert result.spec is None
    assert any("more than 31 days after today" in str(p) and "seats.yaml:5:" in str(p) for p in result.errors)
    near = check_spec(_yaml("acme", [("alice", "eng", "dev")], approval=_approval(5, TODAY + timedelta(days=31))),
                      "seats.yaml")
    assert near.spec is not None and near.spec.settings.removal_approval is not None
    assert near.spec.settings.removal_approval.seats == 5
    for bad in ("seats: 0\nexpires: 2030-01-01\nreason: x\n", "expires: 2030-01-01\nreason: x\n",
                "seats: 5\nexpires: 2030-01-01\n", "seats: 5\nexpires: 2030-01-01\nreason: x\nby: me\n"):
        assert check_spec(_yaml("acme", [("alice", "eng", "dev")], approval=bad), "seats.yaml").spec is None, bad


def test_the_guard_honours_an_approval_only_for_exactly_its_count_and_never_for_a_destroy() -> None:
    previous = Roster("acme", frozenset(f"u{i}" for i in range(100)), frozenset(), 100)
    current = Roster("acme", frozenset(), frozenset(), 0)
    plan = RevocationPlan(frozenset(f"u{i}" for i in range(50)))
    approved = RunSettings(approved_removal=50)
    verdict = guard_verdict(plan, previous, current, approved)
    assert verdict.ok and verdict.limit == 50, "no room beyond the approved count (authoritative rounds)"
    assert not guard_verdict(plan, previous, current, RunSettings(approved_removal=49)).ok
    assert not guard_verdict(plan, previous, current, RunSettings(approved_removal=51)).ok
    assert not guard_verdict(plan, previous, current, approved, action="destroy").ok
    moved = guard_verdict(plan, previous, Roster("other-org"), approved)
    assert not moved.ok and "refusing to change the managed organization" in moved.message, \
        "an approval of the count never approves a change of organization"


def test_the_provider_check_passes_an_approved_removal_and_refuses_without_it(
        make_simulator: Callable[..., RunningSimulator]) -> None:
    sim = make_simulator(scale_fixture(200))
    snapshot = fetch_snapshot(sim.client(), "bigco", now=NOW)
    everyone = [login(i) for i in range(200)]
    handler = SeatsHandler()
    olds, _ = handler.check({}, build_stack(spec_of("bigco", everyone), snapshot, NOW, RunOptions()).seats.to_props())
    for approval, refused in ((None, True), (50, False), (49, True)):
        yaml_text = _yaml("bigco", [(x, "eng", "dev") for x in everyone[50:]],
                          approval=_approval(approval, TODAY) if approval else "")
        spec = check_spec(yaml_text, "seats.yaml").spec
        assert spec is not None
        _, failures = handler.check(olds, build_stack(spec, snapshot, NOW, RunOptions()).seats.to_props())
        assert bool(failures) is refused, approval
        if approval == 49:
            assert "removal_approval approves exactly 49 Copilot seats, not 50: it does not apply" in failures[0][1]
        elif approval is None:
            assert "approve exactly this removal in the pull request: in seats.yaml, settings.removal_approval " \
                   "with seats: 50" in failures[0][1]


def test_adoption_on_a_new_stack_is_called_adoption_and_costs_nothing(
        make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    sim = make_simulator({"organizations": [{"login": "acme", "teams": [
        {"slug": "platform", "members": ["bob", "carol"]}, {"slug": "data", "members": ["dave"]},
        {"slug": "newteam", "members": ["erin"]}], "seats": [
        {"login": "alice"}, {"login": "bob", "teams": ["platform"]}, {"login": "carol", "teams": ["platform"]},
        {"login": "dave", "teams": ["data"]}]}]})
    seats = _yaml("acme", [("alice", "eng", "dev"), ("frank", "eng", "new hire")],
                  teams=("platform", "data", "newteam"))
    text = _comment(tmp_path, sim, seats, applied=_export(None, sim, "acme"))
    plan = _plan(text)
    assert plan.startswith("### Plan: 2 granted\n"), plan
    granted = plan[:plan.index("**Adopted")]
    assert "`frank`" in granted and "team `newteam`" in granted
    adopted = plan[plan.index("**Adopted (3)**"):]
    assert "`alice`" in adopted and "team `platform`" in adopted and "team `data`" in adopted
    assert "every member of the team gets a seat" not in adopted
    assert "2 granted; 3 adopted (no write)" in text
    assert "Not counted: the members of 1 newly granted team(s)" in text


def test_without_the_live_listing_or_a_record_the_comment_uses_the_preview_and_says_so(
        org2000: RunningSimulator, tmp_path: Path) -> None:
    seats, _applied, preview, _removed = _refused_pr(org2000)
    (tmp_path / "seats.yaml").write_text(seats)
    (tmp_path / "preview.json").write_text(json.dumps(preview))
    result = CliRunner().invoke(main, ["pr-comment", "--seats", str(tmp_path / "seats.yaml"), "--preview",
                                       str(tmp_path / "preview.json"), "--applied", str(tmp_path / "missing.json")],
                                env={"GITHUB_TOKEN": org2000.token, "GITHUB_API_URL": org2000.base_url})
    assert result.exit_code == 0, result.output
    assert "missing.json` does not exist: the last applied record" in result.output
    assert "was not recorded: the plan is the preview" in result.output
    assert "**The preview failed** (1 error(s))" in result.output


def test_hostile_owner_and_reason_stay_inert_in_grouped_grants(
        make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    sim = make_simulator(scale_fixture(5))
    seats = _yaml("bigco", [("mallory", "\"@octo/all <b>x</b>\"", "\"see https://evil.example [x](javascript:1)\"")])
    text = _comment(tmp_path, sim, seats, applied=_export(None, sim, "bigco"))
    assert_inert(text[text.index("### Plan"):text.index("### Cost")])

