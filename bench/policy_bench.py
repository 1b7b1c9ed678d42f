"""Benchmark: extra `pulumi preview` time caused by the copilot-seats policy pack.

Seeds the simulator with N direct seats (default 5,000; a deterministic mix of fresh, stale,
never-used and pending seats), declares all of them in seats.yaml, and times the same preview
with and without ``--policy-pack policies``, alternating runs so machine load hits both alike.
Reports medians, the ratio with/without and the pack's share, as JSON on stdout.

Run from the repository root (needs the pinned engine, like the e2e tests)::

    eval "$(scripts/setup.sh --print-env)"
    python bench/policy_bench.py [--seats 5000] [--repeat 3] [--after-up]

``--after-up`` first applies the stack, so previews judge existing resources (the pull-request
case: check + diff per seat) instead of a fresh stack (check only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from engine import PulumiWorkspace  # noqa: E402  (tests/engine.py: the e2e harness)

from copilot_seats import __version__  # noqa: E402
from copilot_seats.simulator import SimulatorServer, load_fixture  # noqa: E402

ORG = "bench-org"
TOKEN = "bench-token"
_PROFILES = (  # (share out of 20, seat times)
    (12, {"last_activity_at": {"days_ago": 3}, "last_activity_editor": "vscode/1.99.0/copilot/1.300.0"}),
    (3, {"last_activity_at": {"days_ago": 75}, "last_activity_editor": "JetBrains-IU/2024.3/copilot/1.5"}),
    (3, {"last_activity_at": None}),
    (1, {"last_activity_at": {"days_ago": 20}, "pending_cancellation": True}),
    (1, {"last_activity_at": None, "created_at": {"days_ago": 2}}),
)


def fixture(seats: int) -> dict[str, Any]:
    """An org with ``seats`` direct seats cycling through :data:`_PROFILES`."""
    cycle = [times for share, times in _PROFILES for _ in range(share)]
    rows = [{"login": f"user{n:05d}", "created_at": {"days_ago": 200}, **cycle[n % len(cycle)]}
            for n in range(seats)]
    return {"organizations": [{"login": ORG, "seat_management_setting": "assign_selected",
                               "plan_type": "business", "members": [r["login"] for r in rows], "seats": rows}]}


def seats_yaml(seats: int) -> str:
    users = "".join(f"  user{n:05d}:\n    owner: bench\n" for n in range(seats))
    return f"organization: {ORG}\nsettings:\n  mode: additive\nusers:\n{users}"


def _timed(ws: PulumiWorkspace, with_pack: bool) -> float:
    start = time.perf_counter()
    result = ws.preview(policy_pack="policies" if with_pack else None)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"preview failed:\n{result.output[-4000:]}")
    return elapsed


def run(seats: int, repeat: int, after_up: bool) -> dict[str, Any]:
    state = load_fixture(fixture(seats), token=TOKEN)
    with SimulatorServer(state) as server, tempfile.TemporaryDirectory(prefix="policy-bench-") as tmp:
        env = {"GITHUB_API_URL": server.base_url, "GITHUB_TOKEN": TOKEN, "COPILOT_SEATS_WRITE_SPACING": "0"}
        ws = PulumiWorkspace(Path(tmp), seats_yaml(seats), extra_env=env)
        ws.init_stack("bench")
        if after_up:
            result = ws.up()
            if result.returncode != 0:
                raise SystemExit(f"up failed:\n{result.output[-4000:]}")
        without: list[float] = []
        with_pack: list[float] = []
        for _ in range(repeat):
            without.append(_timed(ws, False))
            with_pack.append(_timed(ws, True))
        violations = ws.preview().stdout.count(f"copilot-seats v{__version__}")
    base, packed = statistics.median(without), statistics.median(with_pack)
    return {
        "seats": seats, "repeat": repeat, "stack": "applied" if after_up else "fresh",
        "preview_without_pack_s": round(base, 2), "preview_with_pack_s": round(packed, 2),
        "runs_without_s": [round(t, 2) for t in without], "runs_with_s": [round(t, 2) for t in with_pack],
        "ratio_with_over_without": round(packed / base, 3), "pack_overhead_s": round(packed - base, 2),
        "violations_reported": violations,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--after-up", action="store_true", help="apply the stack first (existing resources)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.seats, args.repeat, args.after_up), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
