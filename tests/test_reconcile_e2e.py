"""End to end on the real engine: preview/up/refresh/destroy against the simulator.

Every scenario also asserts that preview wrote nothing (the simulator's request log).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SMALL_FIXTURE, RunningSimulator
from e2e_helpers import changes, seats_yaml, sim_seats, steps
from engine import PulumiResult, PulumiWorkspace

pytestmark = pytest.mark.engine

SEATS = "copilot:index:Seats"


def sim_direct(sim: RunningSimulator, org: str = "acme") -> dict[str, Any]:
    """login -> seat summary from the simulator's own state (not through our client)."""
    return sim_seats(sim, org)


@pytest.fixture
def sim(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator(SMALL_FIXTURE)


@pytest.fixture
def ws(tmp_path: Path, sim: RunningSimulator) -> PulumiWorkspace:
    workspace = PulumiWorkspace(tmp_path, seats_yaml(["Alice", "frank"], ["platform"]),
                                extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    workspace.init_stack()
    return workspace


def writes_during(sim: RunningSimulator, action: Callable[[], PulumiResult]) -> tuple[PulumiResult, int]:
    before = len(sim.writes)
    result = action()
    return result, len(sim.writes) - before


def test_preview_of_new_stack_lists_exactly_the_declared_grants_and_writes_nothing(
        ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    result, writes = writes_during(sim, lambda: ws.preview("--json", policy_pack=None))
    assert steps(result) == {(SEATS, "seats"): "create"}  # one resource per organization
    assert changes(result) == {"user alice": "adopt", "user frank": "grant", "team platform": "adopt"}
    assert writes == 0


def test_up_makes_github_match_then_preview_shows_no_changes_and_writes_nothing(
        ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    assert "frank" not in sim_direct(sim)
    up = ws.up()
    assert up.returncode == 0, up
    live = sim_direct(sim)
    assert "frank" in live and live["frank"].get("assigning_team") is None
    again, writes = writes_during(sim, lambda: ws.preview("--json", "--expect-no-changes", policy_pack=None))
    assert steps(again) == {}
    assert writes == 0
    outputs = json.loads(ws.run("stack", "output", "--json").stdout)
    assert outputs["declaredSeats"] == 2 and outputs["liveSeats"] == 7


def test_adding_and_removing_entries_is_one_step_each(ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    assert ws.up().returncode == 0
    ws.write_seats(seats_yaml(["Alice", "bob", "newbie"], ["platform", "empty-team"]))
    assert changes(ws.preview("--json", policy_pack=None)) == {
        "user bob": "adopt", "user newbie": "adopt", "user frank": "revoke", "team empty-team": "grant"}
    up = ws.up()
    assert up.returncode == 0, up
    assert sim_direct(sim)["frank"]["pending_cancellation_date"] is not None
    assert steps(ws.preview("--json", policy_pack=None)) == {}


def test_metadata_change_updates_state_without_api_write(ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    assert ws.up().returncode == 0
    ws.write_seats(seats_yaml(["Alice", "frank"], ["platform"]).replace("reason: testing", "reason: renewed", 1))
    assert changes(ws.preview("--json", policy_pack=None)) == {"user alice": "change"}
    result, writes = writes_during(sim, ws.up)
    assert result.returncode == 0, result
    assert writes == 0


def test_seat_revoked_behind_pulumis_back_is_granted_again_by_plain_up(
        ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    assert ws.up().returncode == 0
    sim.client().remove_users("acme", ["frank"])
    requests_before = len(sim.requests)
    result, writes = writes_during(sim, lambda: ws.preview("--json", policy_pack=None))
    assert changes(result) == {"user frank": "grant"}  # a repair, no --refresh needed
    assert writes == 0
    assert len(sim.requests) - requests_before == 2  # the program's one listing: billing + 1 page
    diff = ws.preview("--diff", policy_pack=None)
    assert "re-grant: the seat is pending cancellation" in diff.output, diff
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert writes == 1
    assert sim_direct(sim)["frank"]["pending_cancellation_date"] is None
    assert steps(ws.preview("--json", "--expect-no-changes", policy_pack=None)) == {}


def test_additive_mode_leaves_unmanaged_seats_and_authoritative_revokes_them(
        ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    assert ws.up().returncode == 0
    assert sim_direct(sim)["bob"]["pending_cancellation_date"] is None  # additive: untouched
    ws.write_seats(seats_yaml(["Alice", "frank", "dave"], ["platform"], mode="authoritative"))
    result, writes = writes_during(sim, lambda: ws.preview("--json", policy_pack=None))
    # bob and newbie hold direct seats outside seats.yaml; erin is already pending; carol is via platform
    assert changes(result) == {"user bob": "revoke", "user newbie": "revoke", "user dave": "adopt"}
    assert writes == 0
    assert ws.up().returncode == 0
    live = sim_direct(sim)
    assert live["bob"]["pending_cancellation_date"] is not None
    assert live["newbie"]["pending_cancellation_date"] is not None
    assert live["alice"]["pending_cancellation_date"] is None
    assert steps(ws.preview("--json", "--expect-no-changes", policy_pack=None)) == {}


def test_mass_removal_guard_trips_on_emptied_seats_file(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    many = [f"user{i:02d}" for i in range(15)]
    fixture = json.loads(json.dumps(SMALL_FIXTURE))
    fixture["organizations"][0]["members"] += many
    sim = make_simulator(fixture)
    ws = PulumiWorkspace(tmp_path, seats_yaml(many), extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack()
    assert ws.up().returncode == 0, "first up"
    ws.write_seats(seats_yaml([]))
    result, writes = writes_during(sim, lambda: ws.preview(policy_pack=None))
    assert result.returncode != 0
    assert "refusing to revoke 15 Copilot seats" in result.output
    up, writes_up = writes_during(sim, ws.up)
    assert up.returncode != 0 and "refusing to revoke 15" in up.output
    assert writes == 0 and writes_up == 0
    assert all(s["pending_cancellation_date"] is None for k, s in sim_direct(sim).items() if k in many)
    ok = ws.run("up", "--yes", env={"COPILOT_SEATS_ALLOW_MASS_REMOVAL": "1"})
    assert ok.returncode == 0, ok
    assert all(s["pending_cancellation_date"] is not None for k, s in sim_direct(sim).items() if k in many)


def test_destroy_revokes_managed_seats_only(ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    assert ws.up().returncode == 0
    result = ws.run("destroy", "--yes")
    assert result.returncode == 0, result
    live = sim_direct(sim)
    assert live["frank"]["pending_cancellation_date"] is not None
    assert live["alice"]["pending_cancellation_date"] is not None
    assert live["bob"]["pending_cancellation_date"] is None  # never managed
    team_writes = [r for r in sim.writes if r.path.endswith("selected_teams") and r.method == "DELETE"]
    assert len(team_writes) == 1


def test_removing_a_user_whose_seat_comes_through_a_team_keeps_the_team_seat(
        tmp_path: Path, sim: RunningSimulator) -> None:
    ws = PulumiWorkspace(tmp_path, seats_yaml(["Alice", "carol"]),
                         extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack()
    assert ws.up().returncode == 0  # carol now holds a direct grant besides her team seat
    sim.client().remove_users("acme", ["carol"])  # someone drops the direct grant by hand
    assert sim_direct(sim)["carol"]["assigning_team"]["slug"] == "platform"
    ws.write_seats(seats_yaml(["Alice"]))
    result = ws.up()
    assert result.returncode == 0, result  # the 422 "assigned via a team" means: nothing direct to cancel
    assert sim_direct(sim)["carol"]["pending_cancellation_date"] is None
    again = ws.up()
    assert again.returncode == 0, again
    assert steps(ws.preview("--json", "--expect-no-changes", policy_pack=None)) == {}


def test_seat_management_setting_422_is_explained(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    fixture = json.loads(json.dumps(SMALL_FIXTURE))
    fixture["organizations"][1]["members"].append("yan")  # a member without a seat in an assign_all org
    sim = make_simulator(fixture)
    ws = PulumiWorkspace(tmp_path, seats_yaml(["zed", "yan"], org="allorg"),
                         extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack()
    result = ws.up()
    assert result.returncode != 0
    assert "assign_selected" in result.output, result
    assert not [w for w in sim.writes if "zed" in str(w.body)], "zed already holds a seat: nothing to send"


def test_token_never_reaches_state(ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    assert ws.up().returncode == 0
    exported = ws.run("stack", "export", "--show-secrets")
    assert exported.returncode == 0 and "organization" in exported.stdout
    assert sim.token not in exported.stdout
    for path in (ws.root / "backend").rglob("*"):
        if path.is_file():
            assert sim.token.encode() not in path.read_bytes(), path
    assert sim.token not in (ws.project / "Pulumi.test.yaml").read_text(errors="replace") if (
        ws.project / "Pulumi.test.yaml").exists() else True


def test_token_from_stack_config_secret_when_env_has_none(tmp_path: Path, sim: RunningSimulator) -> None:
    env = {"GITHUB_API_URL": sim.base_url, "COPILOT_SEATS_WRITE_SPACING": "0", "GITHUB_TOKEN": ""}
    ws = PulumiWorkspace(tmp_path, seats_yaml(["Alice", "frank"]), extra_env=env)
    ws.init_stack(secrets={"github:token": sim.token})
    up = ws.up()
    assert up.returncode == 0, up
    assert "frank" in sim_direct(sim)
    exported = ws.run("stack", "export", "--show-secrets").stdout
    assert sim.token not in exported


def test_invalid_seats_file_fails_preview_before_any_api_call(tmp_path: Path, sim: RunningSimulator) -> None:
    ws = PulumiWorkspace(tmp_path, "organization: acme\nusers:\n  bad/login: {}\n  ok:\n    ownr: x\n",
                         extra_env=sim.env())
    ws.init_stack()
    before = len(sim.requests)
    result = ws.preview(policy_pack=None)
    assert result.returncode != 0
    assert "seats.yaml:3" in result.output and "bad/login" in result.output
    assert "ownr" in result.output
    assert len(sim.requests) == before


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_up_converges_on_the_next_up(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator], sig: signal.Signals) -> None:
    many = [f"dev{i:03d}" for i in range(250)]  # three batched grants: time to interrupt between them
    fixture = json.loads(json.dumps(SMALL_FIXTURE))
    fixture["organizations"][0]["members"] += many
    sim = make_simulator(fixture)
    sim.state.inject(status=0, latency=1.0, method="POST", times=1000)  # slow writes: time to interrupt
    ws = PulumiWorkspace(tmp_path, seats_yaml(many),
                         extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack()
    proc = subprocess.Popen([str(ws.bin_dir / "pulumi"), "up", "--yes", "--non-interactive"],
                            cwd=ws.project, env=ws.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def granted() -> int:
        return sum(len((w.body or {}).get("selected_usernames", [])) for w in sim.writes if w.method == "POST")

    deadline = time.time() + 120
    while time.time() < deadline and granted() == 0:
        time.sleep(0.05)
    ours = [pid for pid, cmd in ws.processes().items()
            if "pulumi-resource-copilot" in cmd or "pulumi-language-python-exec" in cmd]
    proc.send_signal(sig)
    proc.wait(timeout=120)
    deadline = time.time() + 15
    while time.time() < deadline and set(ours) & set(ws.processes()):
        time.sleep(0.2)
    assert not set(ours) & set(ws.processes()), "the program or the provider outlived the CLI"
    for pid in ws.processes():  # Pulumi's own host binary leaves at its health check; do not wait for it
        os.kill(pid, signal.SIGTERM)
    assert granted() > 0
    if sig == signal.SIGKILL:  # ctrl-c lets the in-flight Seats step finish its writes
        assert granted() < len(many)
    sim.state.faults.clear()
    if sig == signal.SIGKILL:
        # A killed CLI cannot release its lock; Pulumi's documented recovery for a DIY backend is to
        # delete the stale lock file once no update is running. Pending operations are then
        # reported and cleared by the next update; our grants are idempotent, so it converges.
        locks = list((ws.root / "backend" / ".pulumi" / "locks").rglob("*.json"))
        assert locks, "a killed update leaves its lock behind"
        for lock in locks:
            lock.unlink()
    again = ws.up()
    assert again.returncode == 0, again
    live = sim_direct(sim)
    assert all(d in live and live[d]["pending_cancellation_date"] is None for d in many)
    final = ws.preview("--json", "--expect-no-changes", policy_pack=None)
    assert steps(final) == {}
    exported = json.loads(ws.run("stack", "export").stdout)
    records = [r for r in exported["deployment"]["resources"] if r["type"] == SEATS]
    assert len(records) == 1 and records[0]["outputs"]["managed_users"] == sorted(many)  # nothing lost or doubled


def test_last_activity_is_remembered_after_github_stops_reporting_it(
        ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    assert ws.up().returncode == 0
    alice = sim.state.org("acme").seats["alice"]
    seen = alice.last_activity_at
    assert seen is not None
    alice.last_activity_at = None  # 90 days later GitHub reports null
    again, writes = writes_during(sim, lambda: ws.preview("--json", "--expect-no-changes", policy_pack=None))
    assert steps(again) == {} and writes == 0  # an observation change is not a change
    assert ws.up().returncode == 0
    exported = json.loads(ws.run("stack", "export").stdout)
    inputs = next(r["inputs"] for r in exported["deployment"]["resources"] if r["type"] == SEATS)
    observed = inputs["observed_users"]
    assert observed["last_activity_at"][observed["logins"].index("alice")] is None  # GitHub's null
    assert inputs["remembered"]["alice"] == seen.isoformat().replace("+00:00", "Z")
