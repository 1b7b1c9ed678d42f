"""The GitOps loop end to end on the real engine, against the simulator, with the workflows' own commands.

Bootstrap (docs/gitops.md): ``import`` -> ``validate`` -> ``up`` -> ``preview --expect-no-changes``
and the nightly drift check both pass against the same simulated org. Then a seat request,
its rollback (the revert of the change) and a weekly prune each show up as exactly the
expected Seat step. Every ``copilot-seats``/``pulumi`` line the workflows run is taken from
the workflow files (tests/test_workflows.py) and run here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from conftest import SMALL_FIXTURE, RunningSimulator
from engine import PulumiResult, PulumiWorkspace, seat_changes
from test_workflows import APPLY, DRIFT, PREVIEW, PRUNE, WorkflowCommand, workflow_commands

from copilot_seats.desired.seats_edit import NewEntry, add_entries, entry_names

pytestmark = pytest.mark.engine

CLI = Path(sys.executable).parent / "copilot-seats"
STACK = "test"


def _expand(argv: tuple[str, ...], variables: Mapping[str, str]) -> list[str]:
    return [variables.get(a[1:], a) if a.startswith("$") else a for a in argv]


def run_command(command: WorkflowCommand, ws: PulumiWorkspace, sim: RunningSimulator,
                **variables: str) -> PulumiResult:
    """Run one workflow command line in the workspace, as the workflow would."""
    argv = _expand(command.argv, {"STACK": STACK, **variables})
    if argv[0] == "pulumi":
        return ws.run(*[a for a in argv[1:] if a != "--non-interactive"])
    proc = subprocess.run([str(CLI), *argv[1:]], cwd=ws.project, capture_output=True, text=True, timeout=300,
                          env={**ws.env, **sim.env()}, check=False)
    return PulumiResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


def git_repo(project: Path, first_subject: str) -> Callable[[str], str]:
    """Make ``project`` a git repository (first commit: the current files); returns a function
    that commits seats.yaml as a merge of a pull request and returns the commit's SHA."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "merger", "GIT_AUTHOR_EMAIL": "m@example.invalid",
           "GIT_COMMITTER_NAME": "merger", "GIT_COMMITTER_EMAIL": "m@example.invalid"}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project, env=env, capture_output=True, text=True,
                              check=True).stdout.strip()

    git("init", "-q", "-b", "main")
    (project / ".gitignore").write_text("policies/__pycache__/\n")

    def merge(subject: str) -> str:
        git("add", "-A")
        git("commit", "-qm", subject)
        return git("rev-parse", "HEAD")

    merge(first_subject)
    return merge


def workflow(name: str, sub: str) -> list[WorkflowCommand]:
    """The workflow's command lines whose first two words are ``sub`` (e.g. "pulumi preview")."""
    found = [c for c in workflow_commands(name) if " ".join(c.argv[:2]) == sub]
    assert found, f"{name} runs no `{sub}`"
    return found


def seat_steps(ws: PulumiWorkspace) -> dict[str, str]:
    """The seat changes of a preview (``"user frank": "grant"``; see tests/engine.seat_changes)."""
    return seat_changes(ws.preview("--json", policy_pack=None))


def direct_and_team_seats(sim: RunningSimulator) -> tuple[set[str], set[str]]:
    """Direct seat holders not pending cancellation, and teams holding seats, from the simulator."""
    seats = [s for s in sim.client().list_seats("acme") if s.get("assignee")
             and not s.get("pending_cancellation_date")]
    direct = {s["assignee"]["login"] for s in seats if not s.get("assigning_team")}
    teams = {s["assigning_team"]["slug"] for s in seats if s.get("assigning_team")}
    return direct, teams


