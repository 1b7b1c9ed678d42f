"""The table and the PASS/MISS verdicts of bench/scale_bench.py (the organization-scope targets)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Protocol

RATIO_LIMIT = 2.0
LINEAR_SLACK = 1.2  # t(10 N)/t(N) <= 12 is 1.2x linear
PREVIEW_LIMITS = {10_000: (15.0, 300.0), 100_000: (90.0, 1500.0)}
"""N -> (seconds, peak MB) a preview of a new stack may take, its pages read included."""
DIFF_TEXT_N, DIFF_TEXT_KB = 10_000, 10.0
MAX_RESOURCES = 6
OPS = ("import", "preview-new", "up-adopt", "preview-diff", "preview-same", "up-grant", "up-revoke", "destroy")
KINDS = ("pages", "billing", "+users", "-users", "+teams", "-teams", "other")


class Op(Protocol):
    op: str
    n: int
    program: str
    wall_s: float
    peak_rss_mb: float
    peak_program: str
    state_kb: float
    resources: int
    output_kb: float
    requests: dict[str, int]
    writes: int
    logins_written: int
    check: str
    error: str


class K(Protocol):
    k: int
    action: str
    wall_s: float
    writes: int
    logins_written: int
    budget: int
    check: str


def _row(cells: Sequence[object], widths: Sequence[int]) -> str:
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                                strict=True)))


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    print(_row(header, widths))
    for row in rows:
        print(_row(row, widths))


_ALIASES = {"python pulumi-language-python-exec": "program", "python pulumi.dynamic": "dynamic provider"}


def _short(program: str) -> str:
    """A program label of bench/tree_rss.py as the table shows it."""
    return _ALIASES.get(program, program.removeprefix("python ")) or "-"


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _wall(by: dict[tuple[str, int, str], Op], op: str, n: int, program: str) -> float | None:
    """Wall time of a successful op, else None."""
    r = by.get((op, n, program))
    return r.wall_s if r is not None and not r.error and r.wall_s > 0 else None


def report(results: Sequence[Op], ks: Sequence[K], sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Print the tables and verdicts; return the verdicts (name, value, limit, passed)."""
    by = {(r.op, r.n, r.program): r for r in results}
    targets: list[dict[str, Any]] = []

    def verdict(name: str, value: float, limit: float, passed: bool, note: str = "") -> None:
        targets.append({"name": name, "value": round(value, 3), "limit": limit, "passed": passed, "note": note})

    rows = []
    for n in sizes:
        for op in OPS:
            seat, base = by.get((op, n, "seats")), by.get((op, n, "noop"))
            if seat is None:
                continue
            usable = base is not None and not base.error and not seat.error and base.wall_s > 0
            ratio = seat.wall_s / base.wall_s if usable and base else None
            status = seat.error.splitlines()[0][:60] if seat.error else seat.check
            rows.append([op, n, _f(seat.wall_s), _f(base.wall_s if base else None), _f(ratio, 2),
                         *(seat.requests.get(k, 0) for k in KINDS), seat.writes, seat.logins_written,
                         _f(seat.peak_rss_mb, 0), _short(seat.peak_program),
                         _f(base.peak_rss_mb if base else None, 0),
                         _f(seat.state_kb, 0), _f(base.state_kb if base else None, 0), seat.resources,
                         _f(seat.output_kb), status])
            if seat.error or (base and base.error):
                verdict(f"{op} N={n} ran", 0, 0, False, (seat.error or (base.error if base else "")).splitlines()[0])
            elif ratio is not None:
                verdict(f"{op} N={n} <= {RATIO_LIMIT}x baseline", ratio, RATIO_LIMIT, ratio <= RATIO_LIMIT)
            if seat.check and seat.check != "ok" and not seat.error:
                verdict(f"{op} N={n} sent the expected writes", 0, 0, False, seat.check)
    if rows:
        print()
        _table(["op", "N", "wall s", "base s", "ratio", *KINDS, "writes", "logins", "RSS MB", "peak in", "base RSS",
                "state KB", "base KB", "res", "out KB", "check"], rows)

    ok = [r for r in results if not r.error]
    for n, (seconds, megabytes) in PREVIEW_LIMITS.items():
        preview = by.get(("preview-new", n, "seats"))
        if preview and not preview.error:
            verdict(f"preview-new N={n} <= {seconds:g} s", preview.wall_s, seconds, preview.wall_s <= seconds)
            verdict(f"preview-new N={n} <= {megabytes:g} MB", preview.peak_rss_mb, megabytes,
                    preview.peak_rss_mb <= megabytes)
    diff = by.get(("preview-diff", DIFF_TEXT_N, "seats"))
    if diff and not diff.error:
        verdict(f"preview --diff +30/-15 N={DIFF_TEXT_N} <= {DIFF_TEXT_KB:g} KB", diff.output_kb, DIFF_TEXT_KB,
                diff.output_kb <= DIFF_TEXT_KB)
    most = max((r.resources for r in ok if r.program == "seats"), default=0)
    if most:
        verdict(f"resources in the state <= {MAX_RESOURCES}", most, MAX_RESOURCES, most <= MAX_RESOURCES)
    ordered = sorted(set(sizes))
    for low, high in itertools.pairwise(ordered):
        limit = LINEAR_SLACK * high / low
        print(f"\nscaling t({high})/t({low}) (target <= {limit:g}; linear = {high / low:g}):")
        for op in OPS[1:]:
            seat_low, seat_high = _wall(by, op, low, "seats"), _wall(by, op, high, "seats")
            base_low, base_high = _wall(by, op, low, "noop"), _wall(by, op, high, "noop")
            if seat_low and seat_high:
                scale = seat_high / seat_low
                base_scale = base_high / base_low if base_low and base_high else None
                print(f"  {op:12s} seats x{scale:.1f}  baseline x{_f(base_scale)}")
                if high == 10 * low:
                    verdict(f"{op} t({high})/t({low}) <= {limit:g}", scale, limit, scale <= limit)
    if ks:
        print()
        _table(["K", "action", "writes", "budget", "logins", "wall s", "check"],
               [[k.k, k.action, k.writes, k.budget, k.logins_written, _f(k.wall_s), k.check[:100]] for k in ks])
        for k in ks:
            verdict(f"{k.action} K={k.k} <= ceil(K/100)+1 writes", k.writes, k.budget,
                    k.writes <= k.budget and k.check == "ok", "" if k.check == "ok" else k.check)
    print()
    for t in targets:
        value = f"{t['value']:g}" if t["limit"] else ""
        print(f"  [{'PASS' if t['passed'] else 'MISS'}] {t['name']}: {value} {t['note']}".rstrip())
    return targets
