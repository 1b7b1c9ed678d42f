"""`copilot-seats import` and `prune`, run through the installed console script against the simulator."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningSimulator

from copilot_seats.decisions.analysis import compare
from copilot_seats.desired.loader import check_file, load_spec
from copilot_seats.desired.seats_edit import entry_names
from copilot_seats.github.live import fetch_snapshot

CLI = Path(sys.executable).parent / "copilot-seats"


def run(sim: RunningSimulator | None, cwd: Path, *args: str, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_API_URL")}
    return subprocess.run([str(CLI), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**base, **(sim.env() if sim else {}), **(env or {})}, check=False)


# -- import -----------------------------------------------------------------------------------


def test_import_writes_direct_users_and_teams_with_activity_comments(simulator: RunningSimulator,
                                                                     tmp_path: Path) -> None:
    result = run(simulator, tmp_path, "import", "--org", "acme")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "seats.yaml").read_text()
    spec = load_spec(tmp_path / "seats.yaml")
    assert spec.organization == "acme"
    # direct seats only; carol and dave hold theirs through team platform; erin is leaving
    assert [u.login for u in spec.users] == ["Alice", "bob", "newbie"]
    assert [t.slug for t in spec.teams] == ["platform"]
    assert "  Alice:  # last activity " in text and "(vscode), granted " in text
    assert "  bob:  # no activity reported (never used, or idle > 90 days), granted " in text
    assert "  platform:  # 2 seat(s) through this team, last activity " in text
    assert "pending cancellation: erin" in result.stderr
    assert simulator.writes == []


def test_import_output_passes_copilot_seats_validate(simulator: RunningSimulator, tmp_path: Path) -> None:
    assert run(simulator, tmp_path, "import", "--org", "acme").returncode == 0
    validated = run(None, tmp_path, "validate", "seats.yaml")
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_import_dry_run_prints_the_file_and_writes_nothing(simulator: RunningSimulator,
                                                           tmp_path: Path) -> None:
    result = run(simulator, tmp_path, "import", "--org", "acme", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "organization: acme\n" in result.stdout and "  Alice:  # last activity" in result.stdout
    assert not (tmp_path / "seats.yaml").exists()


def test_prune_keeps_the_files_permissions(make_simulator: Callable[..., RunningSimulator],
                                           tmp_path: Path) -> None:
    sim = make_simulator(STALE_ORG)
    seats = tmp_path / "seats.yaml"
    seats.write_text("organization: octo\nusers:\n  idle200:\n  active:\n")
    seats.chmod(0o644)
    assert run(sim, tmp_path, "prune").returncode == 0
    assert seats.read_text() == "organization: octo\nusers:\n  active:\n"
    assert stat.S_IMODE(seats.stat().st_mode) == 0o644


def test_import_into_a_missing_directory_is_an_error_not_a_traceback(simulator: RunningSimulator,
                                                                       tmp_path: Path) -> None:
    result = run(simulator, tmp_path, "import", "--org", "acme", "--output", "no/such/dir/seats.yaml")
    assert result.returncode == 1 and "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_import_to_stdout_with_dash(simulator: RunningSimulator, tmp_path: Path) -> None:
    result = run(simulator, tmp_path, "import", "--org", "acme", "--output", "-")
    assert result.returncode == 0 and result.stdout.count("organization: acme") == 1
    assert list(tmp_path.iterdir()) == []


def test_import_refuses_to_overwrite_unless_forced(simulator: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text("organization: acme\n")
    refused = run(simulator, tmp_path, "import", "--org", "acme")
    assert refused.returncode == 2 and "--merge" in refused.stderr
    assert (tmp_path / "seats.yaml").read_text() == "organization: acme\n"
    assert run(simulator, tmp_path, "import", "--org", "acme", "--force").returncode == 0
    assert "  Alice:" in (tmp_path / "seats.yaml").read_text()


MERGE_BASE = """\
# Managed by the platform team. Keep comments!
organization: acme

users:
  # people with a direct seat
  alice:
    owner: platform   # Alice, any case
    reason: "quoted: kept as written"

  ghost:  # declared but holds no seat (drift, not ours to fix here)

teams:
  # none yet
