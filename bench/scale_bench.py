"""Benchmark (organization scope): copilot-seats at 1,000 / 10,000 / 100,000 seats, one resource per org.

For each N, against a fresh simulator holding N direct seats (plus N/10 seat-less members), it
drives the real project through the CLI with the engine's defaults (per-step checkpoints, a
plain previewed ``up``) and times:

1. ``preview-new``   preview of a new stack after ``copilot-seats import`` wrote seats.yaml;
2. ``up-adopt``      the first ``up`` (adoption: 0 writes expected);
3. ``preview-diff``  ``preview --diff`` of a change adding 30 and removing 15 entries (its text
   size is the figure: what a reviewer reads); the change is then undone;
4. ``preview-same``  a no-change preview (``--expect-no-changes``);
5. ``up-grant``      ``up`` after adding N/10 members to seats.yaml;
6. ``up-revoke``     ``up`` after removing N/10 entries (mass-removal guard allowed);
7. ``destroy``       ``pulumi destroy`` (guard allowed): revokes every managed seat;

and the same ops on a no-op program holding the same N entries (a dozen strings each) in one
``noop:index:Things`` resource (bench/noop_provider, a native plugin), interleaved op by op so
machine load hits both alike. Per op: wall time, requests by kind from the simulator's log,
writes and logins written (checked against what the op must send), peak RSS of any process of
the command's tree (bench/tree_rss.py), the checkpoint's size and resource count, and the
output's size. Then the write-request cost of granting and revoking K seats (K = 1, 10, 500,
5,000), and PASS/MISS against the targets (bench/bench_report.py).

Usage (after ``eval "$(scripts/setup.sh --print-env)"``)::

    python bench/scale_bench.py [N ...] [--quick] [--k K ...] [--json out.json]
        [--engine pinned|current] [--policy-pack] [--k-real-spacing] [--set-env KEY=VALUE]
        [--only ops|k] [--timeout S]
    # default N: 1000 10000 100000, K: 1 10 500 5000; --quick: N=200, K=1 10 50

The engine environment of every run is :data:`scale_projects.ENGINE_ENV` (no write spacing);
``--set-env KEY=`` removes a key. ``--k-real-spacing`` runs the K measurements with the default
write spacing (wall time of a real rollout; same counts).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scale_projects as sp
from bench_report import KINDS, report

from copilot_seats.simulator import RequestRecord, SimState, SimulatorServer, load_fixture


@dataclass
class OpResult:
    """One op of one program at one N (``program``: ``seats`` or ``noop``)."""

    op: str
    n: int
    program: str
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    peak_program: str = ""
    rss_mb_by_program: dict[str, float] = field(default_factory=dict)
    state_kb: float = 0.0
    resources: int = 0
    output_kb: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)
    writes: int = 0
    logins_written: int = 0
    check: str = ""
    error: str = ""


@dataclass
class KResult:
    """Granting or revoking K seats in one ``up``."""

    k: int
    action: str
    wall_s: float
    writes: int
    logins_written: int
    budget: int
    check: str


def request_kind(record: RequestRecord) -> str:
    path = record.path
    if record.method == "GET" and path.endswith("/copilot/billing/seats"):
        return "pages"
    if record.method == "GET" and path.endswith("/copilot/billing"):
        return "billing"
    sign = {"POST": "+", "DELETE": "-"}.get(record.method)
    for endpoint, kind in (("/selected_users", "users"), ("/selected_teams", "teams")):
        if sign and path.endswith(endpoint):
            return sign + kind
    return "other"


def written(records: Sequence[RequestRecord], method: str) -> list[str]:
    """Logins (casefolded, with repeats) in the ``selected_users`` bodies of ``method`` requests."""
    return [str(name).casefold() for r in records if r.method == method and r.path.endswith("/selected_users")
            for name in (r.body or {}).get("selected_usernames", [])]


def expect(records: Sequence[RequestRecord], grants: Sequence[str] = (), revokes: Sequence[str] = ()) -> str:
    """``ok``, or how the op's writes differ from the grants and revocations it must send (once each)."""
    problems = []
    for method, wanted, label in (("POST", grants, "granted"), ("DELETE", revokes, "revoked")):
        sent, want = Counter(written(records, method)), Counter(w.casefold() for w in wanted)
        if sent != want:
            missing, extra = sum((want - sent).values()), sum((sent - want).values())
            problems.append(f"{label} {sum(sent.values())} (want {len(wanted)}: {missing} missing, {extra} extra)")
    teams = sum(1 for r in records if r.path.endswith("/selected_teams") and r.method != "GET")
    if teams:
        problems.append(f"{teams} team writes")
    return "; ".join(problems) or "ok"


