"""Leaving with the Pulumi CLI that started this process, however it ended.

The engine starts our code in two processes: the program (CLI -> language host -> python) and
the ``copilot`` provider plugin. When the CLI dies without cleaning up (``kill -9``, OOM, a CI
runner cancelled), nothing tells them: they would keep their gRPC servers, GitHub clients and
the token in memory for good (program processes of killed runs were seen alive 37 minutes
later). :func:`start_watch`, called by both at start, runs a daemon thread that exits the
process within about a second once the CLI or an ancestor up to it is gone. It uses Linux's
``/proc``; elsewhere it falls back to noticing that the parent process changed.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

__all__ = ["POLL_SECONDS", "start_watch", "watched_ancestors"]

POLL_SECONDS = 0.5
_MAX_HOPS = 4
_started = threading.Event()


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(command name, parent pid, start time) of ``pid`` from /proc, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, int(fields[1]), fields[19]


def _cli_pid() -> int | None:
    pid = os.getppid()
    for _ in range(_MAX_HOPS):
        info = _stat(pid)
        if info is None:
            return None
        if info[0] == "pulumi":
            return pid
        pid = info[1]
    return None


def watched_ancestors() -> list[tuple[int, str]]:
    """(pid, start time) of each ancestor up to and including the ``pulumi`` CLI (at most 4)."""
    chain: list[tuple[int, str]] = []
    pid = os.getppid()
    for _ in range(_MAX_HOPS):
        info = _stat(pid)
        if info is None:
            break
        chain.append((pid, info[2]))
        if info[0] == "pulumi":
            return chain
        pid = info[1]
    return chain[:1]  # no CLI found (tests, another launcher): the direct parent only


def _alive(pid: int, started: str) -> bool:
    info = _stat(pid)
    return info is not None and info[2] == started


def _watch(parent: int, ancestors: list[tuple[int, str]]) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent or not all(_alive(pid, started) for pid, started in ancestors):
            os._exit(1)  # the engine is gone: nobody will call us again; leave without cleanup hooks


def start_watch() -> bool:
    """Exit this process when the CLI dies; idempotent. Returns whether a watch is running."""
    if _started.is_set():
        return True
    _started.set()
    ancestors = watched_ancestors() if Path("/proc/self/stat").exists() else []
    threading.Thread(target=_watch, args=(os.getppid(), ancestors), name="copilot-seats-lifeline",
                     daemon=True).start()
    return True
