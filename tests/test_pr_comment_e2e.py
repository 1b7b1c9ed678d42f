"""The preview workflow's comment on the real engine against the simulator.

The PR: an authoritative seats.yaml for a 400-seat org that leaves out 8 direct seats (8
revocations, within the mass-removal guard of a new stack) and requests 10 new users; then the
same PR leaving out 30 seats, which the guard refuses: the comment leads with the refusal. (At 2,000 seats the
engine preview with the pack takes ~80 s on 2 cores, so the 2,000- and 10,000-seat comments
are tested on preview documents in tests/test_pr_comment.py; the command and format are the same.) The workflow's own
``pulumi preview ... --json`` and ``copilot-seats pr-comment`` lines run (taken from
seats-preview.yml); the comment must name every revoked and granted login and stay under
GitHub's 65,536-character limit. The rendered comment is written to
``$COPILOT_SEATS_COMMENT_SAMPLE`` when set (the sample quoted in the issue's closing note).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import RunningSimulator
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
    assert f"{len(keep)} seat(s) already held on GitHub are recorded in the stack" in plan
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
