"""Benchmark: `pulumi preview` and `pulumi up` of N declared seats against the simulator.

For each N it runs, in the same process, on each engine lane (pinned v3.78.1 and current
v3.274.1 paired with the pinned Python host; see scripts/provide-pulumi.sh), each against a
fresh simulator:

* the copilot-seats program (N Seat resources + 1 Organization) — preview, then up;
* a no-op program with N trivial dynamic resources (same provider mechanism, no API) — the
  baseline the issue asks for;

and prints wall time, the ratio to the baseline, the ratio between the engines (current /
pinned), API requests per run (budget for a preview: 1 billing read + ceil(N/100) pages; an up
adds N grants), and the peak RSS of any child process (the CLI, the language host, the
provider). Usage (after scripts/setup.sh; the current lane is built on first use):

    eval "$(scripts/setup.sh --print-env)"
    python bench/reconcile_bench.py [--preview-only] [--engines pinned,current] [N ...]
    # default N: 1000 5000
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from copilot_seats.simulator import SimulatorServer, load_fixture  # noqa: E402

TOKEN = "bench-token"

NOOP_PROVIDER = '''
"""A trivial dynamic provider in an importable module (pickled by reference, like ours)."""
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider


class Noop(ResourceProvider):
    def diff(self, _id, olds, news):
        return DiffResult(changes=False)

    def create(self, props):
        return CreateResult(props["login"], props)
'''

NOOP_PROGRAM = '''
import os
import pickle

from pulumi.dynamic import Resource

from noop_provider import Noop


class Trivial(Resource, module="bench", name="Trivial"):
    def __init__(self, name, props):
        super().__init__(Noop(), name, props)


ORIGINAL = pickle._Pickler._batch_setitems
for i in range(int(os.environ["BENCH_N"])):
    Trivial(f"user{i:05d}", {"login": f"user{i:05d}"})
    pickle._Pickler._batch_setitems = ORIGINAL  # same SDK-bug workaround as copilot_seats.resources
'''


def _env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    # Isolate from the caller's Pulumi settings, except the checkpoint switch we compare with.
    passthrough = ("PULUMI_SKIP_CHECKPOINTS", "PULUMI_EXPERIMENTAL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_") or k in passthrough}
    env.update({
        "PULUMI_HOME": str(home / "home"), "PULUMI_BACKEND_URL": f"file://{home / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": "bench", "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true", **extra,
    })
    return env


def _project(root: Path, noop: bool, n: int) -> Path:
    project = root / ("noop" if noop else "seats")
    project.mkdir()
    venv = REPO / ".venv"
    if noop:
        (project / "Pulumi.yaml").write_text(
            f"name: bench-noop\nruntime:\n  name: python\n  options:\n    virtualenv: {venv}\n")
        (project / "__main__.py").write_text(NOOP_PROGRAM)
        (project / "noop_provider.py").write_text(NOOP_PROVIDER)
    else:
        text = (REPO / "Pulumi.yaml").read_text().replace("virtualenv: .venv", f"virtualenv: {venv}")
        (project / "Pulumi.yaml").write_text(text)
        shutil.copy(REPO / "__main__.py", project)
        users = "".join(f"  user{i:05d}:\n    owner: bench\n" for i in range(n))
        (project / "seats.yaml").write_text(f"organization: bench-org\nusers:\n{users}teams: {{}}\n")
    return project


def engine_dir(lane: str) -> Path:
    """The lane's bin directory (cached; built on first use) from scripts/provide-pulumi.sh."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "provide-pulumi.sh"), lane], capture_output=True,
                          text=True, check=False, env={**os.environ, "COPILOT_SEATS_IGNORE_PATH_PULUMI": "1"})
    if proc.returncode != 0:
        raise SystemExit(f"cannot provide the {lane} engine lane:\n{proc.stderr}")
    return Path(proc.stdout.strip())


