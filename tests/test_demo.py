"""scripts/demo.sh end to end: it previews the demo org against the simulator it starts itself,
and never reads a URL left behind by a previous run.

The demo runs in a copy of the project (its own ``.state/``) that shares the repo's ``.venv`` and
the engine cache, so the test costs one demo preview, not a setup. The demo uses the pinned
engine lane (scripts/setup.sh's default), so this test runs once, not per engine lane.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from engine import REPO

_SKIP = shutil.ignore_patterns(".venv", ".state", ".git", "__pycache__", "*.egg-info", ".mypy_cache",
                               ".ruff_cache", ".pytest_cache", ".hypothesis", "Pulumi.demo.yaml")
_STALE_URL = "http://127.0.0.1:9"  # discard port: nothing listens there


def _project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO, root, ignore=_SKIP, symlinks=True)
    (root / ".venv").symlink_to(REPO / ".venv")
    (root / ".state" / "demo").mkdir(parents=True)
    return root


def _run_demo(root: Path, timeout: float = 420) -> tuple[int, str]:
    lane_vars = ("COPILOT_SEATS_PULUMI_BIN", "COPILOT_SEATS_ENGINE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "GITHUB_")) and k not in lane_vars}
    proc = subprocess.Popen(["bash", "scripts/demo.sh"], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the demo and the simulator it started
        out, _ = proc.communicate()
        pytest.fail(f"demo.sh hung for {timeout:.0f} s (did it wait on a previous run's URL file?):\n{out[-3000:]}")
    return proc.returncode, out


@pytest.mark.parametrize("leftover", ["stale-url", "fifo"])
def test_demo_ignores_the_previous_runs_simulator_url(tmp_path: Path, leftover: str) -> None:
    root = _project_copy(tmp_path)
    url_file = root / ".state" / "demo" / "simulator.out"
    if leftover == "stale-url":  # what a finished run leaves behind: its simulator is gone
        url_file.write_text(f"SIMULATOR_URL={_STALE_URL}\n")
    else:  # a leftover that cannot be overwritten before it is read: only removing it works
        os.mkfifo(url_file)
    code, out = _run_demo(root)
    assert code == 0, out[-4000:]
    announced = re.search(r"simulated GitHub for org octo-demo at (\S+)", out)
    assert announced, out[-4000:]
    assert announced.group(1) != _STALE_URL and announced.group(1).startswith("http://127.0.0.1:")
    assert "connection refused" not in out.lower()
    # the Seats record (40 users, 2 teams), the provider, the stack
    assert re.search(r"\+ 3 to create", out), out[-4000:]
    assert url_file.is_file() and announced.group(1) in url_file.read_text()