"""


def test_import_merge_adds_only_seats_held_outside_the_file_and_keeps_every_line(
        simulator: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(MERGE_BASE)
    result = run(simulator, tmp_path, "import", "--merge")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "seats.yaml").read_text()
    assert entry_names(text, "users") == ["alice", "ghost", "bob", "newbie"]
    assert entry_names(text, "teams") == ["platform"]
    base_lines = MERGE_BASE.splitlines(keepends=True)
    added = [line for line in text.splitlines(keepends=True) if line not in base_lines]
    assert [line.split(":")[0].strip() for line in added] == ["bob", "newbie", "platform"]
    assert "".join(line for line in text.splitlines(keepends=True) if line not in added) == MERGE_BASE
    assert check_file(tmp_path / "seats.yaml").valid


def test_import_merge_twice_changes_nothing_the_second_time(simulator: RunningSimulator,
                                                            tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(MERGE_BASE)
    assert run(simulator, tmp_path, "import", "--merge").returncode == 0
    once = (tmp_path / "seats.yaml").read_text()
    again = run(simulator, tmp_path, "import", "--merge")
    assert again.returncode == 0 and "already declares every live seat" in again.stderr
    assert (tmp_path / "seats.yaml").read_text() == once


def test_import_merge_dry_run_prints_a_diff(simulator: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(MERGE_BASE)
    result = run(simulator, tmp_path, "import", "--merge", "--dry-run")
    assert result.returncode == 0
    assert "+  bob:  # no activity reported" in result.stdout and "+  platform:" in result.stdout
    assert (tmp_path / "seats.yaml").read_text() == MERGE_BASE


@pytest.mark.parametrize(
    ("args", "seats", "env", "code", "message"),
    [
        (["import"], None, {}, 2, "--org"),
        (["import", "--merge"], None, {}, 2, "does not exist"),
        (["import", "--merge", "--org", "other"], "organization: acme\n", {}, 2, "does not match"),
        (["import", "--merge"], "organization: acme\nusers: [alice]\n", {}, 1, "invalid"),
        (["import", "--org", "acme", "--bogus"], None, {}, 2, "No such option"),
        (["import", "--org", "no-such-org"], None, {}, 3, "no-such-org"),
        (["import", "--org", "acme"], None, {"GITHUB_TOKEN": "wrong"}, 3, "401"),
        (["import", "--org", "acme"], None, {"GITHUB_TOKEN": ""}, 2, "GITHUB_TOKEN is not set"),
    ],
    ids=["no-org", "merge-missing-file", "merge-org-mismatch", "merge-invalid-file", "bad-flag",
         "unknown-org", "bad-token", "no-token"],
)
def test_import_exit_codes(simulator: RunningSimulator, tmp_path: Path, args: list[str], seats: str | None,
                           env: dict[str, str], code: int, message: str) -> None:
    if seats is not None:
        (tmp_path / "seats.yaml").write_text(seats)
    result = run(simulator, tmp_path, *args, env=env)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    if seats is not None:
        assert (tmp_path / "seats.yaml").read_text() == seats


# -- prune ------------------------------------------------------------------------------------

STALE_ORG: dict[str, Any] = {
    "organizations": [{
        "login": "octo", "seat_management_setting": "assign_selected", "plan_type": "business",
        "members": ["active", "idle75", "idle200", "never", "fresh", "onleave", "teamidle", "leaving"],
        "teams": [{"slug": "research", "name": "Research", "members": ["teamidle"]}],
        "seats": [
            {"login": "active", "created_at": {"days_ago": 300}, "last_activity_at": {"days_ago": 3},
             "last_activity_editor": "vscode/1.99.0/copilot/1.300.0"},
            {"login": "idle75", "created_at": {"days_ago": 300}, "last_activity_at": {"days_ago": 75},
             "last_activity_editor": "JetBrains-IC/2024.1/copilot/1.5"},
            {"login": "idle200", "created_at": {"days_ago": 400}, "last_activity_at": None},
            {"login": "never", "created_at": {"days_ago": 30}, "last_activity_at": None},
            {"login": "fresh", "created_at": {"days_ago": 3}, "last_activity_at": None},
            {"login": "onleave", "created_at": {"days_ago": 300}, "last_activity_at": {"days_ago": 80}},
            {"login": "teamidle", "teams": ["research"], "created_at": {"days_ago": 300},
             "last_activity_at": {"days_ago": 120}},
            {"login": "leaving", "pending_cancellation": True, "created_at": {"days_ago": 300},
             "last_activity_at": None},
        ],
    }],
}

PRUNE_SEATS = """\
# yaml-language-server: $schema=./schemas/seats.schema.json
organization: octo  # the org

users:
  # --- engineers ---
  active:
    owner: eng
  idle75:  # last activity long ago
    owner: eng
    reason: "Backend: API"

  # the next one was never used
  idle200:
  never:
  fresh:
  onleave:
    stale_exemption:
      reason: Parental leave
      until: 2099-01-01
  teamidle:  # also in team research
  leaving:

teams:
  research:  # every seat here is stale; teams are never pruned
    owner: research-lead
"""


@pytest.fixture
def stale_org(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator(STALE_ORG)


PRUNED = """\
# yaml-language-server: $schema=./schemas/seats.schema.json
organization: octo  # the org

users:
  # --- engineers ---
  active:
    owner: eng

  # the next one was never used
  fresh:
  onleave:
    stale_exemption:
      reason: Parental leave
      until: 2099-01-01
  teamidle:  # also in team research
  leaving:

teams:
  research:  # every seat here is stale; teams are never pruned
    owner: research-lead