class Measurer:
    """Runs ops in a workspace and turns each into an :class:`OpResult`."""

    def __init__(self, sim: SimState | None, timeout: float) -> None:
        self.sim, self.timeout = sim, timeout

    def op(self, result: OpResult, ws: sp.Workspace, args: Sequence[str], extra_env: dict[str, str],
           check: Callable[[Sequence[RequestRecord]], str] | None = None) -> OpResult:
        before = len(self.sim.log.all()) if self.sim else 0
        try:
            run = ws.pulumi(*args, extra_env=extra_env, timeout=self.timeout)
        except sp.Failed as err:
            result.error = str(err)
            return result
        records = self.sim.log.all()[before:] if self.sim else []
        result.wall_s, result.peak_rss_mb, result.peak_program = run.wall_s, run.peak_rss_kb / 1024, run.peak_program
        result.rss_mb_by_program = {k: round(v / 1024, 1) for k, v in run.peak_rss_kb_by_program.items()}
        result.state_kb = ws.state_bytes() / 1024
        result.resources = ws.state_resources()
        result.output_kb = len(run.output.encode()) / 1024
        kinds = Counter(request_kind(r) for r in records)
        result.requests = {k: kinds.get(k, 0) for k in KINDS}
        result.writes = sum(1 for r in records if r.method not in ("GET", "HEAD"))
        result.logins_written = len(written(records, "POST")) + len(written(records, "DELETE"))
        result.check = check(records) if check and self.sim else ""
        if run.leftover_killed:
            result.check += f" ({run.leftover_killed} process(es) outlived the CLI and were killed)"
        return result


