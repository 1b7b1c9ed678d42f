"""What differs between the engine lanes, pinned on each: stack config and the token in state,
the migration from the default dynamic provider, and the output layouts the test helpers read.

Runs on both lanes (scripts/test.sh). The current lane's engine (v3.274.1) hands a *default*
provider the stack config and records it in state; the program registers one explicit
``copilot`` provider whose inputs are only ``baseUrl`` and ``stack``
(copilot_seats/stack/resources.py), so on either lane no token and no config value reaches the
state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningSimulator
from engine import PulumiResult, PulumiWorkspace, policy_violations, preview_steps, seat_changes

pytestmark = pytest.mark.engine

SEATS = "organization: acme\nsettings:\n  mode: additive\nusers:\n  Alice: {owner: platform}\n  frank: {}\nteams: {}\n"
PROVIDER_TYPE = "pulumi:providers:copilot"
OTHER_SECRET = "unrelated-secret-value-4711"  # a secret of another namespace: no business in state either


@pytest.fixture
def sim(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator()


def workspace(tmp_path: Path, sim: RunningSimulator) -> PulumiWorkspace:
    """A stack whose only credentials are stack config secrets (GITHUB_TOKEN is empty)."""
    env = {"GITHUB_API_URL": sim.base_url, "COPILOT_SEATS_WRITE_SPACING": "0", "GITHUB_TOKEN": ""}
    ws = PulumiWorkspace(tmp_path, SEATS, extra_env=env)
    ws.init_stack(secrets={"github:token": sim.token, "other:apiKey": OTHER_SECRET})
    return ws


def exported(ws: PulumiWorkspace) -> tuple[str, list[dict[str, Any]]]:
    result = ws.run("stack", "export", "--show-secrets")
    assert result.returncode == 0, result
    return result.stdout, json.loads(result.stdout)["deployment"]["resources"]


def assert_no_secret_in_state(ws: PulumiWorkspace, sim: RunningSimulator) -> None:
    text, _ = exported(ws)
    assert sim.token not in text and OTHER_SECRET not in text
    for path in (ws.root / "backend").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert sim.token.encode() not in data and OTHER_SECRET.encode() not in data, path


def test_stack_config_secrets_never_reach_state(tmp_path: Path, sim: RunningSimulator) -> None:
    ws = workspace(tmp_path, sim)
    up = ws.up()
    assert up.returncode == 0, up
    assert "frank" in {s["assignee"]["login"] for s in sim.client().list_seats("acme") if s.get("assignee")}
    _, resources = exported(ws)
    providers = [r for r in resources if r["type"] == PROVIDER_TYPE]
    assert [p["urn"].rsplit("::", 1)[-1] for p in providers] == ["copilot-seats"]
    assert set(providers[0].get("inputs", {})) <= {"baseUrl", "stack", "version"}  # no config, no token
    seats = [r for r in resources if r["type"] == "copilot:index:Seats"]
    assert len(seats) == 1 and seats[0]["provider"].startswith(providers[0]["urn"] + "::")
    assert_no_secret_in_state(ws, sim)


def test_refresh_preview_lists_only_real_changes_on_both_layouts(tmp_path: Path, sim: RunningSimulator) -> None:
    """`preview --json --refresh` lists `refresh` steps besides the changes they lead to: the helper
    reports the changes (here: frank revoked behind Pulumi's back) and nothing else, on both lanes."""
    ws = workspace(tmp_path, sim)
    assert ws.up().returncode == 0
    sim.client().remove_users("acme", ["frank"])
    result = ws.preview("--json", "--refresh", policy_pack=None)
    assert preview_steps(result) == {("copilot:index:Seats", "seats"): "update"}
    assert seat_changes(result) == {"user frank": "grant"}
    raw = [(step["urn"].rsplit("::", 1)[-1], step["op"]) for step in json.loads(result.stdout)["steps"]]
    assert ("seats", "update") in raw


def test_policy_violations_are_read_from_either_layout(tmp_path: Path, sim: RunningSimulator) -> None:
    ws = workspace(tmp_path, sim)
    result: PulumiResult = ws.preview()
    assert result.returncode == 0, result
    found = {(v["policy"], v["type"], v["name"]) for v in policy_violations(result)}
    assert ("missing-seat", "copilot:index:Seats", "seats") in found  # declared, no seat
    assert any("frank: missing" in v["message"] for v in policy_violations(result) if v["policy"] == "missing-seat")
    # bob's seat (never used, 200 days) is not declared: unmanaged
    assert any("bob" in v["message"] for v in policy_violations(result) if v["policy"] == "unmanaged-seat")
    assert all(v["level"] in ("advisory", "mandatory") and v["message"] for v in policy_violations(result))
