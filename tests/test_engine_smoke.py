"""Foundation: each engine lane is real, runs the project, loads Python packs, and the setup
script says plainly what it does when the engine is wrong or missing."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import RunningSimulator
from engine import (
    REPO,
    PulumiWorkspace,
    lane_cli_version,
    pinned_cli_version,
    pinned_version,
    require_engine,
)

SEATS = "organization: acme\nusers:\n  Alice: {owner: platform}\n  frank: {}\nteams: {}\n"


@pytest.fixture
def ws(tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> PulumiWorkspace:
    sim = make_simulator()
    workspace = PulumiWorkspace(tmp_path, SEATS, extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    pack = workspace.project / "smoke-pack"
    pack.mkdir()
    for name in ("PulumiPolicy.yaml", "__main__.py"):
        text = (REPO / "tests" / "fixtures" / "smoke-pack" / name).read_text()
        (pack / name).write_text(text.replace("../../../.venv", str(REPO / ".venv")))
    workspace.init_stack()
    return workspace


@pytest.mark.engine
def test_pulumi_version_is_the_lanes_release() -> None:
    out = subprocess.run([str(require_engine() / "pulumi"), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == lane_cli_version()


def test_python_sdks_are_the_pinned_releases() -> None:
    from importlib.metadata import version

    assert version("pulumi") == pinned_version("PULUMI_PYTHON_SDK_VERSION")
    assert version("pulumi-policy") == pinned_version("PULUMI_POLICY_SDK_VERSION")


@pytest.mark.engine
def test_preview_runs_the_project_and_a_test_policy_reports_each_seat(ws: PulumiWorkspace) -> None:
    result = ws.preview(policy_pack="smoke-pack")
    assert result.returncode == 0, result
    assert "smoke-advisory" in result.output
    assert "smoke saw seat Alice" in result.output and "smoke saw seat frank" in result.output
    assert "smoke-mandatory" not in result.output  # disabled by default


@pytest.mark.engine
def test_mandatory_policy_makes_preview_fail(ws: PulumiWorkspace, tmp_path: Path) -> None:
    config = tmp_path / "smoke-config.json"
    config.write_text(json.dumps({"smoke-mandatory": "mandatory"}))
    result = ws.preview(policy_pack="smoke-pack", pack_config=config)
    assert result.returncode != 0, result
    assert "[mandatory]" in result.output and "smoke blocks org acme" in result.output


@pytest.mark.engine
def test_up_with_policy_pack_records_the_resources(ws: PulumiWorkspace) -> None:
    result = ws.up(policy_pack="smoke-pack")
    assert result.returncode == 0, result
    exported = json.loads(ws.run("stack", "export").stdout)
    types = sorted(r["type"] for r in exported["deployment"]["resources"])
    assert types == ["copilot:index:Seats", "pulumi:providers:copilot", "pulumi:pulumi:Stack"]
    seats = next(r for r in exported["deployment"]["resources"] if r["type"] == "copilot:index:Seats")
    assert sorted(seats["outputs"]["managed_users"]) == ["alice", "frank"]


def _run_provider(path_dirs: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.pathsep.join(path_dirs), "HOME": str(cache), "COPILOT_SEATS_CACHE": str(cache)}
    return subprocess.run(["bash", str(REPO / "scripts" / "provide-pulumi.sh")], capture_output=True,
                          text=True, env=env, check=False)


def test_setup_without_engine_or_go_fails_and_names_both_ways(tmp_path: Path) -> None:
    result = _run_provider(["/usr/bin", "/bin"], tmp_path / "empty-cache")
    assert result.returncode != 0
    assert "official installer" in result.stderr and "Go" in result.stderr and "module proxy" in result.stderr
    assert result.stdout == ""


@pytest.mark.engine
def test_setup_ignores_a_wrong_pulumi_on_path_and_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "pulumi").write_text("#!/bin/sh\necho v3.10.0\n")
    (fake / "pulumi").chmod(0o755)
    require_engine()  # either lane: the pinned build is in the cache (the current lane pairs with its host)
    cache = Path(os.environ.get("COPILOT_SEATS_CACHE", Path.home() / ".cache" / "copilot-seats"))
    pinned_build = cache / f"pulumi-{pinned_cli_version()}" / "bin"
    assert (pinned_build / "pulumi").exists(), f"no pinned build in {pinned_build}: run scripts/setup.sh"
    seeded = tmp_path / "cache" / f"pulumi-{pinned_cli_version()}"
    seeded.mkdir(parents=True)
    (seeded / "bin").symlink_to(pinned_build)
    result = _run_provider([str(fake), "/usr/bin", "/bin"], tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "ignoring" in result.stderr and "v3.10.0" in result.stderr and pinned_cli_version() in result.stderr
    assert result.stdout.strip() == str(seeded / "bin")


def _provide(lane: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(REPO / "scripts" / "provide-pulumi.sh"), lane], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, check=False)


def test_unknown_engine_lane_is_a_usage_error() -> None:
    result = _provide("newest")
    assert result.returncode == 2 and result.stdout == ""
    assert "unknown engine lane 'newest'" in result.stderr and "pinned or current" in result.stderr


@pytest.mark.engine
def test_current_lane_pairs_its_cli_with_the_pinned_host(tmp_path: Path) -> None:
    """Whatever lane runs, `provide-pulumi.sh current` yields the current CLI next to a byte-identical
    copy of the pinned build's host and shims, even with another pulumi first on PATH."""
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "pulumi").write_text("#!/bin/sh\necho v3.274.1\n")
    (fake / "pulumi").chmod(0o755)
    current = _provide("current", {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    pinned = _provide("pinned", {"COPILOT_SEATS_IGNORE_PATH_PULUMI": "1"})
    assert current.returncode == 0 and pinned.returncode == 0, current.stderr + pinned.stderr
    current_dir, pinned_dir = Path(current.stdout.strip()), Path(pinned.stdout.strip())
    assert current_dir != pinned_dir and current_dir != fake
    version = subprocess.run([str(current_dir / "pulumi"), "version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == lane_cli_version("current")
    assert (current_dir / ".host-version").read_text().strip() == pinned_cli_version()
    for name in ("pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python",
                 "pulumi-analyzer-policy-python"):
        assert (current_dir / name).read_bytes() == (pinned_dir / name).read_bytes(), name
