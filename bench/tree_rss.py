"""Run one command; write its wall time and the peak RSS of any process in its tree as JSON.

Usage: ``python bench/tree_rss.py OUT.json -- COMMAND [ARG ...]`` (stdout, stderr and the exit
code are the command's).

Why this way: ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the largest peak RSS among the
descendants that were *reaped* (Linux folds a child's own reaped children into it when it is
waited for), so it covers the CLI, the language host, the program and every plugin — provided
each was waited for inside the tree. A plugin the CLI leaves running, or does not wait for,
is re-parented to init and drops out. So this wrapper makes itself a child subreaper
(``PR_SET_CHILD_SUBREAPER``): orphans of the tree become its children, it reaps them after the
command exits (killing any still alive after a grace period, and counting them in
``leftover``), and their peaks count too. No polling, so no missed short-lived peak.

Which process peaked is not in rusage, so a sampler also reads each descendant's ``VmHWM``
(its own peak RSS) from /proc every 0.25 s, by program (``pulumi``, ``pulumi-language-python``,
``python pulumi-language-python-exec`` = the Pulumi program, ``python noop_provider.py``...).
It can miss growth in a process's last 0.25 s, so ``peak_rss_kb`` stays the rusage figure.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
GRACE_SECONDS = 20.0


def _children() -> list[int]:
    """Live children of this process (orphans re-parented to us), from /proc."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:  # field 4, after the parenthesized name
            found.append(int(entry.name))
    return found


def _parents() -> dict[int, int]:
    """pid -> ppid of every process, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                out[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return out


def _label(pid: int) -> str:
    """A process's program: the executable's name, and for Python the script's."""
    args = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    if not args:  # a zombie: nothing left to measure
        return ""
    name = Path(args[0]).name
    script = next((a for a in args[1:] if not a.startswith("-")), "")
    return f"python {Path(script).name}" if name.startswith("python") and script else name


class Sampler(threading.Thread):
    """Peak ``VmHWM`` (KiB) per program among this process's descendants, until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[str, int] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.25):
            self.sample()

    def sample(self) -> None:
        parents, me = _parents(), os.getpid()
        for pid in parents:
            ancestor, hops = parents.get(pid), 0
            while ancestor not in (None, 0, 1, me) and hops < 64:
                ancestor, hops = parents.get(ancestor), hops + 1
            if ancestor != me:
                continue
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                label = _label(pid)
            except OSError:
                continue
            if not label:
                continue
            hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
            self.peaks[label] = max(self.peaks.get(label, 0), hwm)


def _reap_orphans() -> int:
    """Wait for every re-parented orphan; kill the ones alive after the grace period. Returns
    how many had to be killed."""
    deadline, killed = time.monotonic() + GRACE_SECONDS, 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return killed
        if pid:
            continue
        if time.monotonic() > deadline:
            for child in _children():
                os.kill(child, signal.SIGKILL)
                killed += 1
            deadline = float("inf")
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit(__doc__)
    out, command = Path(argv[0]), argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit(f"prctl(PR_SET_CHILD_SUBREAPER) failed: errno {ctypes.get_errno()}")
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    returncode = subprocess.call(command)
    wall = time.perf_counter() - start
    sampler.stopped.set()
    sampler.join()
    leftover = _reap_orphans()
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    out.write_text(json.dumps({"wall_s": wall, "peak_rss_kb": peak_kb, "returncode": returncode,
                               "leftover_killed": leftover, "peak_rss_kb_by_program": sampler.peaks}))
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
