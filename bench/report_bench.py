"""Benchmark `copilot-seats report` over 1,000 / 10,000 / 50,000 simulated seats.

For each size: generate a fixture (N seats, 10% of them declared in a generated seats.yaml), start
the simulator as a subprocess (``copilot-seats simulate``), run the real console script
``copilot-seats report --format json`` against it, and measure

* requests made (from the simulator's log; must be 1 billing GET + ceil(N/100) listing GETs),
* wall time, CPU seconds (user+sys) and peak RSS of the report process (``os.wait4``),
* peak Python heap of fetch+compare+render in-process (``tracemalloc``).

Prints a table and the ratios between sizes. Usage: ``python bench/report_bench.py [N ...]``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

SCRIPT = Path(sys.executable).parent / "copilot-seats"
TOKEN = "bench-token"
SIZES = (1_000, 10_000, 50_000)


def make_fixture(n: int) -> dict[str, Any]:
    seats = []
    for i in range(n):
        activity = None if i % 7 == 0 else {"days_ago": i % 120}
        seats.append({"login": f"user-{i:06d}", "created_at": {"days_ago": 200},
                      "last_activity_at": activity,
                      "last_activity_editor": None if activity is None else "vscode/1.99.0/copilot/1.300.0"})
    return {"organizations": [{"login": "bench-org", "seats": seats}]}


def make_seats_yaml(n: int) -> str:
    lines = ["organization: bench-org", "users:"]
    for i in range(0, n, 10):
        lines += [f"  user-{i:06d}:", "    owner: bench", "    reason: benchmark"]
    return "\n".join(lines) + "\n"


def start_simulator(fixture: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([str(SCRIPT), "simulate", "--fixture", str(fixture), "--token", TOKEN],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("SIMULATOR_URL="):
        proc.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return proc, line.split("=", 1)[1]


def run_report(url: str, seats: Path) -> dict[str, float]:
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": url}
    started = time.perf_counter()
    proc = subprocess.Popen([str(SCRIPT), "report", "--seats", str(seats), "--format", "json",
                             "--output", os.devnull], env=env, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"report failed: {proc.stderr.read() if proc.stderr else ''}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_mb": usage.ru_maxrss / 1024}


def in_process_heap(url: str, seats: Path) -> float:
    """Peak traced Python memory (MB) of load + fetch + compare + render, in this process."""
    from copilot_seats.decisions.analysis import compare, estimated_monthly_cost, seat_price
    from copilot_seats.desired.loader import load_spec
    from copilot_seats.github.api import CopilotClient
    from copilot_seats.github.live import fetch_snapshot
    from copilot_seats.reports.render import render, report_data

    tracemalloc.start()
    spec = load_spec(seats)
    with CopilotClient(url, TOKEN, read_only=True) as client:
        snapshot = fetch_snapshot(client, spec.organization)
    now = datetime.now(UTC)
    comparison = compare(spec, snapshot, now)
    render("json", report_data(comparison, snapshot, estimated_monthly_cost(snapshot, spec.settings),
                               seat_price(spec.settings)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def bench(n: int, workdir: Path) -> dict[str, float]:
    fixture, seats = workdir / f"fixture-{n}.json", workdir / f"seats-{n}.yaml"
    fixture.write_text(json.dumps(make_fixture(n)))
    seats.write_text(make_seats_yaml(n))
    proc, url = start_simulator(fixture)
    try:
        with httpx.Client() as admin:
            admin.delete(f"{url}/_simulator/requests")
            result = run_report(url, seats)
            requests = len(admin.get(f"{url}/_simulator/requests").json())
            admin.delete(f"{url}/_simulator/requests")
            result["heap_mb"] = in_process_heap(url, seats)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    expected = 1 + math.ceil(n / 100)
    if requests != expected:
        raise AssertionError(f"N={n}: {requests} requests, expected {expected}")
    return {"seats": n, "requests": requests, "expected": expected, **result}


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or list(SIZES)
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench(n, Path(tmp)) for n in sizes]
    print(f"{'seats':>7} {'requests':>8} {'=1+ceil(N/100)':>14} {'wall s':>7} {'cpu s':>6} {'maxrss MB':>9} "
          f"{'heap MB':>8}")
    for r in results:
        print(f"{r['seats']:>7} {r['requests']:>8} {r['expected']:>14} {r['wall_s']:>7.2f} {r['cpu_s']:>6.2f} "
              f"{r['maxrss_mb']:>9.1f} {r['heap_mb']:>8.1f}")
    for small, big in itertools.pairwise(results):
        ratio = big["seats"] / small["seats"]
        print(f"x{ratio:g} seats ({small['seats']} -> {big['seats']}): "
              f"requests x{big['requests'] / small['requests']:.1f}, "
              f"cpu x{big['cpu_s'] / small['cpu_s']:.1f}, wall x{big['wall_s'] / small['wall_s']:.1f}, "
              f"maxrss x{big['maxrss_mb'] / small['maxrss_mb']:.1f}, heap x{big['heap_mb'] / small['heap_mb']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
