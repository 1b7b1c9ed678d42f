"""Harness for tests that drive the real Pulumi engine (CLI built by scripts/setup.sh).

Each workspace copies the project (Pulumi.yaml, __main__.py, policies/, a seats file) into a
temporary directory, pins the virtualenv paths to the repo's .venv, and runs the CLI with an
isolated PULUMI_HOME, a file backend and the passphrase secrets provider: no login, no
network but 127.0.0.1. When the engine is missing the tests FAIL with the reason (never skip).

Engine lanes (``COPILOT_SEATS_ENGINE``, set by ``scripts/setup.sh --print-env``):

* ``pinned`` (default) — CLI and Python host of PULUMI_CLI_VERSION;
* ``current`` — the CLI of PULUMI_CURRENT_CLI_VERSION paired with the pinned host. That pairing
  cannot start a pack *directory*, so the workspace passes each pack through
  tools/pulumi-cli-current/policy-pack-launcher, and ``PULUMI_PYTHON_CMD`` stands in for the
  ``virtualenv:`` option the current CLI does not hand to the old host.

The output readers (:func:`policy_violations`, :func:`preview_steps`) understand both engines'
layouts, so one assertion holds on both lanes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = [
    "ENGINE_LANES",
    "REPO",
    "PulumiResult",
    "PulumiWorkspace",
    "engine_lane",
    "lane_cli_version",
    "pinned_cli_version",
    "pinned_version",
    "policy_violations",
    "preview_steps",
    "require_engine",
    "seat_changes",
]

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
ENGINE_LANES = ("pinned", "current")
PACK_LAUNCHER = REPO / "tools" / "pulumi-cli-current" / "policy-pack-launcher"


def pinned_version(key: str) -> str:
    """A version recorded in tools/pulumi-version.env (e.g. ``PULUMI_PYTHON_SDK_VERSION``), as is."""
    text = (REPO / "tools" / "pulumi-version.env").read_text()
    match = re.search(rf"^{re.escape(key)}=(\S+)$", text, re.M)
    assert match, f"tools/pulumi-version.env has no {key}"
    return match.group(1)


def pinned_cli_version() -> str:
    """The pinned lane's CLI version (tools/pulumi-version.env), with a leading ``v``."""
    return "v" + pinned_version("PULUMI_CLI_VERSION")


def engine_lane() -> str:
    """The engine lane these tests run on: ``COPILOT_SEATS_ENGINE``, default ``pinned``."""
    lane = os.environ.get("COPILOT_SEATS_ENGINE") or "pinned"
    if lane not in ENGINE_LANES:
        pytest.fail(f"COPILOT_SEATS_ENGINE={lane!r}: expected one of {', '.join(ENGINE_LANES)}", pytrace=False)
    return lane


def lane_cli_version(lane: str | None = None) -> str:
    """The CLI version a lane runs, with a leading ``v``."""
    key = "PULUMI_CURRENT_CLI_VERSION" if (lane or engine_lane()) == "current" else "PULUMI_CLI_VERSION"
    return "v" + pinned_version(key)


