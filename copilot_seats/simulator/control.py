"""The simulator's control plane: injected faults, the primary rate-limit budget, the request log.

These are the knobs tests turn (Python API, fixture ``faults``/``rate_limit``, or the admin
endpoints under ``/_simulator/``); they are not part of GitHub's data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Fault", "RateLimit", "RequestLog", "RequestRecord"]


@dataclass
class Fault:
    """A failure served instead of the real answer, ``times`` times, to matching requests.

    :param status: HTTP status to answer (429, 403, 500, 502...); ``0`` = no error, only latency.
    :param times: how many matching requests it affects.
    :param retry_after: seconds for a ``retry-after`` header; ``None`` sends none.
    :param primary: when True, answer like an exhausted primary limit: ``x-ratelimit-remaining: 0``
        and ``x-ratelimit-reset`` = now + ``reset_in`` seconds.
    :param reset_in: see ``primary``.
    :param latency: seconds to wait before answering.
    :param method: only requests with this method (``None`` = any).
    :param path: only requests whose path contains this text (``None`` = any).
    :param message: the ``message`` of the error body (a sensible default per status).
    :param body: a JSON value to answer instead of the real one, with ``status``:
        how tests serve malformed payloads (a seat without ``created_at``, a string count...);
        pass ``status=200`` for a successful answer.
    """

    status: int = 500
    times: int = 1
    retry_after: float | None = None
    primary: bool = False
    reset_in: float = 60.0
    latency: float = 0.0
    method: str | None = None
    path: str | None = None
    message: str | None = None
    body: Any = None

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method.upper() == method)
                and (self.path is None or self.path in path))

    def body_message(self) -> str:
        if self.message:
            return self.message
        if self.primary:
            return "API rate limit exceeded for user ID 1."
        if self.status in (403, 429):
            return ("You have exceeded a secondary rate limit. Please wait a few minutes before you "
                    "try again.")
        return "Server Error" if self.status >= 500 else "Simulated failure"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class RequestRecord:
    """One API request the simulator answered (admin ``/_simulator/`` requests are not logged).

    :param query: the raw query string (``""`` when none). :param body: parsed JSON body or None.
    """

    method: str
    path: str
    query: str
    status: int
    body: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Thread-safe, append-only log of :class:`RequestRecord` (cleared on demand)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def all(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def writes(self) -> list[RequestRecord]:
        """Every non-GET request (what "preview wrote nothing" asserts is empty)."""
        return [r for r in self.all() if r.method not in ("GET", "HEAD")]


@dataclass
class RateLimit:
    """GitHub's primary limit: ``limit`` requests per ``window`` seconds, reset at ``reset``.

    Each API request spends one unit; at zero the simulator answers 403 with
    ``x-ratelimit-remaining: 0`` until the window resets.
    """

    limit: int = 5000
    window: float = 3600.0
    used: int = 0
    reset: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def spend(self, now: float) -> bool:
        """Spend one request at Unix time ``now``; False when the budget is exhausted."""
        with self._lock:
            if now >= self.reset:
                self.used, self.reset = 0, float(int(now + self.window))
            if self.used >= self.limit:
                return False
            self.used += 1
            return True

    def headers(self, now: float) -> dict[str, str]:
        with self._lock:
            reset = self.reset if self.reset > now else float(int(now + self.window))
            return {"x-ratelimit-limit": str(self.limit),
                    "x-ratelimit-remaining": str(max(self.limit - self.used, 0)),
                    "x-ratelimit-used": str(self.used), "x-ratelimit-reset": str(int(reset)),
                    "x-ratelimit-resource": "core"}

    def configure(self, limit: int | None = None, remaining: int | None = None,
                  clock: Callable[[], float] | None = None) -> None:
        """Set the budget; ``remaining`` sets how many requests are left in the current window."""
        with self._lock:
            if limit is not None:
                self.limit = limit
            if remaining is not None:
                self.used = max(self.limit - remaining, 0)
                now = (clock or time.time)()
                if self.reset <= now:
                    self.reset = float(int(now + self.window))