"""
"""PRUNE_SEATS minus idle75, idle200 and never: every other line, comment and blank line kept."""


def test_prune_removes_stale_users_and_keeps_every_other_line(stale_org: RunningSimulator,
                                                              tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(PRUNE_SEATS)
    result = run(stale_org, tmp_path, "prune", "--stale-days", "60", "--grace-days", "14")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "seats.yaml").read_text() == PRUNED
    assert check_file(tmp_path / "seats.yaml").valid
    assert stale_org.writes == []


def test_prune_uses_the_stale_seat_rule_of_analysis(stale_org: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(PRUNE_SEATS)
    spec = load_spec(tmp_path / "seats.yaml")
    snapshot = fetch_snapshot(stale_org.client(), "octo")
    rows = compare(spec, snapshot, datetime.now(UTC), 60, 14).rows
    expected = {r.login for r in rows if r.declared_directly and r.stale and r.assigning_team is None}
    assert run(stale_org, tmp_path, "prune", "--stale-days", "60").returncode == 0
    remaining = set(entry_names((tmp_path / "seats.yaml").read_text(), "users"))
    assert {u.login for u in spec.users} - remaining == expected == {"idle75", "idle200", "never"}


def test_prune_threshold_and_grace_are_honoured(stale_org: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(PRUNE_SEATS)
    result = run(stale_org, tmp_path, "prune", "--stale-days", "90", "--grace-days", "60")
    assert result.returncode == 0, result.stderr
    remaining = entry_names((tmp_path / "seats.yaml").read_text(), "users")
    assert "idle75" in remaining and "never" in remaining and "idle200" not in remaining


def test_prune_prints_a_markdown_pull_request_body(stale_org: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(PRUNE_SEATS)
    body = run(stale_org, tmp_path, "prune", "--stale-days", "60").stdout
    assert body.startswith("## Prune stale Copilot seats\n")
    assert "| Login | Last activity | Granted | Why |" in body
    assert "| `idle75` | " in body and "(JetBrains-IC) |" in body
    assert "no Copilot activity for 75 days" in body
    assert "| `idle200` | none reported |" in body and "never used, or inactive for more than" in body
    assert "- `onleave`: Parental leave (until 2099-01-01)" in body
    assert "- `teamidle` through team `research`" in body
    for kept in ("`active`", "`fresh`", "`leaving`"):
        assert kept not in body


def test_prune_never_removes_teams(stale_org: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(PRUNE_SEATS)
    assert run(stale_org, tmp_path, "prune", "--stale-days", "1", "--grace-days", "0").returncode == 0
    text = (tmp_path / "seats.yaml").read_text()
    assert entry_names(text, "teams") == ["research"]
    assert "  research:  # every seat here is stale; teams are never pruned\n    owner: research-lead\n" \
        in text


def test_prune_dry_run_leaves_the_file_unchanged(stale_org: RunningSimulator, tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(PRUNE_SEATS)
    result = run(stale_org, tmp_path, "prune", "--dry-run")
    assert result.returncode == 0 and "Would remove 3 user(s)" in result.stdout
    assert (tmp_path / "seats.yaml").read_text() == PRUNE_SEATS


def test_prune_with_nothing_stale_says_so_and_changes_nothing(stale_org: RunningSimulator,
                                                              tmp_path: Path) -> None:
    seats = "organization: octo\nusers:\n  active:  # busy\n"
    (tmp_path / "s.yaml").write_text(seats)
    result = run(stale_org, tmp_path, "prune", "--seats", "s.yaml")
    assert result.returncode == 0 and "No stale users to remove" in result.stdout
    assert (tmp_path / "s.yaml").read_text() == seats


@pytest.mark.parametrize(
    ("args", "seats", "env", "code", "message"),
    [
        (["prune"], "organization: octo\nusers: [a]\n", {}, 1, "invalid"),
        (["prune", "--seats", "missing.yaml"], None, {}, 2, "does not exist"),
        (["prune", "--stale-days", "0"], "organization: octo\n", {}, 2, "--stale-days"),
        (["prune"], "organization: nope\nusers:\n  a:\n", {}, 3, "nope"),
        (["prune"], "organization: octo\nusers:\n  idle200:\n", {"GITHUB_TOKEN": "wrong"}, 3, "401"),
    ],
    ids=["invalid-file", "missing-file", "bad-threshold", "unknown-org", "bad-token"],
)
def test_prune_exit_codes(stale_org: RunningSimulator, tmp_path: Path, args: list[str], seats: str | None,
                          env: dict[str, str], code: int, message: str) -> None:
    if seats is not None:
        (tmp_path / "seats.yaml").write_text(seats)
    result = run(stale_org, tmp_path, *args, env=env)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    if seats is not None:
        assert (tmp_path / "seats.yaml").read_text() == seats


@pytest.mark.parametrize("command", ["import", "prune"])
def test_commands_have_help_text(command: str, tmp_path: Path) -> None:
    result = run(None, tmp_path, command, "--help")
    assert result.returncode == 0 and "GITHUB_TOKEN" in result.stdout and "--dry-run" in result.stdout