@pytest.fixture
def sim(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator(SMALL_FIXTURE)


def bootstrap(tmp_path: Path, sim: RunningSimulator) -> tuple[PulumiWorkspace, str]:
    """import -> validate -> up on a new stack; returns the workspace and the imported text."""
    imported = subprocess.run([str(CLI), "import", "--org", "acme", "--output", "-"], capture_output=True,
                              text=True, timeout=120, env={**os.environ, **sim.env()}, check=False)
    assert imported.returncode == 0, imported.stderr
    ws = PulumiWorkspace(tmp_path, imported.stdout,
                         extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack(STACK)
    for command in workflow(PREVIEW, "copilot-seats validate"):
        result = run_command(command, ws, sim)
        assert result.returncode == 0, result
        assert json.loads(result.stdout)
    live_before = direct_and_team_seats(sim)
    up = ws.up(policy_pack="policies")
    assert up.returncode == 0, up
    assert direct_and_team_seats(sim) == live_before, "applying an imported file must not change seats"
    assert not [w for w in sim.writes if w.method == "DELETE"]
    return ws, imported.stdout


def test_imported_file_previews_no_changes_and_passes_the_drift_check(tmp_path: Path,
                                                                      sim: RunningSimulator) -> None:
    ws, imported = bootstrap(tmp_path, sim)
    assert entry_names(imported, "users") == ["Alice", "bob", "newbie"]
    writes = len(sim.writes)

    assert seat_steps(ws) == {}
    expect_none = ws.preview("--expect-no-changes")
    assert expect_none.returncode == 0, expect_none

    for command in workflow(PREVIEW, "pulumi stack") + workflow(PREVIEW, "pulumi preview"):
        result = run_command(command, ws, sim)
        assert result.returncode == 0, result
    for command in workflow(DRIFT, "pulumi stack") + workflow(DRIFT, "pulumi preview"):
        result = run_command(command, ws, sim)
        assert result.returncode == 0, result
    for command in workflow(DRIFT, "copilot-seats report") + workflow(PREVIEW, "copilot-seats report"):
        result = run_command(command, ws, sim)
        assert result.returncode == 0, result
        assert (ws.project / "report.md").read_text().strip()
    assert len(sim.writes) == writes, "preview, drift check and report must not write to GitHub"


def test_seat_request_rollback_and_prune_each_show_as_one_seat_step(tmp_path: Path,
                                                                     sim: RunningSimulator) -> None:
    ws, imported = bootstrap(tmp_path, sim)
    seats = ws.project / "seats.yaml"
    merge = git_repo(ws.project, "Merge pull request #1 from acme/import")

    # a seat request: one line added in a pull request
    seats.write_text(add_entries(imported, "users", [NewEntry("frank", "requested for the API rewrite")]))
    assert seat_steps(ws) == {"user frank": "grant"}
    assert ws.preview("--expect-no-changes").returncode != 0
    sha = merge("Merge pull request #2 from acme/frank")
    for command in workflow(APPLY, "pulumi up"):
        result = run_command(command, ws, sim, MESSAGE=f"seats: PR #2 by alice, approved by bob, merge commit {sha}")
        assert result.returncode == 0, result
    assert "frank" in direct_and_team_seats(sim)[0]

    # the rollback: git revert of that change, merged, applied
    seats.write_text(imported)
    assert seat_steps(ws) == {"user frank": "revoke"}
    sha = merge("Revert frank's seat (#3)")
    for command in workflow(APPLY, "pulumi up"):
        assert run_command(command, ws, sim, MESSAGE=f"seats: PR #3 by carol, approved by bob, merge commit "
                                                     f"{sha}").returncode == 0
    assert "frank" not in direct_and_team_seats(sim)[0]
    assert ws.preview("--expect-no-changes").returncode == 0

    # the audit trail: who granted frank's seat, when, approved by whom, and who took it away
    audit = subprocess.run([str(CLI), "audit", "--login", "frank", "--stack", STACK, "--format", "csv"],
                           cwd=ws.project, capture_output=True, text=True, timeout=300, env=ws.env, check=False)
    assert audit.returncode == 0, audit.stderr
    rows = list(csv.DictReader(io.StringIO(audit.stdout)))
    assert [(r["change"], r["pull_request"]) for r in rows] == [("granted", "2"), ("revoked", "3")]
    assert all(r["applied_by_update"] and "approved by bob" in r["applied"] for r in rows)
    history = json.loads(ws.run("stack", "history", "--json").stdout)
    granted, revoked = (int(r["applied_by_update"]) for r in rows)
    assert (granted, revoked) == (len(history) - 1, len(history)), "the real updates (the file backend prints 0)"
    assert rows[1]["applied"].startswith(f"update {revoked} on ")

    # the weekly prune: bob has never used his seat in 200 days
    for command in workflow(PRUNE, "copilot-seats prune"):
        result = run_command(command, ws, sim, STALE_DAYS="60", GRACE_DAYS="14")
        assert result.returncode == 0, result
        assert "| `bob` | none reported |" in result.stdout
    assert entry_names(seats.read_text(), "users") == ["Alice", "newbie"]
    assert seat_steps(ws) == {"user bob": "revoke"}
