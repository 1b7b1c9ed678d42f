"""The ``copilot:index:Seats`` resource on the real engine: batched writes, the guard on every path
that can revoke, import, the upgrade from 0.1's per-seat resources, credentials.

Each test asserts what GitHub (the simulator) received, not what the tool printed: how many
write requests, carrying which names.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningSimulator
from e2e_helpers import (
    active_logins,
    assert_converged,
    changes,
    fixture_org,
    old_package,
    revoked_logins,
    seats_yaml,
    steps,
    workspace,
    writes_during,
)
from engine import REPO, PulumiWorkspace

pytestmark = pytest.mark.engine
Sim = Callable[..., RunningSimulator]

SEATS = "copilot:index:Seats"
PER_SEAT_MAIN = "f897f88"
"""The last commit of 0.1's per-seat model (copilot:index:Seat, TeamGrant, Organization, Roster)."""
LEGACY = {"copilot:index:Seat", "copilot:index:TeamGrant", "copilot:index:Organization", "copilot:index:Roster"}


def _posts(writes: list[Any], endpoint: str = "selected_users") -> list[Any]:
    return [w for w in writes if w.method == "POST" and w.path.endswith(endpoint)]


def _deletes(writes: list[Any], endpoint: str = "selected_users") -> list[Any]:
    return [w for w in writes if w.method == "DELETE" and w.path.endswith(endpoint)]


def _resources(ws: PulumiWorkspace) -> list[dict[str, Any]]:
    exported = ws.run("stack", "export")
    assert exported.returncode == 0, exported
    return list(json.loads(exported.stdout)["deployment"].get("resources") or [])


def _urn(ws: PulumiWorkspace, rtype: str) -> str:
    return next(r["urn"] for r in _resources(ws) if r["type"] == rtype)


# -- the upgrade from 0.1 --------------------------------------------------------------------------

def _per_seat_stack(tmp_path: Path, sim: RunningSimulator, text: str, **env: str) -> PulumiWorkspace:
    """A stack created and applied by 0.1 (one resource per seat), then switched to this version."""
    old = old_package(tmp_path / "old", PER_SEAT_MAIN)
    ws = workspace(tmp_path / "ws", sim, text, PYTHONPATH=str(old), **env)
    first = ws.up()
    assert first.returncode == 0, first
    assert any(r["type"] == "copilot:index:Seat" for r in _resources(ws))
    ws.env.pop("PYTHONPATH")
    shutil.copy(REPO / "__main__.py", ws.project / "__main__.py")
    return ws


@pytest.mark.parametrize("mode", ["additive", "authoritative"])
def test_a_per_seat_stack_moves_to_one_seats_resource_without_a_write(
        tmp_path: Path, make_simulator: Sim, mode: str) -> None:
    sim = make_simulator(fixture_org(users=4, team_members=3, extra_members=["bob", "carl"],
                                     seats=[{"login": "bob"}, {"login": "carl", "pending_cancellation": True}]))
    text = seats_yaml(["User00", "user01", "user02"], ["big"], mode=mode)
    ws = _per_seat_stack(tmp_path, sim, text, COPILOT_SEATS_ALLOW_MASS_REMOVAL="1")
    ws.env.pop("COPILOT_SEATS_ALLOW_MASS_REMOVAL")
    held_before = active_logins(sim)

    preview, writes = writes_during(sim, lambda: ws.preview("--json", policy_pack=None))
    assert writes == []
    planned = steps(preview)
    assert planned.pop((SEATS, "seats")) == "update"  # the Roster, aliased: the guard keeps its memory
    assert {op for op in planned.values()} == {"delete"} and {t for t, _ in planned} <= LEGACY, planned
    assert {c for c, op in changes(preview).items() if op not in ("adopt",)} == set()  # nothing granted/revoked

    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert writes == []
    assert active_logins(sim) == held_before
    assert_converged(ws)
    assert sorted(r["type"] for r in _resources(ws)) == ["copilot:index:Seats", "pulumi:providers:copilot",
                                                         "pulumi:pulumi:Stack"]
    ws.write_seats(seats_yaml(["User00", "user01", "user02", "user03"], ["big"], mode=mode))
    grant, writes = writes_during(sim, ws.up)
    assert grant.returncode == 0, grant
    assert [w.body["selected_usernames"] for w in _posts(writes)] == [["user03"]]


def test_an_entry_removed_in_the_upgrading_edit_is_revoked_exactly_under_the_guard(
        tmp_path: Path, make_simulator: Sim) -> None:
    users = [f"user{i:02d}" for i in range(30)]
    sim = make_simulator(fixture_org(users=30))
    ws = _per_seat_stack(tmp_path, sim, seats_yaml(users))
    ws.write_seats(seats_yaml(users[:10]))  # 20 removed, limit 10
    refused, writes = writes_during(sim, ws.up)
    assert refused.returncode != 0 and "refusing to revoke 20 Copilot seats" in refused.output, refused
    assert writes == []
    ws.write_seats(seats_yaml(users[:-1]))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert revoked_logins(writes) == ["user29"] and _posts(writes) == []
    assert active_logins(sim) == set(users[:-1])
    assert_converged(ws)