def bench_n(n: int, engine: sp.Engine, env: dict[str, str], pack: bool, timeout: float) -> list[OpResult]:
    """The six ops on both programs at one N (interleaved), against a fresh simulator."""
    step = max(n // 10, 1)
    added = [sp.member_login(i) for i in range(step)]
    removed = [sp.seat_login(i) for i in range(step)]
    gone = set(removed)
    state = load_fixture(sp.fixture(n, [*added, *(sp.member_login(i, "pr") for i in range(30))]), token=sp.TOKEN)
    server = SimulatorServer(state).start()
    results: list[OpResult] = []
    try:
        with tempfile.TemporaryDirectory(prefix=f"copilot-seats-scale-{n}-") as tmp:
            sim_env = {**env, "GITHUB_API_URL": server.base_url, "GITHUB_TOKEN": sp.TOKEN}
            seats = sp.seats_workspace(Path(tmp) / "seats", engine, sim_env)
            noop = sp.noop_workspace(Path(tmp) / "noop", engine, env, [sp.seat_login(i) for i in range(n)])
            seats_file = seats.project / "seats.yaml"
            for ws in (seats, noop):
                ws.pulumi("stack", "init", sp.STACK)
            imported = seats.run(["copilot-seats", "import", "--org", sp.ORG, "-o", str(seats_file)])
            results.append(OpResult("import", n, "seats", wall_s=imported.wall_s,
                                    peak_rss_mb=imported.peak_rss_kb / 1024, peak_program=imported.peak_program,
                                    check="ok" if len(sp.seats_users(seats_file.read_text())) == n else
                                    f"imported {len(sp.seats_users(seats_file.read_text()))} users, want {n}"))
            pack_args = ["--policy-pack", sp.policy_pack_arg(seats)] if pack else []
            measure, baseline = Measurer(state, timeout), Measurer(None, timeout)
            up, destroy = ["up", "--yes"], ["destroy", "--yes"]
            plus = [sp.member_login(i, "pr") for i in range(30)]
            minus = [sp.seat_login(n - 1 - i) for i in range(15)]
            everything = sp.seats_users(seats_file.read_text()) + added
            plan: list[tuple[str, list[str], dict[str, str], Callable[[Sequence[RequestRecord]], str]]] = [
                ("preview-new", ["preview", *pack_args], {}, expect),
                ("up-adopt", [*up, *pack_args], {}, expect),
                ("preview-diff", ["preview", "--diff", *pack_args], {}, expect),
                ("preview-same", ["preview", "--expect-no-changes", *pack_args], {}, expect),
                ("up-grant", [*up, *pack_args], {}, lambda r: expect(r, grants=added)),
                ("up-revoke", [*up, *pack_args], sp.ALLOW_REMOVAL, lambda r: expect(r, revokes=removed)),
                ("destroy", destroy, sp.ALLOW_REMOVAL,
                 lambda r: expect(r, revokes=[u for u in everything if u not in gone])),
            ]
            failed = {"seats": False, "noop": False}
            for op, args, extra, check in plan:
                if op == "preview-diff":
                    saved_seats, saved_names = seats_file.read_text(), sp.read_names(noop)
                    seats_file.write_text(sp.seats_remove(sp.seats_add(saved_seats, plus), minus))
                    sp.write_names(noop, [x for x in saved_names if x not in set(minus)] + plus)
                if op == "preview-same":
                    seats_file.write_text(saved_seats)
                    sp.write_names(noop, saved_names)
                if op == "up-grant":
                    seats_file.write_text(sp.seats_add(seats_file.read_text(), added))
                    sp.write_names(noop, sp.read_names(noop) + added)
                if op == "up-revoke":
                    seats_file.write_text(sp.seats_remove(seats_file.read_text(), removed))
                    sp.write_names(noop, [x for x in sp.read_names(noop) if x not in gone])
                for program, ws, measurer in (("seats", seats, measure), ("noop", noop, baseline)):
                    result = OpResult(op, n, program)
                    if failed[program]:
                        result.error = "skipped: an earlier op failed"
                    else:
                        measurer.op(result, ws, args if program == "seats" else
                                    [a for a in args if a not in pack_args], extra, check)
                        failed[program] = bool(result.error)
                    results.append(result)
                    _progress(result)
    finally:
        server.stop()
    return results


def bench_k(ks: Sequence[int], engine: sp.Engine, env: dict[str, str], timeout: float) -> list[KResult]:
    """Write requests of granting K seats in one ``up``, then revoking them in the next, per K.

    One dedicated org whose members hold no seat; each K uses its own logins, so no earlier
    grant or pending cancellation stands in the way."""
    offsets = [sum(ks[:i]) for i in range(len(ks))]
    members = [sp.member_login(i, "k") for i in range(sum(ks))]
    # the +30 of preview-diff are members too (bench_n adds them to the fixture)
    state = load_fixture(sp.fixture(0, members), token=sp.TOKEN)
    server = SimulatorServer(state).start()
    out: list[KResult] = []
    try:
        with tempfile.TemporaryDirectory(prefix="copilot-seats-scale-k-") as tmp:
            ws = sp.seats_workspace(Path(tmp), engine,
                                    {**env, "GITHUB_API_URL": server.base_url, "GITHUB_TOKEN": sp.TOKEN})
            empty = f"organization: {sp.ORG}\nsettings:\n  mode: additive\nusers: {{}}\nteams: {{}}\n"
            seats_file = ws.project / "seats.yaml"
            seats_file.write_text(empty)
            ws.pulumi("stack", "init", sp.STACK)
            ws.pulumi("up", "--yes", timeout=timeout)
            for k, offset in zip(ks, offsets, strict=True):
                logins = members[offset:offset + k]
                for action, text, extra in (("grant", sp.seats_add(empty, logins), {}),
                                            ("revoke", empty, sp.ALLOW_REMOVAL)):
                    seats_file.write_text(text)
                    before, failure = len(state.log.all()), ""
                    try:
                        wall = ws.pulumi("up", "--yes", extra_env=extra, timeout=timeout).wall_s
                    except sp.Failed as err:
                        wall, failure = 0.0, str(err)
                    records = state.log.all()[before:]
                    check = expect(records, grants=logins) if action == "grant" else expect(records, revokes=logins)
                    writes = sum(1 for r in records if r.method not in ("GET", "HEAD"))
                    out.append(KResult(k, action, wall, writes,
                                       len(written(records, "POST")) + len(written(records, "DELETE")),
                                       math.ceil(k / 100) + 1, f"FAILED: {failure.splitlines()[0]}; {check}"
                                       if failure else check))
                    print(f"  K={k} {action}: {writes} write requests ({out[-1].logins_written} logins) "
                          f"in {wall:.1f} s, {out[-1].check}", flush=True)
                    if failure:  # the stack is no longer in a known state: stop here
                        print(failure, flush=True)
                        return out
    except sp.Failed as err:
        print(f"  K measurement could not start: {err}", flush=True)
    finally:
        server.stop()
    return out


def _progress(r: OpResult) -> None:
    status = r.error.splitlines()[0] if r.error else (r.check or "ok")
    print(f"  N={r.n} {r.op:12s} {r.program:5s} {r.wall_s:8.1f} s  writes {r.writes:5d}  "
          f"RSS {r.peak_rss_mb:6.0f} MB ({r.peak_program})  state {r.state_kb:8.0f} KB/{r.resources} res  "
          f"out {r.output_kb:7.1f} KB  {status}", flush=True)
    if r.error:
        print(r.error, flush=True)


def _env(overrides: Sequence[str]) -> dict[str, str]:
    env = dict(sp.ENGINE_ENV)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set-env takes KEY=VALUE (got {item!r})")
        if value:
            env[key] = value
        else:
            env.pop(key, None)
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, help="seat counts N (default: 1000 10000 100000)")
    parser.add_argument("--quick", action="store_true", help="smoke test: N=200, K=1 10 50")
    parser.add_argument("--k", nargs="*", type=int, help="K for the write counts (default 1 10 500 5000; "
                                                          "`--k` alone skips them)")
    parser.add_argument("--k-real-spacing", action="store_true",
                        help="measure K with the default write spacing (slower wall time, same counts)")
    parser.add_argument("--only", choices=("ops", "k"), help="run only the per-N ops, or only the K write counts")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--engine", choices=("pinned", "current"),
                        default=os.environ.get("COPILOT_SEATS_ENGINE") or "pinned")
    parser.add_argument("--policy-pack", action="store_true",
                        help="run the seats previews/ups with the policy pack (the baseline has none)")
    parser.add_argument("--set-env", action="append", default=[], metavar="KEY=VALUE",
                        help="change ENGINE_ENV for every run (KEY= removes the key)")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds per CLI command")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([200] if args.quick else [1000, 10000, 100000])
    ks = args.k if args.k is not None else ([1, 10, 50] if args.quick else [1, 10, 500, 5000])
    env = _env(args.set_env)
    engine = sp.Engine.provide(args.engine)
    meta = {"engine": args.engine, "cli": engine.version(), "env": env, "policy_pack": args.policy_pack,
            "cpus": os.cpu_count(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "load_avg_start": os.getloadavg()}
    print(f"engine {args.engine} {meta['cli']}, env {env}", flush=True)
    results: list[OpResult] = []
    for n in sizes if args.only != "k" else []:
        print(f"N={n}", flush=True)
        results += bench_n(n, engine, env, args.policy_pack, args.timeout)
    k_env = {key: v for key, v in env.items() if key != "COPILOT_SEATS_WRITE_SPACING"} if args.k_real_spacing else env
    k_results = bench_k(ks, engine, k_env, args.timeout) if ks and args.only != "ops" else []
    meta["load_avg_end"] = os.getloadavg()
    targets = report(results, k_results, sizes if args.only != "k" else [])
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "ops": [asdict(r) for r in results],
                                         "k": [asdict(k) for k in k_results], "targets": targets}, indent=2))
        print(f"results: {args.json}")
    return 0 if all(t["passed"] for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