def require_engine() -> Path:
    """Return the directory holding the lane's ``pulumi``; fail the test with the reason if absent.

    The pinned lane also accepts a newer v3 (an official CLI on PATH, as scripts/provide-pulumi.sh
    does); the current lane must be exactly its version, or the second lane would test nothing new.
    """
    lane = engine_lane()
    bin_dir = os.environ.get("COPILOT_SEATS_PULUMI_BIN")
    if not bin_dir and lane == "pinned":
        found = shutil.which("pulumi")
        bin_dir = str(Path(found).resolve().parent) if found else ""
    if not bin_dir or not (Path(bin_dir) / "pulumi").exists():
        pytest.fail(
            f"the Pulumi engine ({lane} lane) is not available: run the tests through scripts/test.sh "
            f"(it builds or reuses the CLI via scripts/provide-pulumi.sh {lane}), or "
            f'eval "$(COPILOT_SEATS_ENGINE={lane} scripts/setup.sh --print-env)"',
            pytrace=False,
        )
    version = subprocess.run(
        [str(Path(bin_dir) / "pulumi"), "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    expected = lane_cli_version(lane)
    if version != expected and (lane == "current" or not version.startswith("v3.")):
        pytest.fail(f"pulumi in {bin_dir} reports {version!r}, expected {expected} ({lane} lane)", pytrace=False)
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
            **({"PULUMI_PYTHON_CMD": str(VENV / "bin" / "python")} if engine_lane() == "current" else {}),
            **(extra_env or {}),
        }

    def processes(self) -> dict[int, str]:
        """pid -> command line of every live process started for this workspace (its PULUMI_HOME)."""
        marker = f"PULUMI_HOME={self.env['PULUMI_HOME']}".encode()
        found: dict[int, str] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
        return found

    def write_seats(self, text: str) -> None:
        (self.project / "seats.yaml").write_text(text)

    def run(self, *args: str, timeout: float = 900, env: Mapping[str, str] | None = None) -> PulumiResult:
        """Run the lane's CLI in the project; any ``--policy-pack DIR`` is given as this lane needs it."""
        proc = subprocess.run(
            [str(self.bin_dir / "pulumi"), *self._lane_args(args), "--non-interactive"],
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
        return self.run("preview", *self.pack_args(policy_pack, pack_config), *extra)

    def up(self, *extra: str, policy_pack: str | None = None, pack_config: Path | None = None) -> PulumiResult:
        """A plain ``pulumi up --yes``: its preview, then the update, with per-step checkpoints."""
        return self.run("up", "--yes", *self.pack_args(policy_pack, pack_config), *extra)

    def pack_args(self, policy_pack: str | None, pack_config: Path | None = None) -> Sequence[str]:
        args: list[str] = []
        if policy_pack:
            args += ["--policy-pack", policy_pack]
        if pack_config:
            args += ["--policy-pack-config", str(pack_config)]
        return args

    def _lane_args(self, args: Sequence[str]) -> list[str]:
        out: list[str] = []
        for i, arg in enumerate(args):
            if arg.startswith("--policy-pack="):
                out.append("--policy-pack=" + self._pack_path(arg.split("=", 1)[1]))
            elif i > 0 and args[i - 1] == "--policy-pack":
                out.append(self._pack_path(arg))
            else:
                out.append(arg)
        return out

    def _pack_path(self, policy_pack: str) -> str:
        """The pack directory itself on the pinned lane; on the current lane, the launcher in it."""
        if engine_lane() != "current":
            return policy_pack
        pack = (self.project / policy_pack).resolve()
        if pack.is_file():  # already an executable pack
            return str(pack)
        assert (pack / "PulumiPolicy.yaml").is_file(), f"{pack} is not a policy pack"
        launcher = pack / PACK_LAUNCHER.name
        if not launcher.exists():
            shutil.copy2(PACK_LAUNCHER, launcher)
        return str(launcher)


def _copy_yaml_with_venv(src: Path, dst: Path, venv: Path) -> None:
    """Copy a Pulumi(Policy).yaml, pointing its ``virtualenv`` option and the copilot provider's
    plugin directory at ``venv`` (absolute)."""
    text = re.sub(r"(?m)^(\s*virtualenv:).*$", rf"\1 {venv}", src.read_text())
    text = re.sub(r"(?m)^(\s*path:) \.venv/bin\s*$", rf"\1 {venv / 'bin'}", text)
    dst.write_text(text)


# --- reading the engine's output, in either lane's layout -----------------------------------------

# v3.78.1, under "Policy Violations:":
#     [advisory]  copilot-seats v0.2.0  stale-seat (copilot:index:Seats: seats)
#     <description>
#     <message>
_OLD_HEAD = re.compile(
    r"^\s*\[(?P<level>advisory|mandatory|remediate|disabled)\]\s+(?P<pack>\S+) v(?P<version>\S+)\s+"
    r"(?P<policy>[\w.-]+) \((?P<type>[^:()\s]+(?::[^:()\s]+)*): (?P<name>[^)]+)\)\s*$")
# v3.274.1, under "Policies:", after a pack header "⚠️ copilot-seats@v0.2.0 (local: policies)":
#         - [advisory] [severity: low]  stale-seat  (copilot:index:Seats: seats)
#           <description>
#           <message>
_NEW_PACK = re.compile(r"^ {4}(?:\u2705|\u26a0\ufe0f?|\u274c)\s+(?P<pack>[^\s@]+)@v(?P<version>\S+)(?:\s.*)?$")
_NEW_HEAD = re.compile(
    r"^\s*[-·]\s+\[(?P<level>advisory|mandatory|remediate|disabled)\](?:\s+\[severity: \w+\])?\s+"
    r"(?P<policy>[\w.-]+)\s+\((?P<type>[^:()\s]+(?::[^:()\s]+)*): (?P<name>[^)]+)\)\s*$")
_SECTIONS = ("Policy Violations:", "Policies:")


def policy_violations(result: PulumiResult) -> list[dict[str, str]]:
    """Every policy violation a preview/up printed, from either engine's layout.

    Each is a dict with ``level``, ``pack``, ``version``, ``policy``, ``type``, ``name``,
    ``description`` (the policy's) and ``message`` (the violation's, lines joined by newlines).
    A violations section this reader cannot parse fails the test instead of reading as "none".
    """
    found: list[dict[str, str]] = []
    lines = result.stdout.splitlines()
    in_section, pack, version, unparsed = False, "", "", []
    current: dict[str, str] | None = None
    body: list[str] = []

    def close() -> None:
        nonlocal current, body
        if current is not None:
            current["description"] = body[0] if body else ""
            current["message"] = "\n".join(body[1:])
            found.append(current)
        current, body = None, []

    for line in lines:
        stripped = line.strip()
        if stripped in _SECTIONS and not line.startswith(" "):
            close()
            in_section = True
            continue
        if not in_section:
            continue
        if not line.startswith(" "):  # the next top-level section ends ours
            close()
            in_section = False
            continue
        old, new = _OLD_HEAD.match(line), _NEW_HEAD.match(line)
        if old or new:
            close()
            groups = (old or new).groupdict()  # type: ignore[union-attr]
            current = {"level": groups["level"], "pack": groups.get("pack") or pack,
                       "version": groups.get("version") or version, "policy": groups["policy"],
                       "type": groups["type"], "name": groups["name"]}
            continue
        header = _NEW_PACK.match(line)
        if header:
            close()
            pack, version = header.group("pack"), header.group("version")
            continue
        if not stripped:
            close()
            continue
        if current is not None:
            body.append(stripped)
        elif "[" in stripped and "]" in stripped:
            unparsed.append(line)
    close()
    assert not unparsed, f"policy output in a layout tests/engine.py cannot read: {unparsed}\n{result!r}"
    return found


def preview_steps(result: PulumiResult) -> dict[tuple[str, str], str]:
    """(type, name) -> op for every step of a ``preview --json`` that changes something.

    Left out, on either engine: the stack, ``same`` steps, the ``refresh`` steps v3.274.1 lists
    for each resource with ``--refresh`` (v3.78.1 lists none; what a refresh found shows as the
    following create/update/delete step), and provider resources (engine bookkeeping, not seats:
    a seat whose provider changed in a way that matters shows its own replace step).
    """
    assert result.returncode == 0, result
    doc = json.loads(result.stdout)
    out: dict[tuple[str, str], str] = {}
    for step in doc.get("steps", []):
        urn = step["urn"]
        rtype, name = urn.split("::")[-2].split("$")[-1], urn.split("::")[-1]
        if rtype == "pulumi:pulumi:Stack" or rtype.startswith("pulumi:providers:"):
            continue
        if step["op"] in ("same", "refresh"):
            continue
        out[(rtype, name)] = step["op"]
    return out


def seat_changes(result: PulumiResult) -> dict[str, str]:
    """``"user alice"`` / ``"team ml"`` -> ``grant`` | ``revoke`` | ``change`` for every seat change
    of a ``preview --json``, read by the PR comment's own reader of the Seats step
    (:func:`copilot_seats.reports.pr_plan.parse_preview`); entries adopted as already held are
    ``adopt``."""
    from copilot_seats.reports.pr_plan import parse_preview

    assert result.returncode == 0, result
    out: dict[str, str] = {}
    for change in parse_preview(json.loads(result.stdout)).changes:
        action = "adopt" if change.action == "grant" and change.held else change.action
        out[f"{change.kind} {change.name.casefold()}"] = action
    return out