def test_destroying_a_stack_never_upgraded_is_refused_before_any_revocation(
        tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=3))
    ws = _per_seat_stack(tmp_path, sim, seats_yaml(["user00", "user01"]))
    down, writes = writes_during(sim, lambda: ws.run("destroy", "--yes", env={"COPILOT_SEATS_ALLOW_MASS_REMOVAL": "1"}))
    assert down.returncode != 0 and "Run `pulumi up` once" in down.output, down
    assert writes == []


# -- batching ----------------------------------------------------------------------------------------

def test_bulk_grants_revocations_and_destroy_are_batched(tmp_path: Path, make_simulator: Sim) -> None:
    """Plain ``up`` with the engine's default per-step checkpoints: K names in ceil(K/100) requests."""
    logins = [f"user{i:03d}" for i in range(250)]
    sim = make_simulator(fixture_org(extra_members=logins))
    ws = workspace(tmp_path, sim, seats_yaml(logins), COPILOT_SEATS_ALLOW_MASS_REMOVAL="1")

    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert [len(p.body["selected_usernames"]) for p in _posts(writes)] == [100, 100, 50]
    assert sorted(n for p in _posts(writes) for n in p.body["selected_usernames"]) == logins
    assert active_logins(sim) == set(logins)

    ws.write_seats(seats_yaml(logins[:100]))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert len(_deletes(writes)) == math.ceil(150 / 100)
    assert sorted(revoked_logins(writes)) == logins[100:]
    assert active_logins(sim) == set(logins[:100])

    down, writes = writes_during(sim, lambda: ws.run("destroy", "--yes"))
    assert down.returncode == 0, down
    assert len(_deletes(writes)) == 1
    assert sorted(revoked_logins(writes)) == logins[:100]
    assert active_logins(sim) == set()


def test_preview_never_writes_even_with_grants_and_revocations_planned(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=3, extra_members=["bob"], seats=[{"login": "bob"}]))
    ws = workspace(tmp_path, sim, seats_yaml(["user00", "user01"], mode="authoritative"))
    preview, writes = writes_during(sim, lambda: ws.preview("--json"))
    assert writes == []
    assert changes(preview) == {"user user00": "grant", "user user01": "grant", "user bob": "revoke"}


# -- the guard on every path that can revoke ---------------------------------------------------------

USERS = [f"user{i:02d}" for i in range(30)]


@pytest.fixture
def guarded(tmp_path: Path, make_simulator: Sim) -> tuple[PulumiWorkspace, RunningSimulator]:
    """30 seats applied, then 15 removed from seats.yaml (the guard's limit is 10)."""
    sim = make_simulator(fixture_org(users=30))
    ws = workspace(tmp_path, sim, seats_yaml(USERS))
    assert ws.up().returncode == 0
    ws.write_seats(seats_yaml(USERS[:15]))
    return ws, sim


@pytest.mark.parametrize("path", [
    ("up", "--yes"),
    ("up", "--yes", "--skip-preview"),
    ("up", "--yes", "--refresh"),
    ("up", "--yes", "--target", "<seats>"),
    ("up", "--yes", "--target", "<seats>", "--target-dependents"),
    ("up", "--yes", "--replace", "<seats>"),
    ("destroy", "--yes"),
    ("destroy", "--yes", "--target", "<seats>"),
], ids=["up", "skip-preview", "refresh", "target", "target-dependents", "replace", "destroy", "destroy-target"])
def test_no_path_revokes_past_the_guard(guarded: tuple[PulumiWorkspace, RunningSimulator],
                                        path: tuple[str, ...]) -> None:
    ws, sim = guarded
    urn = _urn(ws, SEATS)
    result, writes = writes_during(sim, lambda: ws.run(*[urn if a == "<seats>" else a for a in path]))
    assert result.returncode != 0 and "refusing to revoke" in result.output, result
    assert _deletes(writes) == [] and _deletes(writes, "selected_teams") == []
    assert active_logins(sim) == set(USERS)


def test_targeting_only_the_provider_revokes_nothing(guarded: tuple[PulumiWorkspace, RunningSimulator]) -> None:
    ws, sim = guarded
    result, writes = writes_during(sim, lambda: ws.run("up", "--yes", "--target", _urn(ws, "pulumi:providers:copilot")))
    assert result.returncode == 0, result
    assert writes == []


def test_a_state_edit_that_drops_the_record_forgets_instead_of_revoking(
        guarded: tuple[PulumiWorkspace, RunningSimulator]) -> None:
    ws, sim = guarded
    dropped = ws.run("state", "delete", _urn(ws, SEATS), "--yes")
    assert dropped.returncode == 0, dropped
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert _deletes(writes) == []  # no last applied record: additive mode revokes nothing
    assert active_logins(sim) == set(USERS)


