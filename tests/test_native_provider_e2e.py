"""The native ``copilot`` provider on the real engine: batched writes, import, upgrade, credentials.

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
    OLD_PROGRAM,
    ROSTER,
    SEAT,
    TEAM,
    active_logins,
    assert_converged,
    fixture_org,
    old_package,
    revoked_logins,
    seats_yaml,
    steps,
    workspace,
    writes_during,
)
from engine import REPO, PulumiWorkspace

from copilot_seats import defaults

pytestmark = pytest.mark.engine
Sim = Callable[..., RunningSimulator]

DYNAMIC_MAIN = "5c85c04"
"""The last commit whose resources were Python dynamic resources."""


def _posts(writes: list[Any], endpoint: str = "selected_users") -> list[Any]:
    return [w for w in writes if w.method == "POST" and w.path.endswith(endpoint)]


def _deletes(writes: list[Any], endpoint: str = "selected_users") -> list[Any]:
    return [w for w in writes if w.method == "DELETE" and w.path.endswith(endpoint)]


def _resources(ws: PulumiWorkspace) -> list[dict[str, Any]]:
    exported = ws.run("stack", "export")
    assert exported.returncode == 0, exported
    return list(json.loads(exported.stdout)["deployment"].get("resources") or [])


def _dynamic_stack(tmp_path: Path, sim: RunningSimulator, text: str) -> PulumiWorkspace:
    """A stack created and applied by the dynamic-provider version, then switched to this one."""
    old = old_package(tmp_path / "old", DYNAMIC_MAIN)
    ws = workspace(tmp_path / "ws", sim, text, PYTHONPATH=str(old))
    (ws.project / "__main__.py").write_text(OLD_PROGRAM)
    first = ws.up()
    assert first.returncode == 0, first
    assert any(r["type"] == "pulumi-python:dynamic/copilot:Seat" for r in _resources(ws))
    ws.env.pop("PYTHONPATH")
    shutil.copy(REPO / "__main__.py", ws.project / "__main__.py")
    return ws


@pytest.mark.parametrize("mode", ["additive", "authoritative"])
def test_a_dynamic_provider_stack_moves_to_the_native_provider_without_a_write(
        tmp_path: Path, make_simulator: Sim, mode: str) -> None:
    sim = make_simulator(fixture_org(users=4, team_members=3, extra_members=["bob", "carl"],
                                     seats=[{"login": "bob"}, {"login": "carl", "pending_cancellation": True}]))
    text = seats_yaml(["User00", "user01", "user02"], ["big"], mode=mode)
    ws = _dynamic_stack(tmp_path, sim, text)
    held_before = active_logins(sim)

    preview, writes = writes_during(sim, lambda: ws.preview("--json", policy_pack=None))
    assert preview.returncode == 0, preview
    assert writes == []
    planned = steps(preview)
    assert not [k for k, op in planned.items() if op in ("delete", "replace", "create")], planned
    readable = ws.preview(policy_pack=None)
    assert readable.returncode == 0, readable
    assert "replace" not in readable.output and "delete" not in readable.output, readable.output

    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert writes == []
    assert active_logins(sim) == held_before
    assert_converged(ws)
    after = _resources(ws)
    types = {r["type"] for r in after}
    assert "pulumi:providers:copilot" in types
    assert not [t for t in types if "pulumi-python" in t], types
    assert sorted(r["urn"].split("::")[-1] for r in after if r["type"] == SEAT) == ["user00", "user01", "user02"]
    assert [r["urn"].split("::")[-1] for r in after if r["type"] == TEAM] == ["big"]

    ws.write_seats(seats_yaml(["User00", "user01", "user02", "user03"], ["big"], mode=mode))
    grant, writes = writes_during(sim, ws.up)
    assert grant.returncode == 0, grant
    assert [w.body["selected_usernames"] for w in _posts(writes)] == [["user03"]]


def test_an_entry_removed_in_the_upgrading_edit_is_revoked_and_nothing_else(
        tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=4))
    ws = _dynamic_stack(tmp_path, sim, seats_yaml(["user00", "user01", "user02"]))
    ws.write_seats(seats_yaml(["user00", "user01"]))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert revoked_logins(writes) == ["user02"]
    assert _posts(writes) == []
    assert active_logins(sim) == {"user00", "user01"}
    assert_converged(ws)


@pytest.mark.parametrize("final_only", [True, False], ids=["final-only-checkpoints", "per-step-checkpoints"])
def test_bulk_grants_revocations_and_destroy_are_batched(tmp_path: Path, make_simulator: Sim, final_only: bool) -> None:
    """With final-only checkpoints (the apply workflow's) K names cost ceil(K/100) + 2 requests at
    most. With per-step checkpoints the engine writes the state between steps, so calls arrive
    spread out: still batched, still exactly the right names."""
    logins = [f"user{i:03d}" for i in range(250)]
    sim = make_simulator(fixture_org(extra_members=logins))
    engine_env = defaults.FINAL_ONLY_CHECKPOINTS if final_only else {}
    ws = workspace(tmp_path, sim, seats_yaml(logins), COPILOT_SEATS_ALLOW_MASS_REMOVAL="1", **engine_env)

    def budget(k: int) -> int:
        return math.ceil(k / 100) + 2 if final_only else k - 1

    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    posts = _posts(writes)
    assert len(posts) <= budget(250), [len(p.body["selected_usernames"]) for p in posts]
    assert all(len(p.body["selected_usernames"]) <= 100 for p in posts)
    assert sorted(n for p in posts for n in p.body["selected_usernames"]) == logins
    assert active_logins(sim) == set(logins)

    ws.write_seats(seats_yaml(logins[:100]))
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    deletes = _deletes(writes)
    assert len(deletes) <= budget(150), [len(d.body["selected_usernames"]) for d in deletes]
    assert sorted(revoked_logins(writes)) == logins[100:]
    assert active_logins(sim) == set(logins[:100])

    down, writes = writes_during(sim, lambda: ws.run("destroy", "--yes", "--skip-preview"))
    assert down.returncode == 0, down
    assert len(_deletes(writes)) <= budget(100)
    assert sorted(revoked_logins(writes)) == logins[:100]
    assert active_logins(sim) == set()


def test_preview_never_writes_even_with_grants_and_revocations_planned(tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=3, extra_members=["bob"], seats=[{"login": "bob"}]))
    ws = workspace(tmp_path, sim, seats_yaml(["user00", "user01"], mode="authoritative"))
    preview, writes = writes_during(sim, lambda: ws.preview("--json"))
    assert preview.returncode == 0, preview
    assert writes == []
    planned = steps(preview)
    assert planned[(SEAT, "user00")] == "create" and planned[(ROSTER, "roster")] == "create"


def test_pulumi_import_adopts_a_held_seat_and_the_next_up_writes_nothing(
        tmp_path: Path, make_simulator: Sim) -> None:
    sim = make_simulator(fixture_org(users=3, seats=[{"login": "user01"}]))
    ws = workspace(tmp_path, sim, seats_yaml(["user00"]))
    assert ws.up().returncode == 0
    provider = next(r["urn"] for r in _resources(ws) if r["type"] == "pulumi:providers:copilot")
    imported = ws.run("import", SEAT, "user01", "acme/user01", "--provider", f"copilot={provider}",
                      "--yes", "--skip-preview", "--generate-code=false")
    assert imported.returncode == 0, imported
    seat = next(r for r in _resources(ws) if r["type"] == SEAT and r["urn"].endswith("::user01"))
    assert seat["id"] == "acme/user01" and seat["outputs"]["granted_directly"] is True

    missing = ws.run("import", SEAT, "user02", "acme/user02", "--provider", f"copilot={provider}",
                     "--yes", "--skip-preview", "--generate-code=false")
    assert missing.returncode != 0
    assert "user02" in missing.output

    ws.write_seats(seats_yaml(["user00", "user01"]))
    preview = ws.preview("--json", policy_pack=None)
    assert steps(preview).get((SEAT, "user01")) in (None, "update"), steps(preview)
    up, writes = writes_during(sim, ws.up)
    assert up.returncode == 0, up
    assert _posts(writes) == [] and _deletes(writes) == []
    assert_converged(ws)


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
        assert shown.returncode == 0 and "copilot:index:Seat" in shown.stdout
        assert sim.token not in shown.stdout
        provider = next(r for r in _resources(ws) if r["type"] == "pulumi:providers:copilot")
        assert "token" not in provider.get("inputs", {}) and "token" not in provider.get("outputs", {})
    down, writes = writes_during(sim, lambda: cfg_ws.run("destroy", "--yes", "--skip-preview"))
    assert down.returncode == 0, down  # no program, no token in state: the provider reads github:token itself
    assert revoked_logins(writes) == ["user01"]
    assert sim.token not in down.output
