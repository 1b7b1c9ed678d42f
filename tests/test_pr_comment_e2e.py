"""The preview workflow's comment on the real engine against the simulator.

The PR: an authoritative seats.yaml for a 400-seat org that leaves out 8 direct seats (8
revocations, within the mass-removal guard of a new stack) and requests 10 new users; then the
same PR leaving out 30 seats, which the guard refuses: the comment leads with the refusal. Then
a 2,000-seat stack applied once, and the PRs that came after it: one that grants 100 seats (the
comment knows the money and the stale seats), one the guard refuses (the comment shows what it
tried), and the same with ``removal_approval`` (it passes, and the approval leads the comment);
the 10,000-seat comments are tested on the same command without the engine in
tests/test_pr_comment_plan.py. The workflow's own preview-step lines (``pulumi stack export``,
``pulumi config --json``, ``pulumi preview ... --json``) and ``copilot-seats pr-comment`` line run
(taken from seats-preview.yml); the comment must name every revoked and granted login and stay
under GitHub's 65,536-character limit. The rendered comment is written to
``$COPILOT_SEATS_COMMENT_SAMPLE`` when set (the sample quoted in the issue's closing note).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import RunningSimulator
from e2e_helpers import revoked_logins
from engine import PulumiWorkspace
from scale_org import login, scale_fixture, seats_yaml
from test_gitops_e2e import STACK, run_command, workflow
from test_workflows import PREVIEW

pytestmark = pytest.mark.engine

GITHUB_LIMIT = 65_536


def test_the_preview_workflow_comment_names_every_change_within_the_limit(
        make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    n = 400
    sim = make_simulator(scale_fixture(n))
    revoked = [login(i) for i in range(0, n, 13)][:8]
    granted = [f"new-hire-{i:02d}" for i in range(10)]
    keep = [login(i) for i in range(n) if login(i) not in set(revoked)]
    text = seats_yaml("bigco", keep + granted, mode="authoritative")
    ws = PulumiWorkspace(tmp_path, text, extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack(STACK)

    [preview] = workflow(PREVIEW, "pulumi preview")
    result = run_command(preview, ws, sim)
    assert result.returncode == 0, result
    (ws.project / "preview.json").write_text(result.stdout)
    [comment] = workflow(PREVIEW, "copilot-seats pr-comment")
    rendered = run_command(comment, ws, sim, RUN_URL="https://github.example/run/1")
    assert rendered.returncode == 0, rendered
    body = (ws.project / "comment.md").read_text()
    assert not sim.writes, "preview and comment never write to GitHub"

    assert len(body) < GITHUB_LIMIT
    plan = body[body.index("### Plan"):body.index("### Cost")]
    assert plan.startswith("### Plan: 10 granted, 8 revoked")
    for name in revoked + granted:
        assert f"`{name}`" in plan, name
    assert f"**Adopted ({len(keep)})**: already held on GitHub; the stack records them and nothing is written" in plan
    assert "| now | 400 | $7,600 |" in body
    assert "| from the next billing cycle | 402 (+2) | $7,638 (+$38) |" in body
    assert "| `stale-seat` | advisory |" in body
    assert "10 missing-seat finding(s) for seats this plan grants are not listed" in body
    sample = os.environ.get("COPILOT_SEATS_COMMENT_SAMPLE")
    if sample:
        Path(sample).write_text(body)


def test_a_preview_the_guard_refuses_leads_the_comment_with_the_refusal(
        make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    n = 200
    sim = make_simulator(scale_fixture(n))
    revoked = {login(i) for i in range(30)}
    text = seats_yaml("bigco", [login(i) for i in range(n) if login(i) not in revoked], mode="authoritative")
    ws = PulumiWorkspace(tmp_path, text, extra_env=sim.env())
    ws.init_stack(STACK)
    [preview] = workflow(PREVIEW, "pulumi preview")
    result = run_command(preview, ws, sim)
    assert result.returncode != 0
    (ws.project / "preview.json").write_text(result.stdout)
    [comment] = workflow(PREVIEW, "copilot-seats pr-comment")
    assert run_command(comment, ws, sim, RUN_URL="").returncode == 0
    body = (ws.project / "comment.md").read_text()
    assert "**The preview failed** (1 error(s))" in body
    assert body.index("refusing to revoke 30 Copilot seats in one run") < body.index("### Plan")
    assert not sim.writes


def _preview_step(ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    """The preview step of seats-preview.yml, line by line (redirections as the shell does them)."""
    [export] = workflow(PREVIEW, "pulumi stack")[1:]  # after `pulumi stack select`
    assert run_command(export, ws, sim).returncode == 0
    [config] = workflow(PREVIEW, "pulumi config")
    listed = run_command(config, ws, sim)
    assert listed.returncode == 0, listed
    (ws.project / "stack-config.json").write_text(listed.stdout)
    [preview] = workflow(PREVIEW, "pulumi preview")
    (ws.project / "preview.json").write_text(run_command(preview, ws, sim).stdout)


def _rendered(ws: PulumiWorkspace, sim: RunningSimulator) -> str:
    [comment] = workflow(PREVIEW, "copilot-seats pr-comment")
    assert run_command(comment, ws, sim, RUN_URL="").returncode == 0
    return (ws.project / "comment.md").read_text()


def test_prs_on_a_2000_seat_stack_applied_once_show_plan_money_findings_and_refusals(
        make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    n = 2_000
    fixture = scale_fixture(n)
    fixture["organizations"][0]["members"] = [f"joiner-{i:02d}" for i in range(30)]
    sim = make_simulator(fixture)
    everyone = [login(i) for i in range(n)]
    ws = PulumiWorkspace(tmp_path, seats_yaml("bigco", everyone), extra_env={**sim.env(),
                                                                          "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack(STACK)
    assert ws.up().returncode == 0
    assert not sim.writes, "adoption writes nothing"

    # 1. a PR that grants 100 seats: plan grouped by owner and reason, the money, the stale seats
    hires = [f"hire-{i:03d}" for i in range(100)]
    ws.write_seats(seats_yaml("bigco", everyone).replace("users:\n", "users:\n" + "".join(
        f"  {h}:\n    owner: ml-team\n    reason: model training\n" for h in hires)))
    _preview_step(ws, sim)
    body = _rendered(ws, sim)
    plan = body[body.index("### Plan"):body.index("### Cost")]
    assert plan.startswith("### Plan: 100 granted\n"), plan[:300]
    assert "- owner **ml-team**, reason: model training (100): " in plan
    assert all(f"`{h}`" in plan for h in hires)
    assert "| now | 2000 | $38,000 |" in body
    assert "| from the next billing cycle | 2100 (+100) | $39,900 (+$1,900) |" in body
    assert "| `stale-seat` | advisory |" in body and "differs" not in body

    # 2. a PR that removes 333 seats and adds 30: refused, and the comment shows what it tried
    removed = everyone[::6][:333]
    kept = [x for x in everyone if x not in set(removed)]
    pr = seats_yaml("bigco", kept + [f"joiner-{i:02d}" for i in range(30)])
    ws.write_seats(pr)
    _preview_step(ws, sim)
    body = _rendered(ws, sim)
    assert "**The guard refuses this change**: it revokes **333** seat(s); the limit is **200**" in body
    assert "has a problem" not in body
    plan = body[body.index("### Plan"):body.index("### Cost")]
    assert plan.startswith("### Plan: 30 granted, 333 revoked (refused by the guard")
    assert all(f"`{name}`" in plan for name in removed)

    # 3. the same PR with the approval a reviewer can read: the preview passes, the banner leads
    expires = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
    ws.write_seats(pr.replace("settings:\n", f"settings:\n  removal_approval:\n    seats: 333\n    expires: {expires}\n"
                                              "    reason: contractors left (OPS-1)\n", 1))
    _preview_step(ws, sim)
    preview_doc = (ws.project / "preview.json").read_text()
    assert '"op": "update"' in preview_doc, "the approved preview plans the update"
    body = _rendered(ws, sim)
    assert body.index("**This seats.yaml approves a large removal**") < body.index("**Plan:**")
    assert "**It applies**" in body and "The guard refuses" not in body
    assert not sim.writes, "previews and comments never write"

    # 4. merged: one plain `up` revokes exactly the approved 333; left in the file, it approves nothing more
    applied = ws.up()
    assert applied.returncode == 0, applied.output
    assert sorted(revoked_logins(sim.writes)) == sorted(removed)
    _preview_step(ws, sim)
    body = _rendered(ws, sim)
    assert "It is not needed: this change revokes 0 seat(s)" in body
