"""The projects bench/scale_bench.py drives: the real copilot-seats project and a native no-op.

Both run through the real CLI in a throwaway directory with a file backend, the passphrase
secrets provider, an isolated ``PULUMI_HOME`` and the same engine environment
(:data:`ENGINE_ENV`), so the only difference between them is the program and its provider.
Every CLI command runs under bench/tree_rss.py, which reports the wall time and the peak RSS
of any process of the command's tree (CLI, language host, program, plugins, policy pack).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
BENCH = REPO / "bench"
ORG = "bigco"
TOKEN = "bench-token"
STACK = "bench"

ENGINE_ENV: dict[str, str] = {
    # The engine's defaults (per-step checkpoints, no experimental switch), as a user runs it.
    # No pause between writes: spacing changes the wall time of writes, never their number.
    "COPILOT_SEATS_WRITE_SPACING": "0",
}
"""The engine/provider knobs of every run, in one place (``--set-env KEY=VALUE`` changes them)."""

ALLOW_REMOVAL: dict[str, str] = {"COPILOT_SEATS_ALLOW_MASS_REMOVAL": "1"}
"""Added to the ops that revoke in bulk (the mass-removal guard would stop them, by design)."""

_ISOLATION = {
    "PULUMI_CONFIG_PASSPHRASE": "bench",
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
}

NOOP_PROGRAM = '''"""No-op program of bench/scale_bench.py: one noop:index:Things holding every name in names.txt."""
from pathlib import Path

import pulumi

entries = {
    # a dozen short strings per entry, about a seat's inputs
    name: {"login": name, "owner": "eng", "reason": "development", "cost_center": "CC-1",
           "expires": "2027-06-30", "standing": "seated", "created_at": "2025-06-01T12:00:00Z",
           "last_activity_at": "2025-11-20T09:30:00Z", "last_authenticated_at": "2025-11-20T09:30:00Z",
           "last_activity_editor": "vscode/1.99.0/copilot/1.300.0", "plan_type": "business", "via": "direct"}
    for name in Path("names.txt").read_text().split()
}
pulumi.CustomResource("noop:index:Things", "things", {"organization": "bigco", "entries": entries})
'''


def seat_login(i: int) -> str:
    """Seat holders of the fixture (as tests/scale_org.py names them)."""
    return f"dev-{i:05d}"


def member_login(i: int, prefix: str = "new") -> str:
    """Organization members who hold no seat (the logins a bulk grant adds)."""
    return f"{prefix}-{i:05d}"


def fixture(seats: int, members: Sequence[str] = ()) -> dict[str, Any]:
    """A simulator fixture: ``seats`` direct seats with tests/scale_org.py's spread of activity
    (a fifth never used), plus seat-less ``members``. Kept here rather than imported: the bench
    must not import modules the provider rewrite moves. The primary rate limit is lifted so a
    per-seat provider can finish a 10,000-seat destroy (the bench counts requests instead)."""
    held = [{"login": seat_login(i), "created_at": {"days_ago": 30 + i % 400},
             "last_activity_at": None if i % 5 == 0 else {"days_ago": (i * 7) % 120},
             "last_activity_editor": "vscode/1.99.0/copilot/1.300.0"} for i in range(seats)]
    return {"organizations": [{"login": ORG, "seat_management_setting": "assign_selected", "plan_type": "business",
                               "members": list(members), "seats": held}],
            "rate_limit": {"limit": 100_000_000}}


def copy_project_yaml(src: Path, dst: Path) -> None:
    """Copy a Pulumi(Policy).yaml, making its ``virtualenv:`` and ``path:`` values absolute.

    Relative values are relative to the file's directory in the repo (``.venv``, or a plugin
    directory under ``plugins: providers:``); a ``path:`` that names nothing there is left alone.
    """
    def absolute(match: re.Match[str]) -> str:
        value = match.group(3).split(" #", 1)[0].strip().strip("'\"")
        target = Path(value) if Path(value).is_absolute() else (src.parent / value).resolve()
        if match.group(2) == "path" and not target.exists():
            return match.group(0)
        return f"{match.group(1)}{target}"

    pattern = r"(?m)^(\s*(?:-\s+)?(virtualenv|path):\s*)(\S.*)$"
    dst.write_text(re.sub(pattern, absolute, src.read_text()))


@dataclass(frozen=True)
class Engine:
    """A Pulumi engine lane: the directory of its ``pulumi`` and the lane name."""

    bin_dir: Path
    lane: str

    @classmethod
    def provide(cls, lane: str) -> Engine:
        """The lane's CLI from scripts/provide-pulumi.sh (cached; built on first use)."""
        proc = subprocess.run(["bash", str(REPO / "scripts" / "provide-pulumi.sh"), lane], capture_output=True,
                              text=True, check=False, env={**os.environ, "COPILOT_SEATS_IGNORE_PATH_PULUMI": "1"})
        if proc.returncode != 0:
            raise SystemExit(f"cannot provide the {lane} engine lane:\n{proc.stderr}")
        return cls(Path(proc.stdout.strip()), lane)

    def version(self) -> str:
        return subprocess.run([str(self.bin_dir / "pulumi"), "version"], capture_output=True, text=True,
                              check=False).stdout.strip()


