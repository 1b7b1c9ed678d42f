"""``prune --max`` (default: the guard's limit), stalest first, and ``--expired``.

The weekly prune used to remove every stale user at once, so its PR always failed the
mass-removal guard. Now one run revokes at most what the guard allows; the summary says how many
wait for the next run. On the real engine: prune -> preview passes the guard, while removing
every stale user at once is refused.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import RunningSimulator
from engine import PulumiWorkspace
from scale_org import login, scale_fixture, seats_yaml

from copilot_seats.decisions.planning import removal_limit
from copilot_seats.desired.loader import parse_spec
from copilot_seats.desired.seats_edit import entry_names

CLI = Path(sys.executable).parent / "copilot-seats"


def _prune(sim: RunningSimulator, seats: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), "prune", "--seats", str(seats), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **sim.env()}, check=False)


def _stale_count(summary: str) -> int:
    return len(re.findall(r"(?m)^\| `dev-\d{5}` \|", summary))


@pytest.fixture
def org(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator(scale_fixture(300))


def test_default_max_is_the_guard_limit_and_the_stalest_go_first(org: RunningSimulator, tmp_path: Path) -> None:
    seats = tmp_path / "seats.yaml"
    seats.write_text(seats_yaml("bigco", [login(i) for i in range(250)]))
    result = _prune(org, seats)
    assert result.returncode == 0, result.stderr
    limit = removal_limit(250, 10, 0.1)
    assert limit == 25 and _stale_count(result.stdout) == limit
    remaining = re.search(r"\*\*(\d+) more stale user\(s\) remain for the next run\*\*", result.stdout)
    assert remaining and int(remaining.group(1)) > 0
    kept = set(entry_names(seats.read_text(), "users"))
    assert len(kept) == 250 - limit
    removed = [m for m in re.findall(r"(?m)^\| `(dev-\d{5})` \| ([^|]+) \|", result.stdout)]
    # no activity reported (never used, or idle past 90 days) is stalest: those go first
    assert all(activity.strip() == "none reported" for _, activity in removed)
    assert f"This PR revokes {limit} seat(s) by pruning, at most {limit} in this run: the guard allows {limit} " \
           "in one run if" in result.stdout
    parse_spec(seats.read_text())  # still valid


def test_explicit_max_and_the_next_run_takes_the_rest(org: RunningSimulator, tmp_path: Path) -> None:
    seats = tmp_path / "seats.yaml"
    seats.write_text(seats_yaml("bigco", [login(i) for i in range(250)]))
    first = _prune(org, seats, "--max", "7")
    assert first.returncode == 0 and _stale_count(first.stdout) == 7
    left = int(re.search(r"\*\*(\d+) more stale", first.stdout).group(1))  # type: ignore[union-attr]
    everything = _prune(org, seats, "--max", "1000")
    assert _stale_count(everything.stdout) == left and "more stale user(s) remain" not in everything.stdout
    assert _prune(org, seats).stdout.count("No stale users to remove") == 1


def test_expired_entries_go_too_within_the_same_limit(org: RunningSimulator, tmp_path: Path) -> None:
    seats = tmp_path / "seats.yaml"
    text = seats_yaml("bigco", [login(i) for i in range(1, 250)])
    text = text.replace(f"  {login(1)}:\n    owner: eng", f"  {login(1)}:\n    expires: 2020-01-01\n    owner: eng")
    text += "  left-already:\n    expires: 2020-01-01\n"
    seats.write_text(text)
    plain = _prune(org, seats, "--dry-run", "--max", "0")
    assert "whose `expires` date has passed" not in plain.stdout
    result = _prune(org, seats, "--expired", "--max", "1")
    assert result.returncode == 0, result.stderr
    assert "Removed 2 entries whose `expires` date has passed" in result.stdout
    assert f"- `{login(1)}`" in result.stdout and "- `left-already`" in result.stdout
    assert _stale_count(result.stdout) == 0, "the one seat the limit allows went to the expired grant"
    names = entry_names(seats.read_text(), "users")
    assert login(1) not in names and "left-already" not in names


@pytest.mark.engine
def test_prune_then_preview_passes_the_guard(make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    n = 120
    sim = make_simulator(scale_fixture(n))
    text = seats_yaml("bigco", [login(i) for i in range(n)])
    ws = PulumiWorkspace(tmp_path, text, extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack("test")
    assert ws.up().returncode == 0
    seats = ws.project / "seats.yaml"

    everything = _prune(sim, seats, "--max", "10000", "--dry-run")
    assert _stale_count(everything.stdout) > removal_limit(n, 10, 0.1), "more stale users than one run may revoke"

    pruned = _prune(sim, seats)
    assert pruned.returncode == 0 and _stale_count(pruned.stdout) == removal_limit(n, 10, 0.1)
    preview = ws.preview()
    assert preview.returncode == 0, preview  # the guard lets it through

    seats.write_text(text)
    assert _prune(sim, seats, "--max", "10000").returncode == 0
    refused = ws.preview()
    assert refused.returncode != 0 and "refusing to revoke" in refused.output


@pytest.mark.engine
def test_prune_on_a_branch_that_already_removes_seats_leaves_the_guard_room(
        make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    """The guard's limit is 10 % of the last applied roster (20 of 200); the branch already
    removes 15 entries, so `prune --stack` may take 5 more, and its PR's preview passes."""
    n = 200
    sim = make_simulator(scale_fixture(n))
    everyone = [login(i) for i in range(n)]
    ws = PulumiWorkspace(tmp_path, seats_yaml("bigco", everyone),
                         extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack("test")
    assert ws.up().returncode == 0
    seats = ws.project / "seats.yaml"
    recent = [login(i) for i in range(n) if i % 5 and (i * 7) % 120 < 30]  # scale_fixture's activity: not stale
    branch = seats_yaml("bigco", [x for x in everyone if x not in set(recent[:15])])
    seats.write_text(branch)

    def prune(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(CLI), "prune", "--seats", str(seats), *args], cwd=ws.project,
                              capture_output=True, text=True, timeout=300, env={**ws.env, **sim.env()}, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc

    guessed = prune("--dry-run")  # without the stack: 10 % of the file's 185 entries, not the guard's budget
    assert _stale_count(guessed.stdout) == removal_limit(n - 15, 10, 0.1) == 19
    assert "an assumption: pass `--stack`" in guessed.stdout.replace("&#96;", "`")
    pruned = prune("--stack", "test")
    assert _stale_count(pruned.stdout) == 5, pruned.stdout
    assert "the guard of stack test allows 20 in one run and this branch already revokes 15" in pruned.stdout
    preview = ws.preview()
    assert preview.returncode == 0, preview.output  # the claim is true: the guard lets it through
    seats.write_text(branch)
    assert _stale_count(prune("--max", "1000", "--stack", "test").stdout) == 5, "--max cannot pass the guard's budget"
    assert ws.preview().returncode == 0
    assert not [w for w in sim.writes if w.method == "DELETE"], "prune and preview never write"


def test_remembered_activity_is_read_from_a_stack_export() -> None:
    from copilot_seats.policies.config import SEATS_TYPE
    from copilot_seats.stack.memory import remembered_activity

    export = {"deployment": {"resources": [
        {"type": SEATS_TYPE, "inputs": {"organization": "bigco", "remembered": {
            "Alice": "2026-08-01T10:00:00Z", "alice": "2026-07-01T00:00:00Z",  # the newest date wins
            "carol": "2026-06-30T23:00:00-06:00", "bob": None, "eve": "not a date", "zoe": 5}}},
        {"type": SEATS_TYPE, "inputs": {"organization": "bigco", "remembered": ["not", "a", "mapping"]}},
        {"type": "pulumi:pulumi:Stack", "inputs": {"remembered": {"x": "2026-01-01T00:00:00Z"}}},
    ]}}
    assert {k: v.isoformat() for k, v in remembered_activity(export).items()} == {
        "alice": "2026-08-01T10:00:00+00:00", "carol": "2026-07-01T05:00:00+00:00"}


def test_the_activity_the_last_run_observed_is_remembered_too() -> None:
    """The check stores ``remembered`` only where GitHub now reports an older date or none; the
    dates the last run observed are in ``observed_users``, and the newer of the two wins."""
    from copilot_seats.policies.config import SEATS_TYPE
    from copilot_seats.stack.memory import remembered_activity

    export = {"deployment": {"resources": [{"type": SEATS_TYPE, "inputs": {
        "organization": "bigco",
        "observed_users": {"logins": ["both", "new", "old-timer"],
                           "last_activity_at": ["2026-05-01T00:00:00Z", None, "2026-09-01T00:00:00Z"],
                           "standing": {"new": "missing"}},
        "remembered": {"both": "2026-06-01T00:00:00Z"}}}]}}
    assert {k: v.date().isoformat() for k, v in remembered_activity(export).items()} == {
        "old-timer": "2026-09-01", "both": "2026-06-01"}


@pytest.mark.engine
def test_prune_and_report_use_the_activity_the_stack_remembers(
        make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    fixture = {"organizations": [{"login": "bigco", "seat_management_setting": "assign_selected",
                                  "plan_type": "business", "seats": [
                                      {"login": "old-timer", "created_at": {"days_ago": 300},
                                       "last_activity_at": {"days_ago": 80}},
                                      {"login": "active", "created_at": {"days_ago": 300},
                                       "last_activity_at": {"days_ago": 1}}]}]}
    sim = make_simulator(fixture)
    ws = PulumiWorkspace(tmp_path, seats_yaml("bigco", ["old-timer", "active"]),
                         extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack("test")
    assert ws.up().returncode == 0
    sim.state.orgs["bigco"].seats["old-timer"].last_activity_at = None  # GitHub's 90-day null
    seats = ws.project / "seats.yaml"

    def run(*argv: str) -> str:
        proc = subprocess.run([str(CLI), *argv], cwd=ws.project, capture_output=True, text=True, timeout=300,
                              env={**ws.env, **sim.env()}, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    plain = run("prune", "--seats", str(seats), "--dry-run")
    assert "| `old-timer` | none reported |" in plain and "no activity reported" in plain
    remembered = run("prune", "--seats", str(seats), "--dry-run", "--stack", "test")
    assert "remembered; GitHub now reports null" in remembered
    report = run("report", "--seats", str(seats), "--format", "csv", "--stack", "test")
    assert "remembered; GitHub now reports null" in report
    assert not [w for w in sim.writes if w.method == "DELETE"]
