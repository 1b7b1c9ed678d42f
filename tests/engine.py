"""Harness for tests that drive the real Pulumi engine (CLI built by scripts/setup.sh).

Each workspace copies the project (Pulumi.yaml, __main__.py, policies/, a seats file) into a
temporary directory, pins the virtualenv paths to the repo's .venv, and runs the CLI with an
isolated PULUMI_HOME, a file backend and the passphrase secrets provider: no login, no
network but 127.0.0.1. When the engine is missing the tests FAIL with the reason (never skip).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["REPO", "PulumiResult", "PulumiWorkspace", "pinned_cli_version", "require_engine"]

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"


def pinned_cli_version() -> str:
    """The CLI version recorded in tools/pulumi-version.env, with a leading ``v``."""
    text = (REPO / "tools" / "pulumi-version.env").read_text()
    match = re.search(r"^PULUMI_CLI_VERSION=(\S+)$", text, re.M)
    assert match, "tools/pulumi-version.env has no PULUMI_CLI_VERSION"
    return "v" + match.group(1)


def require_engine() -> Path:
    """Return the directory holding the pinned ``pulumi``; fail the test with the reason if absent."""
    bin_dir = os.environ.get("COPILOT_SEATS_PULUMI_BIN")
    if not bin_dir:
        found = shutil.which("pulumi")
        bin_dir = str(Path(found).resolve().parent) if found else ""
    if not bin_dir or not (Path(bin_dir) / "pulumi").exists():
        pytest.fail(
            "the Pulumi engine is not available: run the tests through scripts/test.sh (it builds or "
            "reuses the pinned CLI via scripts/provide-pulumi.sh), or put the pinned pulumi on PATH",
            pytrace=False,
        )
    version = subprocess.run(
        [str(Path(bin_dir) / "pulumi"), "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if version != pinned_cli_version() and not version.startswith("v3."):
        pytest.fail(f"pulumi in {bin_dir} reports {version!r}, expected {pinned_cli_version()}", pytrace=False)
    return Path(bin_dir)


@dataclass(frozen=True)
class PulumiResult:
    """One CLI invocation: its arguments, exit code and captured streams."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __repr__(self) -> str:  # shown by pytest when an assertion on the result fails
        return f"$ pulumi {' '.join(self.args)} -> {self.returncode}\n{self.output}"


class PulumiWorkspace:
    """A throwaway copy of the project with its own backend, PULUMI_HOME and stack."""

    def __init__(self, root: Path, seats_text: str | None = None, extra_env: Mapping[str, str] | None = None):
        self.bin_dir = require_engine()
        self.root = root
        self.project = root / "project"
        self.project.mkdir(parents=True)
        shutil.copy(REPO / "__main__.py", self.project)
        _copy_yaml_with_venv(REPO / "Pulumi.yaml", self.project / "Pulumi.yaml", VENV)
        pack = self.project / "policies"
        shutil.copytree(REPO / "policies", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
        _copy_yaml_with_venv(REPO / "policies" / "PulumiPolicy.yaml", pack / "PulumiPolicy.yaml", VENV)
        seats = seats_text if seats_text is not None else (REPO / "seats.yaml").read_text()
        (self.project / "seats.yaml").write_text(seats)
        (root / "backend").mkdir()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")},
            "PATH": f"{self.bin_dir}{os.pathsep}{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_BACKEND_URL": f"file://{root / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            **(extra_env or {}),
        }

    def write_seats(self, text: str) -> None:
        (self.project / "seats.yaml").write_text(text)

    def run(self, *args: str, timeout: float = 900, env: Mapping[str, str] | None = None) -> PulumiResult:
        proc = subprocess.run(
            [str(self.bin_dir / "pulumi"), *args, "--non-interactive"],
            cwd=self.project,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return PulumiResult(tuple(args), proc.returncode, proc.stdout, proc.stderr)

    def init_stack(self, name: str = "test", config: Mapping[str, str] | None = None,
                   secrets: Mapping[str, str] | None = None) -> None:
        result = self.run("stack", "init", name)
        assert result.returncode == 0, result
        for key, value in (config or {}).items():
            r = self.run("config", "set", key, value)
            assert r.returncode == 0, r
        for key, value in (secrets or {}).items():
            r = self.run("config", "set", "--secret", key, value)
            assert r.returncode == 0, r

    def preview(self, *extra: str, policy_pack: str | None = "policies",
                pack_config: Path | None = None) -> PulumiResult:
        return self.run("preview", *_pack_args(policy_pack, pack_config), *extra)

    def up(self, *extra: str, policy_pack: str | None = None, pack_config: Path | None = None) -> PulumiResult:
        return self.run("up", "--yes", "--skip-preview", *_pack_args(policy_pack, pack_config), *extra)


def _pack_args(policy_pack: str | None, pack_config: Path | None) -> Sequence[str]:
    args: list[str] = []
    if policy_pack:
        args += ["--policy-pack", policy_pack]
    if pack_config:
        args += ["--policy-pack-config", str(pack_config)]
    return args


def _copy_yaml_with_venv(src: Path, dst: Path, venv: Path) -> None:
    """Copy a Pulumi(Policy).yaml, pointing its ``virtualenv`` option at ``venv`` (absolute)."""
    text = re.sub(r"(?m)^(\s*virtualenv:).*$", rf"\1 {venv}", src.read_text())
    dst.write_text(text)