@dataclass(frozen=True)
class Run:
    """One command: wall seconds, peak RSS (KiB) of its process tree, exit code, output, and the
    sampled peak per program (see bench/tree_rss.py)."""

    wall_s: float
    peak_rss_kb: int
    returncode: int
    output: str
    leftover_killed: int
    peak_rss_kb_by_program: dict[str, int]

    @property
    def peak_program(self) -> str:
        """The program with the highest sampled peak ("" when none was sampled)."""
        peaks = self.peak_rss_kb_by_program
        return max(peaks, key=lambda k: peaks[k]) if peaks else ""


class Failed(Exception):
    """A command of an op failed; the message carries the tail of its output."""


class Workspace:
    """A throwaway project directory with its own backend, PULUMI_HOME and one stack."""

    def __init__(self, root: Path, engine: Engine, env: Mapping[str, str]) -> None:
        self.root, self.engine = root, engine
        self.project = root / "project"
        self.project.mkdir(parents=True)
        (root / "backend").mkdir()
        path = os.pathsep.join([str(engine.bin_dir), str(VENV / "bin"), os.environ.get("PATH", "")])
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "COPILOT_SEATS_", "GITHUB_"))}
        self.env.update({"PATH": path, "PULUMI_HOME": str(root / "home"),
                         "PULUMI_BACKEND_URL": f"file://{root / 'backend'}", **_ISOLATION, **env})
        if engine.lane == "current":  # the current CLI does not hand `virtualenv:` to the pinned host
            self.env["PULUMI_PYTHON_CMD"] = str(VENV / "bin" / "python")

    def run(self, argv: Sequence[str], extra_env: Mapping[str, str] | None = None, timeout: float = 7200) -> Run:
        """Run ``argv`` in the project under tree_rss.py; raise :class:`Failed` on a non-zero exit."""
        with tempfile.NamedTemporaryFile(suffix=".json", dir=self.root, delete=False) as handle:
            report = Path(handle.name)
        proc = subprocess.run([sys.executable, str(BENCH / "tree_rss.py"), str(report), "--", *argv],
                              cwd=self.project, env={**self.env, **(extra_env or {})}, capture_output=True,
                              text=True, timeout=timeout, check=False)
        measured = json.loads(report.read_text())
        report.unlink()
        run = Run(measured["wall_s"], measured["peak_rss_kb"], proc.returncode, proc.stdout + proc.stderr,
                  measured["leftover_killed"], measured["peak_rss_kb_by_program"])
        if run.returncode != 0:
            raise Failed(_failure(argv, run))
        return run

    def pulumi(self, *args: str, extra_env: Mapping[str, str] | None = None, timeout: float = 7200) -> Run:
        return self.run([str(self.engine.bin_dir / "pulumi"), *args, "--non-interactive"], extra_env, timeout)

    def state_resources(self) -> int:
        """Resources in the stack's checkpoint (stack and providers included)."""
        found = sorted((self.root / "backend" / ".pulumi" / "stacks").rglob(f"{STACK}.json"))
        if not found:
            return 0
        return len(json.loads(found[0].read_text()).get("checkpoint", {}).get("latest", {}).get("resources") or [])

    def state_bytes(self) -> int:
        """Size of the file backend's checkpoint of the stack (``.pulumi/stacks/<project>/<stack>.json``)."""
        found = sorted((self.root / "backend" / ".pulumi" / "stacks").rglob(f"{STACK}.json*"))
        return found[0].stat().st_size if found else 0


FAILURE_LOGS = Path(tempfile.gettempdir()) / "copilot-seats-scale-failures"


