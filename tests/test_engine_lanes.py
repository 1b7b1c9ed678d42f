"""What differs between the engine lanes, pinned on each: stack config and the token in state,
the migration from the default provider, and the output layouts the test helpers read.

Runs on both lanes (scripts/test.sh). The current lane's engine (v3.274.1) hands the *default*
``pulumi-python`` provider the whole stack config, secrets included, and records it in state;
the program registers an explicit provider instead (copilot_seats/stack/engine_provider.py), so on
either lane no token and no config value reaches the state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningSimulator
from engine import PulumiResult, PulumiWorkspace, engine_lane, policy_violations, preview_steps

pytestmark = pytest.mark.engine

SEATS = "organization: acme\nsettings:\n  mode: additive\nusers:\n  Alice: {owner: platform}\n  frank: {}\nteams: {}\n"
PROVIDER_TYPE = "pulumi:providers:pulumi-python"
OTHER_SECRET = "unrelated-secret-value-4711"  # a secret of another namespace: no business in state either

# The program as it was before the explicit provider: every resource on the default provider.
DEFAULT_PROVIDER_MAIN = """\
import copilot_seats.stack.program as program

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
    assert not {k for k in providers[0].get("inputs", {}) if ":" in k}  # no `ns:key` config inputs
    seats = [r for r in resources if r["type"] == "copilot:index:Seat"]
    assert len(seats) == 2 and all(r["provider"].startswith(providers[0]["urn"] + "::") for r in seats)
    assert_no_secret_in_state(ws, sim)


def test_default_provider_records_stack_config_on_current_engines_only(tmp_path: Path,
                                                                         sim: RunningSimulator) -> None:
    """Why the explicit provider exists: pins what each lane's engine does with the default one."""
    ws = workspace(tmp_path, sim)
    (ws.project / "__main__.py").write_text(DEFAULT_PROVIDER_MAIN)
    up = ws.up()
    assert up.returncode == 0, up
    text, resources = exported(ws)
    (default,) = [r for r in resources if r["type"] == PROVIDER_TYPE]
    assert default["urn"].endswith("::default")
    if engine_lane() == "current":  # v3.139+: the whole config, every namespace, kept in state
        for key, value in (("github:token", sim.token), ("other:apiKey", OTHER_SECRET)):
            secret = default["inputs"][key]  # a secret: encrypted at rest, decrypted by --show-secrets
            assert json.loads(secret["plaintext"]) == value, default
        assert sim.token in text
        for path in (ws.root / "backend").rglob("*.json"):
            assert sim.token.encode() not in path.read_bytes(), path
        assert any(b"github:token" in p.read_bytes() for p in (ws.root / "backend").rglob("*.json"))
    else:  # v3.78.1: only config of the provider's own package (none here)
        assert not {k for k in default.get("inputs", {}) if ":" in k}
        assert sim.token not in text


def test_stack_from_the_default_provider_migrates_without_touching_a_seat(tmp_path: Path,
                                                                          sim: RunningSimulator) -> None:
    ws = workspace(tmp_path, sim)
    (ws.project / "__main__.py").write_text(DEFAULT_PROVIDER_MAIN)
    assert ws.up().returncode == 0
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
