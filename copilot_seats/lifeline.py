"""Where a process stands relative to the Pulumi CLI that started it, and leaving with it.

The engine starts our code in two processes: the program (CLI -> language host -> python) and
the dynamic provider (CLI -> ``pulumi-resource-pulumi-python``, a shell script -> python, which
does not ``exec``). When the CLI dies without cleaning up (``kill -9``, OOM, a CI runner
cancelled), nothing tells the provider: it would keep its gRPC server, its GitHub client and
the token in memory forever. :func:`start_watch` (called where the provider classes are
defined) starts a daemon thread that exits the provider process within about a second once the
CLI or its direct parent is gone.

:func:`cli_arguments` lets the program read the CLI's command line (e.g. to know that a
``--refresh`` already read GitHub before the program ran). Both use Linux's ``/proc``; elsewhere
the watch falls back to noticing that the parent process changed, and ``cli_arguments`` is
``None``.

:func:`plain_provider_errors` makes the provider host report our typed errors as their message
instead of a Python traceback (see :class:`_ProviderErrors`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["POLL_SECONDS", "cli_arguments", "is_dynamic_provider", "plain_provider_errors", "start_watch",
           "watched_ancestors"]

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


def cli_arguments() -> list[str] | None:
    """The argv of the ``pulumi`` CLI process this process descends from, or None if unknown."""
    pid = _cli_pid()
    if pid is None:
        return None
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


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


def is_dynamic_provider() -> bool:
    """Whether this process is Pulumi's Python dynamic provider host (``python -m pulumi.dynamic``)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "pulumi.dynamic.__main__"


def _alive(pid: int, started: str) -> bool:
    info = _stat(pid)
    return info is not None and info[2] == started


def _watch(parent: int, ancestors: list[tuple[int, str]]) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent or not all(_alive(pid, started) for pid, started in ancestors):
            os._exit(1)  # the engine is gone: nobody will call us again; leave without cleanup hooks


def start_watch(*, force: bool = False) -> bool:
    """In the dynamic provider process (or with ``force``), exit when the CLI dies; idempotent.

    Returns whether a watch is running.
    """
    if _started.is_set():
        return True
    if not (force or is_dynamic_provider()):
        return False
    _started.set()
    ancestors = watched_ancestors() if Path("/proc/self/stat").exists() else []
    threading.Thread(target=_watch, args=(os.getppid(), ancestors), name="copilot-seats-lifeline",
                     daemon=True).start()
    return True


class _ProviderErrors:
    """Stands in for the ``traceback`` module inside ``pulumi.dynamic.__main__``.

    The dynamic provider host of the pinned SDK aborts every failed call with
    ``traceback.format_exc()`` as the error text, so a GitHub error during ``up`` or ``refresh``
    reached the user as a Python traceback. Our errors are typed and already say what and where:
    for them the text is the message; anything else (a bug) is one line naming the exception,
    or the full traceback with ``COPILOT_SEATS_DEBUG=1``. Every text is scrubbed of the token.
    """

    def __init__(self, original: Any) -> None:
        self._original = original

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)

    def format_exc(self, *args: Any, **kwargs: Any) -> str:
        from copilot_seats.errors import CopilotSeatsError
        from copilot_seats.redact import scrub

        error = sys.exc_info()[1]
        if isinstance(error, CopilotSeatsError):
            return scrub(str(error))
        if os.environ.get("COPILOT_SEATS_DEBUG"):
            return scrub(str(self._original.format_exc(*args, **kwargs)))
        return scrub(f"internal error (a bug in copilot-seats; please report it, with COPILOT_SEATS_DEBUG=1 "
                     f"for the traceback): {type(error).__name__}: {error}")


def plain_provider_errors() -> bool:
    """In the dynamic provider process, report our errors as their message, not a traceback."""
    host = sys.modules.get("__main__")
    if not is_dynamic_provider() or host is None or not hasattr(host, "traceback"):
        return False
    current = getattr(host, "traceback")  # noqa: B009  (the host module's global, not ours)
    if not isinstance(current, _ProviderErrors):
        setattr(host, "traceback", _ProviderErrors(current))  # noqa: B010
    return True