def _failure(argv: Sequence[str], run: Run) -> str:
    """A failed command in brief (its first errors, the end of its output); the whole output is
    saved under :data:`FAILURE_LOGS`, since the workspace is deleted."""
    FAILURE_LOGS.mkdir(exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=FAILURE_LOGS, prefix=f"{Path(argv[0]).name}-{argv[1]}-",
                                     suffix=".log", delete=False) as log:
        log.write(f"$ {' '.join(argv)}\n{run.output}")
    errors = [line.strip() for line in run.output.splitlines() if "error:" in line][:5]
    return (f"{Path(argv[0]).name} {argv[1]} exited {run.returncode} (full output: {log.name})\n"
            + "".join(f"  {e}\n" for e in errors) + "...\n" + run.output[-1500:])


def seats_workspace(root: Path, engine: Engine, env: Mapping[str, str]) -> Workspace:
    """The real project: Pulumi.yaml (paths made absolute), __main__.py, policies/."""
    ws = Workspace(root, engine, env)
    copy_project_yaml(REPO / "Pulumi.yaml", ws.project / "Pulumi.yaml")
    shutil.copy(REPO / "__main__.py", ws.project)
    pack = ws.project / "policies"
    shutil.copytree(REPO / "policies", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    copy_project_yaml(REPO / "policies" / "PulumiPolicy.yaml", pack / "PulumiPolicy.yaml")
    return ws


def policy_pack_arg(ws: Workspace) -> str:
    """``--policy-pack`` value: the directory (pinned lane) or the launcher in it (current lane)."""
    if ws.engine.lane != "current":
        return "policies"
    launcher = REPO / "tools" / "pulumi-cli-current" / "policy-pack-launcher"
    shutil.copy2(launcher, ws.project / "policies" / launcher.name)
    return str(ws.project / "policies" / launcher.name)


def noop_workspace(root: Path, engine: Engine, env: Mapping[str, str], names: Sequence[str]) -> Workspace:
    """The baseline: one ``noop:index:Things`` holding N entries, served by bench/noop_provider (native)."""
    ws = Workspace(root, engine, env)
    plugin = ws.project / "noop-plugin"
    plugin.mkdir(exist_ok=True)
    launcher = plugin / "pulumi-resource-noop"  # written here, never committed: the engine runs it
    launcher.write_text(f"#!/bin/sh\nexec {shlex.quote(str(VENV / 'bin' / 'python'))} "
                        f"{shlex.quote(str(BENCH / 'noop_provider' / 'noop_provider.py'))} \"$@\"\n")
    launcher.chmod(0o755)
    (ws.project / "Pulumi.yaml").write_text(
        f"name: bench-noop\nruntime:\n  name: python\n  options:\n    virtualenv: {VENV}\n"
        f"plugins:\n  providers:\n    - name: noop\n      path: {plugin}\n")
    (ws.project / "__main__.py").write_text(NOOP_PROGRAM)
    write_names(ws, names)
    return ws


def write_names(ws: Workspace, names: Sequence[str]) -> None:
    (ws.project / "names.txt").write_text("".join(f"{n}\n" for n in names))


def read_names(ws: Workspace) -> list[str]:
    return (ws.project / "names.txt").read_text().split()


# --- editing the seats file the way a pull request would ------------------------------------------

_ENTRY = re.compile(r"^  (?P<login>[^\s#:][^:]*):")


def seats_add(text: str, logins: Sequence[str]) -> str:
    """``text`` with bare ``users:`` entries for ``logins`` appended to the users mapping."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^users:\s*(\{\}\s*)?$", line))
    lines[start] = "users:"
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith((" ", "#"))),
               len(lines))
    return "\n".join([*lines[:end], *(f"  {login}:" for login in logins), *lines[end:]]) + "\n"


def seats_remove(text: str, logins: Sequence[str]) -> str:
    """``text`` without the ``users:`` entries of ``logins`` (an entry's indented lines go too)."""
    drop, out, skipping, inside = {login.casefold() for login in logins}, [], False, False
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            inside = line.startswith("users:")
        entry = _ENTRY.match(line)
        if entry:
            skipping = inside and entry.group("login").strip().casefold() in drop
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def seats_users(text: str) -> list[str]:
    """The logins a seats file declares under ``users:`` (the format above)."""
    users, inside = [], False
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            inside = line.startswith("users:")
        elif inside and (entry := _ENTRY.match(line)):
            users.append(entry.group("login").strip())
    return users