def _lane_env(lane: str, bin_dir: Path) -> dict[str, str]:
    env = {"PATH": f"{bin_dir}{os.pathsep}{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    if lane == "current":  # the current CLI does not hand `virtualenv:` to the pinned host
        env["PULUMI_PYTHON_CMD"] = str(REPO / ".venv" / "bin" / "python")
    return env


def _run(project: Path, env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([str(Path(env["COPILOT_SEATS_BENCH_BIN"]) / "pulumi"), *args, "--non-interactive"],
                          cwd=project, env=env,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pulumi {' '.join(args)} failed in {project}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def _fixture(n: int) -> dict[str, object]:
    return {
        "organizations": [{"login": "bench-org", "seat_management_setting": "assign_selected",
                           "members": [f"user{i:05d}" for i in range(n)],
                           # half the declared users already hold a seat (observations to carry)
                           "seats": [{"login": f"user{i:05d}", "created_at": {"days_ago": 100},
                                      "last_activity_at": {"days_ago": i % 120} if i % 7 else None}
                                     for i in range(0, n, 2)]}],
        "rate_limit": {"limit": 10_000_000},
    }


def bench_lane(n: int, lane: str, bin_dir: Path, with_up: bool) -> dict[str, float]:
    """Preview (and up) of both programs on one engine lane, against a fresh simulator."""
    state = load_fixture(_fixture(n), token=TOKEN)
    server = SimulatorServer(state).start()
    times: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix=f"copilot-seats-bench-{lane}-") as tmp:
            root = Path(tmp)
            extra = {"GITHUB_API_URL": server.base_url, "GITHUB_TOKEN": TOKEN, "COPILOT_SEATS_WRITE_SPACING": "0",
                     "BENCH_N": str(n), "COPILOT_SEATS_BENCH_BIN": str(bin_dir), **_lane_env(lane, bin_dir)}
            for noop in (True, False):
                project = _project(root, noop, n)
                env = _env(root / project.name, extra)
                (root / project.name / "backend").mkdir(parents=True)
                _run(project, env, "stack", "init", "bench")
                label = "noop" if noop else "seats"
                before = len(state.log.all())
                times[f"{label}-preview"] = _run(project, env, "preview")
                preview_requests = len(state.log.all()) - before
                before = len(state.log.all())
                if with_up:
                    times[f"{label}-up"] = _run(project, env, "up", "--yes", "--skip-preview")
                up_requests = len(state.log.all()) - before
                if not noop:
                    budget = 1 + math.ceil(n / 100)
                    print(f"N={n} [{lane}]: requests preview={preview_requests} (budget {budget}), "
                          f"up={up_requests} (budget {budget} + {n - (n + 1) // 2} grants for the seat-less half)")
    finally:
        server.stop()
    return times


def bench(n: int, lanes: list[str], with_up: bool = True) -> None:
    results = {lane: bench_lane(n, lane, engine_dir(lane), with_up) for lane in lanes}
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    for op in ("preview", "up") if with_up else ("preview",):
        for lane, times in results.items():
            seats, noop_t = times[f"seats-{op}"], times[f"noop-{op}"]
            print(f"N={n}: {op:7s} [{lane:7s}] seats {seats:7.1f} s  noop {noop_t:7.1f} s  "
                  f"ratio {seats / noop_t:.2f}")
        if "pinned" in results and "current" in results:
            p, c = results["pinned"], results["current"]
            print(f"N={n}: {op:7s} current/pinned: seats x{c[f'seats-{op}'] / p[f'seats-{op}']:.2f}  "
                  f"noop x{c[f'noop-{op}'] / p[f'noop-{op}']:.2f}")
    print(f"N={n}: peak child RSS so far {peak_mb:.0f} MiB")


if __name__ == "__main__":
    argv = sys.argv[1:]
    lanes = ["pinned", "current"]
    if "--engines" in argv:
        i = argv.index("--engines")
        lanes = [lane for lane in argv[i + 1].split(",") if lane]
        del argv[i:i + 2]
    unknown = [lane for lane in lanes if lane not in ("pinned", "current")]
    if unknown or not lanes:
        raise SystemExit(f"--engines takes pinned and/or current, comma-separated (got {lanes})")
    sizes = [a for a in argv if a != "--preview-only"]
    for arg in sizes or ["1000", "5000"]:
        bench(int(arg), lanes, with_up="--preview-only" not in argv)