def test_allowed_explicitly_exactly_the_removed_seats_are_revoked(
        guarded: tuple[PulumiWorkspace, RunningSimulator]) -> None:
    ws, sim = guarded
    up, writes = writes_during(sim, lambda: ws.run("up", "--yes", env={"COPILOT_SEATS_ALLOW_MASS_REMOVAL": "1"}))
    assert up.returncode == 0, up
    assert sorted(revoked_logins(writes)) == USERS[15:] and len(_deletes(writes)) == 1
    outputs = json.loads(ws.run("stack", "output", "--json").stdout)
    assert outputs["seatsRevokedByThisRun"] == 15
    assert_converged(ws)


# -- import ------------------------------------------------------------------------------------------

def test_pulumi_import_adopts_the_org_in_one_command_and_unprotected_it_is_still_guarded(
        tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=30, seats=[{"login": u} for u in USERS]))
    ws = workspace(tmp_path, sim, seats_yaml(USERS[:15]))
    provider = ws.run("up", "--yes", "--target",
                      "urn:pulumi:test::copilot-seats::pulumi:providers:copilot::copilot-seats")
    assert provider.returncode == 0, provider
    imported, writes = writes_during(sim, lambda: ws.run(
        "import", SEATS, "seats", "acme", "--provider", f"copilot={_urn(ws, 'pulumi:providers:copilot')}",
        "--yes", "--generate-code=false"))
    assert imported.returncode == 0, imported
    assert writes == []
    record = next(r for r in _resources(ws) if r["type"] == SEATS)
    assert record["id"] == "acme" and sorted(record["outputs"]["managed_users"]) == USERS
    assert ws.run("state", "unprotect", record["urn"], "--yes").returncode == 0
    refused, writes = writes_during(sim, ws.up)
    assert refused.returncode != 0 and "refusing to revoke 15" in refused.output, refused
    assert writes == []
    ws.write_seats(seats_yaml(USERS))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert writes == []  # adopted: nothing to grant or revoke
    assert_converged(ws)


# -- credentials ---------------------------------------------------------------------------------------

def test_the_token_never_reaches_the_state_from_the_environment_or_the_stack_config(
        tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=2))
    env_ws = workspace(tmp_path / "env", sim, seats_yaml(["user00"]))
    assert env_ws.up().returncode == 0
    cfg_ws = workspace(tmp_path / "cfg", sim, seats_yaml(["user01"]), GITHUB_TOKEN="")
    assert cfg_ws.run("config", "set", "--secret", "github:token", sim.token).returncode == 0
    up, writes = writes_during(sim, cfg_ws.up)
    assert up.returncode == 0, up
    assert [w.body["selected_usernames"] for w in _posts(writes)] == [["user01"]]
    for ws in (env_ws, cfg_ws):
        shown = ws.run("stack", "export", "--show-secrets")
        assert shown.returncode == 0 and SEATS in shown.stdout
        assert sim.token not in shown.stdout
        provider = next(r for r in _resources(ws) if r["type"] == "pulumi:providers:copilot")
        assert "token" not in provider.get("inputs", {}) and "token" not in provider.get("outputs", {})
    down, writes = writes_during(sim, lambda: cfg_ws.run("destroy", "--yes"))
    assert down.returncode == 0, down  # no program, no token in state: the provider reads github:token itself
    assert revoked_logins(writes) == ["user01"]
    assert sim.token not in down.output


# -- writes verified, not assumed -------------------------------------------------------------------

def test_a_batch_github_refuses_as_a_whole_is_never_counted_done_and_the_next_up_finishes(
        tmp_path: Path, make_simulator: Sim) -> None:
    """Authoritative mode, 150 seats to revoke: the second batch (50 logins) is answered 404 and
    not applied. The up fails naming what GitHub does not show done, records nothing as applied,
    and the next up revokes the rest."""
    outside = [f"out{i:03d}" for i in range(150)]
    sim = make_simulator(fixture_org(users=1, extra_members=outside,
                                     seats=[{"login": "user00"}, *({"login": o} for o in outside)]))
    ws = workspace(tmp_path, sim, seats_yaml(["user00"], mode="authoritative"),
                   COPILOT_SEATS_ALLOW_MASS_REMOVAL="1")
    sim.state.inject(status=0, method="DELETE", path="selected_users", times=1)  # the first batch goes through
    sim.state.inject(status=404, method="DELETE", path="selected_users", times=1)  # the second: 404, not applied
    up, writes = writes_during(sim, ws.up)
    assert up.returncode != 0, up
    assert "GitHub does not show 50 write(s) of this run as done" in up.output, up
    assert len(active_logins(sim) & set(outside)) == 50
    outputs = json.loads(ws.run("stack", "output", "--json").stdout or "{}")
    assert outputs.get("seatsRevokedByThisRun") != 150
    again, writes = writes_during(sim, ws.up)
    assert again.returncode == 0, again
    assert len(revoked_logins(writes)) == 50
    assert active_logins(sim) == {"user00"}
    assert_converged(ws)
