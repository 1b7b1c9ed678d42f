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
from e2e_helpers import old_package
from engine import PulumiResult, PulumiWorkspace, policy_violations, preview_steps

pytestmark = pytest.mark.engine

SEATS = "organization: acme\nsettings:\n  mode: additive\nusers:\n  Alice: {owner: platform}\n  frank: {}\nteams: {}\n"
PROVIDER_TYPE = "pulumi:providers:copilot"
LEGACY_PROVIDER_TYPE = "pulumi:providers:pulumi-python"
OTHER_SECRET = "unrelated-secret-value-4711"  # a secret of another namespace: no business in state either

# The program of the last dynamic-provider version as it was before its explicit provider:
# every resource on the default `pulumi-python` provider (run with that version's package).
DEFAULT_PROVIDER_MAIN = """\
import copilot_seats.program as program

program.dynamic_provider = lambda: None
program.main()
"""


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
    seats = [r for r in resources if r["type"] == "copilot:index:Seat"]
    assert len(seats) == 2 and all(r["provider"].startswith(providers[0]["urn"] + "::") for r in seats)
    assert_no_secret_in_state(ws, sim)


def test_stack_from_the_default_provider_migrates_without_touching_a_seat(tmp_path: Path,
                                                                          sim: RunningSimulator) -> None:
    ws = workspace(tmp_path, sim)
    (ws.project / "__main__.py").write_text(DEFAULT_PROVIDER_MAIN)
    ws.env["PYTHONPATH"] = str(old_package(tmp_path / "old", "5c85c04"))
    first = ws.up()
    assert first.returncode == 0, first
    ws.env.pop("PYTHONPATH")
    _, resources = exported(ws)
    assert [r["urn"].rsplit("::", 1)[-1] for r in resources if r["type"] == LEGACY_PROVIDER_TYPE] == ["default"]
    writes_before = len(sim.writes)
    (ws.project / "__main__.py").write_text(
        (Path(__file__).resolve().parent.parent / "__main__.py").read_text())
    preview = ws.preview("--json", policy_pack=None)
    assert preview_steps(preview) == {}, preview  # no seat, team or org step: the alias carries them over
    up = ws.up()
    assert up.returncode == 0, up
    assert len(sim.writes) == writes_before  # nothing revoked, nothing granted again
    _, resources = exported(ws)
    assert [r["urn"].rsplit("::", 1)[-1] for r in resources if r["type"] == PROVIDER_TYPE] == ["copilot-seats"]
    assert not [r for r in resources if r["type"] == LEGACY_PROVIDER_TYPE]
    assert_no_secret_in_state(ws, sim)
    again = ws.preview("--json", "--expect-no-changes", policy_pack=None)
    assert again.returncode == 0 and preview_steps(again) == {}, again


def test_refresh_preview_lists_only_real_changes_on_both_layouts(tmp_path: Path, sim: RunningSimulator) -> None:
    """`preview --json --refresh` lists `refresh` steps besides the changes they lead to: the helper
    reports the changes (here: frank revoked behind Pulumi's back) and nothing else, on both lanes."""
    ws = workspace(tmp_path, sim)
    assert ws.up().returncode == 0
    sim.client().remove_users("acme", ["frank"])
    result = ws.preview("--json", "--refresh", policy_pack=None)
    assert preview_steps(result) == {("copilot:index:Seat", "frank"): "create"}
    raw = [(step["urn"].rsplit("::", 1)[-1], step["op"]) for step in json.loads(result.stdout)["steps"]]
    assert ("frank", "create") in raw and any(op == "refresh" for _, op in raw)  # what the helper folds


def test_policy_violations_are_read_from_either_layout(tmp_path: Path, sim: RunningSimulator) -> None:
    ws = workspace(tmp_path, sim)
    result: PulumiResult = ws.preview()
    assert result.returncode == 0, result
    found = {(v["policy"], v["type"], v["name"]) for v in policy_violations(result)}
    assert ("missing-seat", "copilot:index:Seat", "frank") in found  # declared, no seat
    # bob's seat (never used, 200 days) is not declared: unmanaged, reported on the org record
    assert "unmanaged-seat" in {p for p, t, _ in found if t == "copilot:index:Organization"}
    assert all(v["level"] in ("advisory", "mandatory") and v["message"] for v in policy_violations(result))
