"""`copilot-seats report` end to end: the real console script against a simulator started here."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningSimulator

from copilot_seats.simulator import read_fixture

SCRIPT = Path(sys.executable).parent / "copilot-seats"
REPO = Path(__file__).resolve().parents[1]

SEATS_YAML = """\
organization: acme
users:
  alice:
    owner: platform
    reason: Core work
  bob:
    owner: platform
    reason: Core work
  frank:
    owner: platform
    reason: Joins soon
teams:
  platform:
    owner: platform
    reason: Whole team
"""


@pytest.fixture
def seats_file(tmp_path: Path) -> Path:
    path = tmp_path / "seats.yaml"
    path.write_text(SEATS_YAML)
    return path


def run(sim: RunningSimulator | None, *args: str, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_API_URL")}
    environment.update(sim.env() if sim is not None else {})
    environment.update(env or {})
    return subprocess.run([str(SCRIPT), "report", *args], capture_output=True, text=True, env=environment,
                          cwd=cwd, timeout=60)


def test_json_report_has_the_documented_keys_and_drift(simulator: RunningSimulator, seats_file: Path) -> None:
    result = run(simulator, "--seats", str(seats_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"organization", "generated_at", "live_seats", "declared_seats", "estimated_monthly_cost", "seats",
            "unmanaged", "missing", "pending_cancellation", "stale"} <= set(data)
    assert data["organization"] == "acme" and data["live_seats"] == 6
    assert data["estimated_monthly_cost"] == 7 * 19
    assert data["unmanaged"] == ["newbie"] and data["missing"] == ["frank"]
    assert data["pending_cancellation"] == ["erin"] and "bob" in data["stale"]
    assert data["double_granted"] == []
    seat_fields = {"login", "declared", "live", "assigning_team", "last_activity_at", "last_activity_editor",
                   "last_authenticated_at", "created_at", "pending_cancellation_date", "stale"}
    assert all(seat_fields <= set(s) for s in data["seats"])


def test_report_only_reads_one_billing_and_one_listing_page(simulator: RunningSimulator, seats_file: Path) -> None:
    assert run(simulator, "--seats", str(seats_file), "--format", "json").returncode == 0
    assert [(r.method, r.path) for r in simulator.requests] == [
        ("GET", "/orgs/acme/copilot/billing"), ("GET", "/orgs/acme/copilot/billing/seats")]
    assert simulator.writes == []


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        pytest.param("table", lambda out: "LOGIN" in out and "Estimated monthly cost: $133.00" in out, id="table"),
        pytest.param("markdown", lambda out: "```mermaid" in out and "### Missing seats (1)" in out, id="markdown"),
        pytest.param("csv", lambda out: next(csv.reader(io.StringIO(out)))[:5] == [
            "report_time", "login", "last_authenticated_at", "last_activity_at", "last_surface_used"], id="csv"),
        pytest.param("json", lambda out: json.loads(out)["organization"] == "acme", id="json"),
    ],
)
def test_each_format_renders(simulator: RunningSimulator, seats_file: Path, fmt: str, check: Any) -> None:
    result = run(simulator, "--seats", str(seats_file), "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert check(result.stdout)


def test_output_file_options_and_price_override(simulator: RunningSimulator, seats_file: Path,
                                                tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run(simulator, "--seats", str(seats_file), "--format", "json", "--output", str(out),
                 "--seat-price", "10", "--stale-days", "5", "--grace-days", "0")
    assert result.returncode == 0 and result.stdout == ""
    data = json.loads(out.read_text())
    assert data["estimated_monthly_cost"] == 70 and data["seat_price_usd"] == 10
    assert "newbie" in data["stale"] and "dave" in data["stale"]


def test_org_option_overrides_the_seats_file(simulator: RunningSimulator, seats_file: Path) -> None:
    result = run(simulator, "--seats", str(seats_file), "--org", "labs", "--format", "json")
    assert json.loads(result.stdout)["organization"] == "labs"


def test_progress_goes_to_stderr_only_when_asked(simulator: RunningSimulator, seats_file: Path) -> None:
    quiet = run(simulator, "--seats", str(seats_file), "--format", "json")
    loud = run(simulator, "--seats", str(seats_file), "--format", "json", "--progress")
    assert "Listing seats" not in quiet.stderr
    assert "Listing seats: page 1 (7/7 seats)" in loud.stderr
    assert json.loads(loud.stdout)["organization"] == "acme"


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        pytest.param(["--fail-on-drift"], {}, 1, "drift: 1 unmanaged (newbie); 1 missing users (frank)",
                     id="drift-fails-when-asked"),
        pytest.param(["--format", "xml"], {}, 2, "Invalid value", id="bad-flag-is-usage"),
        pytest.param([], {"GITHUB_TOKEN": ""}, 2, "GITHUB_TOKEN is not set", id="missing-token-is-usage"),
        pytest.param([], {"GITHUB_TOKEN": "ghp_wrongToken42"}, 3, "Bad credentials", id="bad-token-is-api-error"),
        pytest.param(["--org", "nope"], {}, 3, "404", id="unknown-org-is-api-error"),
    ],
)
def test_exit_codes(simulator: RunningSimulator, seats_file: Path, args: list[str], env: dict[str, str],
                    code: int, message: str) -> None:
    result = run(simulator, "--seats", str(seats_file), *args, env=env)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "ghp_wrongToken42" not in result.stderr + result.stdout


def test_invalid_seats_file_exits_1(simulator: RunningSimulator, tmp_path: Path) -> None:
    bad = tmp_path / "seats.yaml"
    bad.write_text("organization: acme\nusers: [not, a, mapping\n")
    result = run(simulator, "--seats", str(bad))
    assert result.returncode == 1 and "invalid" in result.stderr
    assert simulator.requests == [], "nothing is fetched for an invalid spec"


def test_api_failure_after_retries_exits_3(simulator: RunningSimulator, seats_file: Path) -> None:
    simulator.state.inject(status=429, retry_after=3600, times=10)
    result = run(simulator, "--seats", str(seats_file))
    assert result.returncode == 3 and "rate limit" in result.stderr.lower()


def test_help_documents_exit_codes() -> None:
    result = subprocess.run([str(SCRIPT), "report", "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "Exit status: 0 ok; 1 invalid seats.yaml" in " ".join(result.stdout.split())


def test_demo_org_report_against_the_repository_seats_yaml(make_simulator: Any) -> None:
    sim = make_simulator(read_fixture("demo"))
    result = run(sim, "--format", "json", cwd=REPO)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["organization"] == "octo-demo" and 280 <= data["live_seats"] <= 320
    assert sorted(data["missing"]) == ["cynthia-dwork", "rajred", "silviomic"]
    assert sorted(data["pending_cancellation"]) == ["mary-shaw", "tim-bernerslee"]
    assert data["double_granted"] == ["ken-thompson"] and len(data["unmanaged"]) >= 245
    assert "frances-allen" not in data["stale"], "stale exemption until 2027-03-01"
    assert len(sim.requests) == 1 + 4 and sim.writes == []


def test_fail_on_drift_counts_seats_revoked_by_hand(make_simulator: Callable[..., RunningSimulator],
                                                    tmp_path: Path) -> None:
    """Revoked outside the tool, every kind: a user removed at once (missing), a user and a team
    pending cancellation (leaving); nothing is unmanaged, so only these can fail the check."""
    sim = make_simulator({"organizations": [{"login": "acme", "teams": [
        {"slug": "mobile", "members": ["carol", "dave"]}, {"slug": "gone", "members": ["erin"]}], "seats": [
        {"login": "alice", "pending_cancellation_date": "2027-01-01"},
        {"login": "carol", "teams": ["mobile"], "pending_cancellation_date": "2027-01-01"},
        {"login": "dave", "teams": ["mobile"], "pending_cancellation_date": "2027-01-01"},
        {"login": "frank"}]}]})
    seats = tmp_path / "seats.yaml"
    seats.write_text("organization: acme\nusers:\n  alice:\n  bob:\n  frank:\nteams:\n  mobile:\n  gone:\n")
    result = run(sim, "--seats", str(seats), "--fail-on-drift")
    assert result.returncode == 1, result.stderr
    assert ("drift: 0 unmanaged; 1 missing users (bob); 3 leaving users (pending cancellation) (alice, carol, "
            "dave); 1 missing teams (gone); 1 leaving teams (mobile)") in result.stderr
    clean = make_simulator({"organizations": [{
        "login": "acme", "teams": [{"slug": "mobile", "members": ["carol"]}],
        "seats": [{"login": "frank"}, {"login": "carol", "teams": ["mobile"]}]}]})
    seats.write_text("organization: acme\nusers:\n  frank:\nteams:\n  mobile:\n")
    assert run(clean, "--seats", str(seats), "--fail-on-drift").returncode == 0, "a clean org passes"
