"""End to end on the real engine: no ordinary edit loses a seat, one `up` converges, the guard
cannot be walked around (issue 10). Every test asserts on the simulator's request log."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import RunningSimulator
from e2e_helpers import (
    active_logins,
    assert_converged,
    changes,
    fixture_org,
    revoked_logins,
    revoked_teams,
    seats_yaml,
    steps,
    workspace,
    writes_during,
)
from engine import REPO

pytestmark = pytest.mark.engine

USERS = [f"user{i:02d}" for i in range(15)]
Sim = Callable[..., RunningSimulator]


def test_case_only_edit_revokes_nothing(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=15))
    ws = workspace(tmp_path, sim, seats_yaml(USERS, org="acme"))
    assert ws.up().returncode == 0
    ws.write_seats(seats_yaml([u.capitalize() for u in USERS], org="ACME"))  # what import --force writes
    preview = ws.preview("--json", policy_pack=None)
    assert steps(preview) == {}
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert writes == []
    assert active_logins(sim) == set(USERS)
    assert_converged(ws)


def test_org_case_change_does_not_reset_the_guard(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=30))
    users = [f"user{i:02d}" for i in range(30)]
    ws = workspace(tmp_path, sim, seats_yaml(users))
    assert ws.up().returncode == 0
    ws.write_seats(seats_yaml(users[:5], org="Acme"))  # case change + truncation in one edit
    preview = ws.preview(policy_pack=None)
    up, writes = writes_during(sim, ws.up)
    assert preview.returncode != 0 and "refusing to revoke 25 Copilot seats" in preview.output, preview
    assert up.returncode != 0 and "refusing to revoke 25" in up.output
    assert writes == []
    assert active_logins(sim) == set(users)


def test_switching_the_org_is_refused_unless_allowed_and_never_revokes_the_old_one(
        tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=15, second_org=True))
    ws = workspace(tmp_path, sim, seats_yaml(USERS))
    assert ws.up().returncode == 0
    ws.write_seats(seats_yaml(USERS, org="acme-two"))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode != 0 and "refusing to change the managed organization" in up.output, up
    assert writes == []
    allowed, writes = writes_during(sim, lambda: ws.run("up", "--yes",
                                                        env={"COPILOT_SEATS_ALLOW_ORGANIZATION_CHANGE": "1"}))
    assert allowed.returncode == 0, allowed
    assert revoked_logins(writes) == [] and revoked_teams(writes) == []
    assert active_logins(sim, "acme") == set(USERS)  # nothing revoked in the old org
    assert active_logins(sim, "acme-two") == set(USERS)
    assert_converged(ws)


def test_a_team_seated_by_the_last_run_counts_in_full_when_dropped(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=3, team_members=50))
    ws = workspace(tmp_path, sim, seats_yaml(USERS[:3], ["big"]))
    assert ws.up().returncode == 0
    assert len(active_logins(sim)) == 53
    ws.write_seats(seats_yaml(USERS[:3]))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode != 0 and "refusing to revoke 50 Copilot seats" in up.output, up
    assert writes == []


def test_padding_the_file_does_not_raise_the_limit(tmp_path: Path, make_simulator: Sim) -> None:
    users = [f"user{i:02d}" for i in range(60)]
    sim = make_simulator(fixture_org(users=60, team_members=0,
                                     extra_members=[f"new{i:03d}" for i in range(400)]))
    ws = workspace(tmp_path, sim, seats_yaml(users))
    assert ws.up().returncode == 0
    ws.write_seats(seats_yaml(users[:20] + [f"new{i:03d}" for i in range(400)]))  # -40, +400
    up, writes = writes_during(sim, ws.up)
    assert up.returncode != 0 and "refusing to revoke 40 Copilot seats" in up.output, up
    assert "limit 10" in up.output
    assert revoked_logins(writes) == []


@pytest.mark.parametrize(("setting", "value"), [("maxRemovalCount", "ten"), ("maxRemovalFraction", "1.5"),
                                              ("graceDays", "2.5"), ("onDelete", "keep")])
def test_a_bad_setting_is_an_error_naming_the_key(
        tmp_path: Path, make_simulator: Sim, setting: str, value: str) -> None:
    sim = make_simulator(fixture_org(users=3))
    ws = workspace(tmp_path, sim, seats_yaml(USERS[:3]))
    assert ws.run("config", "set", f"copilot-seats:{setting}", value).returncode == 0
    before = len(sim.requests)
    result = ws.preview(policy_pack=None)
    assert result.returncode != 0 and f"copilot-seats:{setting}" in result.output, result
    assert "Traceback" not in result.output
    assert len(sim.requests) == before


def test_zero_means_zero(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=3, seats=[{"login": "user00", "created_at": {"days_ago": 1},
                                                       "last_activity_at": None}]))
    ws = workspace(tmp_path, sim, seats_yaml(USERS[:3]))
    for key in ("maxRemovalCount", "maxRemovalFraction", "graceDays"):
        assert ws.run("config", "set", f"copilot-seats:{key}", "0").returncode == 0
    assert ws.up().returncode == 0
    outputs = json.loads(ws.run("stack", "output", "--json").stdout)
    assert outputs["staleSeats"] == 1  # granted a day ago, never used, grace 0 days
    ws.write_seats(seats_yaml(USERS[:2]))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode != 0 and "refusing to revoke 1 Copilot seat " in up.output and "(limit 0" in up.output
    assert writes == []


def test_plain_up_repairs_a_declared_team_whose_grant_was_revoked_by_hand(
        tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=2, team_members=5))
    ws = workspace(tmp_path, sim, seats_yaml(USERS[:2], ["big"]))
    assert ws.up().returncode == 0
    sim.client().remove_teams("acme", ["big"])
    sim.client().remove_users("acme", ["user01"])
    preview = ws.preview("--json", policy_pack=None)
    assert changes(preview) == {"team big": "grant", "user user01": "grant"}
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert len(writes) == 2
    assert active_logins(sim) == {"user00", "user01"} | {f"m{i:02d}" for i in range(5)}
    assert_converged(ws)


def test_authoritative_revokes_a_seat_granted_again_by_hand(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=3, extra_members=["bob"], seats=[{"login": "bob"}]))
    ws = workspace(tmp_path, sim, seats_yaml(USERS[:3], mode="authoritative"))
    ws.run("config", "set", "copilot-seats:maxRemovalCount", "5")
    assert ws.up().returncode == 0
    assert "bob" not in active_logins(sim)
    assert_converged(ws)  # the pending revocation leaves nothing to do
    sim.client().add_users("acme", ["bob"])  # someone re-grants it by hand
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert revoked_logins(writes) == ["bob"]
    assert_converged(ws)
    sim.state.end_billing_cycle()  # the seat leaves the listing: still nothing to do
    assert_converged(ws)


def test_authoritative_revokes_a_direct_and_an_undeclared_team_grant_in_one_up(
        tmp_path: Path, make_simulator: Sim) -> None:
    fixture = fixture_org(users=3, team_members=1, seats=[{"login": "m00", "direct": True, "teams": ["big"]}])
    sim = make_simulator(fixture)
    ws = workspace(tmp_path, sim, seats_yaml(USERS[:3], mode="authoritative"))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert "m00" not in active_logins(sim)
    assert revoked_logins(writes) == ["m00"] and revoked_teams(writes) == ["big"]
    assert_converged(ws)


def test_moving_a_user_from_a_direct_grant_to_a_declared_team_never_loops(
        tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=2, team_members=2))
    for mode in ("additive", "authoritative"):
        case = tmp_path / mode
        case.mkdir()
        ws = workspace(case, sim, seats_yaml([*USERS[:2], "m00"], mode=mode))
        assert ws.up().returncode == 0
        ws.write_seats(seats_yaml(USERS[:2], ["big"], mode=mode))
        up, writes = writes_during(sim, ws.up)
        assert up.returncode == 0, up
        assert revoked_logins(writes).count("m00") <= 1
        assert revoked_teams(writes) == []
        assert {"m00", "m01"} <= active_logins(sim)  # seated through the team
        again, writes = writes_during(sim, ws.up)
        assert again.returncode == 0, again
        assert writes == []
        assert_converged(ws)
        ws.write_seats(seats_yaml([*USERS[:2], "m00"], mode=mode))  # and back: team dropped, m00 direct
        ws.run("config", "set", "copilot-seats:maxRemovalCount", "5")
        back, writes = writes_during(sim, ws.up)
        assert back.returncode == 0, back
        assert "m00" in active_logins(sim)
        assert_converged(ws)
        assert ws.run("destroy", "--yes", env={"COPILOT_SEATS_ON_DELETE": "forget"}).returncode == 0


def test_destroy_is_guarded_and_forget_stops_managing_without_a_write(tmp_path: Path, make_simulator: Sim) -> None:
    users = [f"user{i:02d}" for i in range(30)]
    sim = make_simulator(fixture_org(users=30, team_members=5))
    ws = workspace(tmp_path, sim, seats_yaml(users, ["big"]))
    assert ws.up().returncode == 0
    refused, writes = writes_during(sim, lambda: ws.run("destroy", "--yes"))
    assert refused.returncode != 0 and "refusing to revoke 35 Copilot seats in one destroy" in refused.output
    assert writes == []
    assert ws.run("config", "set", "copilot-seats:onDelete", "forget").returncode == 0
    forgot, writes = writes_during(sim, lambda: ws.run("destroy", "--yes"))
    assert forgot.returncode == 0, forgot
    assert writes == []
    assert len(active_logins(sim)) == 35
    exported = json.loads(ws.run("stack", "export").stdout)
    assert [r for r in exported["deployment"].get("resources") or [] if r["type"] != "pulumi:pulumi:Stack"] == []


def test_destroy_allowed_explicitly_revokes_what_the_stack_manages(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=12, extra_members=["bob"], seats=[{"login": "bob"}]))
    users = [f"user{i:02d}" for i in range(12)]
    ws = workspace(tmp_path, sim, seats_yaml(users))
    assert ws.up().returncode == 0
    done, writes = writes_during(sim, lambda: ws.run("destroy", "--yes",
                                                     env={"COPILOT_SEATS_ALLOW_MASS_REMOVAL": "1"}))
    assert done.returncode == 0, done
    assert sorted(revoked_logins(writes)) == users
    assert active_logins(sim) == {"bob"}  # never managed


def test_report_and_pack_agree_on_leaving_seats(tmp_path: Path, make_simulator: Sim) -> None:
    fixture = fixture_org(users=2, team_members=2, seats=[
        {"login": "user00", "pending_cancellation": True},
        {"login": "m00", "teams": ["big"], "pending_cancellation": True},
        {"login": "m01", "teams": ["big"], "pending_cancellation": True},
    ])
    sim = make_simulator(fixture)
    text = seats_yaml(USERS[:2], ["big"])
    ws = workspace(tmp_path, sim, text)
    preview = ws.preview()
    assert preview.returncode == 0, preview
    assert "user00: leaving" in preview.output and "team big: leaving" in preview.output
    assert "user01: missing" in preview.output
    report = subprocess.run(
        [str(REPO / ".venv" / "bin" / "copilot-seats"), "report", "--org", "acme",
         "--seats", str(ws.project / "seats.yaml"), "--format", "json"],
        capture_output=True, text=True, env=ws.env, check=False)
    data = json.loads(report.stdout)
    assert data["leaving"] == ["user00", "m00", "m01"] or sorted(data["leaving"]) == ["m00", "m01", "user00"]
    assert data["missing"] == ["user01"] and data["leaving_teams"] == ["big"] and data["missing_teams"] == []


def test_outputs_tell_the_truth_after_removals(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=8, extra_members=["bob"], seats=[{"login": "bob"}]))
    users = [f"user{i:02d}" for i in range(8)]
    ws = workspace(tmp_path, sim, seats_yaml(users))
    assert ws.up().returncode == 0
    before = json.loads(ws.run("stack", "output", "--json").stdout)
    assert before["unmanagedSeats"] == 1 and before["seatsRevokedByThisRun"] == 0
    ws.write_seats(seats_yaml(users[:3]))
    preview = ws.preview()
    assert preview.returncode == 0, preview
    for login in users[3:]:
        assert f"{login}: holds a Copilot seat directly" not in preview.output  # shown as a delete step
    assert ws.up().returncode == 0
    after = json.loads(ws.run("stack", "output", "--json").stdout)
    assert after["seatsRevokedByThisRun"] == 5 and after["unmanagedSeats"] == 1  # bob only
    assert_converged(ws)
    settled = json.loads(ws.run("stack", "output", "--json").stdout)
    assert settled["seatsRevokedByThisRun"] == 5  # outputs of the last up, until the next one
