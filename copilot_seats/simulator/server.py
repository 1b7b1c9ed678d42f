"""The simulator's HTTP face: GitHub's Copilot seat endpoints on a loopback ``ThreadingHTTPServer``.

Standard library only. Per API request, in order: injected fault (latency, then error status or
a canned body) -> token check (401 ``Bad credentials``) -> primary rate limit (403,
``x-ratelimit-remaining: 0``) -> route -> read-only tokens get 403 on writes ->
:class:`~copilot_seats.simulator.state.SimState`. Every API answer carries ``x-ratelimit-*``
headers as GitHub sends them: a fault's own rate-limit headers win over the budget's, so an
injected *primary* limit says ``x-ratelimit-remaining: 0`` with its reset and no
``retry-after``, while a *secondary* limit keeps the real remaining budget and sends
``retry-after`` only when asked. Listings carry GitHub-style ``Link`` headers (``per_page``
default 50, capped at 100). Every API request is logged (``state.log``).

Besides the Copilot endpoints it serves ``GET /orgs/{org}`` (the organization object), which
general-purpose clients such as PyGithub read before calling the Copilot endpoints.

Admin endpoints (no token, not logged)::

    GET    /_simulator/requests   the request log         DELETE /_simulator/requests  clear it
    POST   /_simulator/faults     queue fault(s) (JSON object or list of Fault fields)
    POST   /_simulator/rate_limit {"limit": N, "remaining": M}
    GET    /_simulator/state      the state as a fixture  POST /_simulator/end_cycle   drop pending seats
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from copilot_seats.simulator.control import Fault, RequestRecord
from copilot_seats.simulator.fixtures import dump_state
from copilot_seats.simulator.state import DOCS, SimError, SimState

__all__ = ["SimulatorServer"]

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/orgs/([^/]+)$"), "organization"),
    ("GET", re.compile(r"^/orgs/([^/]+)/copilot/billing$"), "billing"),
    ("GET", re.compile(r"^/orgs/([^/]+)/copilot/billing/seats$"), "seats"),
    ("GET", re.compile(r"^/orgs/([^/]+)/members/([^/]+)/copilot$"), "member"),
    ("POST", re.compile(r"^/orgs/([^/]+)/copilot/billing/selected_users$"), "add_users"),
    ("DELETE", re.compile(r"^/orgs/([^/]+)/copilot/billing/selected_users$"), "remove_users"),
    ("POST", re.compile(r"^/orgs/([^/]+)/copilot/billing/selected_teams$"), "add_teams"),
    ("DELETE", re.compile(r"^/orgs/([^/]+)/copilot/billing/selected_teams$"), "remove_teams"),
    ("GET", re.compile(r"^/enterprises/([^/]+)/copilot/billing/seats$"), "enterprise_seats"),
]
_BODY_FIELD = {"add_users": "selected_usernames", "remove_users": "selected_usernames",
               "add_teams": "selected_teams", "remove_teams": "selected_teams"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls
    server: _Server

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr access log
        return

    # -- dispatch -----------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = {"__invalid__": True}
        if parts.path.startswith("/_simulator/"):
            self._admin(method, parts.path, body)
            return
        status, payload, headers = self._api(state, method, parts.path, parts.query, body)
        state.log.add(RequestRecord(method, parts.path, parts.query, status, body))
        self._send(status, payload, {**state.rate_limit.headers(time.time()), **headers})

    def _api(self, state: SimState, method: str, path: str, query: str,
             body: Any) -> tuple[int, Any, dict[str, str]]:
        fault = state.take_fault(method, path)
        if fault is not None:
            if fault.latency:
                time.sleep(fault.latency)
            if fault.status or fault.body is not None:
                return _fault_answer(fault, state.rate_limit.limit)
        auth = self.headers.get("Authorization") or ""
        token = auth.split(" ", 1)[1].strip() if " " in auth else None
        if not auth:
            return 401, _error(401, "Requires authentication"), {}
        permission = state.token_permission(token)
        if permission is None:
            return 401, _error(401, "Bad credentials"), {}
        if not state.rate_limit.spend(time.time()):
            return 403, _error(403, "API rate limit exceeded for user ID 1."), {}
        route = next(((name, m) for verb, pattern, name in _ROUTES
                      if verb == method and (m := pattern.match(path))), None)
        if route is None:
            return 404, _error(404, "Not Found"), {}
        name, match = route
        if name in _BODY_FIELD and permission != "write":
            return 403, _error(403, "Resource not accessible by personal access token"), {}
        try:
            return self._call(state, name, match.groups(), query, body)
        except SimError as exc:
            return exc.status, _error(exc.status, exc.message), {}

    def _call(self, state: SimState, name: str, args: tuple[str, ...], query: str,
              body: Any) -> tuple[int, Any, dict[str, str]]:
        if name == "organization":
            return 200, state.organization(args[0]), {}
        if name == "billing":
            return 200, state.billing(args[0]), {}
        if name == "member":
            return 200, state.member_seat(args[0], args[1]), {}
        if name in ("seats", "enterprise_seats"):
            params = parse_qs(query)
            page = max(_int(params.get("page"), 1), 1)
            per_page = min(max(_int(params.get("per_page"), 50), 1), 100)
            lister = state.seat_page if name == "seats" else state.enterprise_seat_page
            total, seats, listed = lister(args[0], page, per_page)
            return 200, {"total_seats": total, "seats": seats}, self._links(page, per_page, listed)
        names = body.get(_BODY_FIELD[name]) if isinstance(body, dict) else None
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            return 422, _error(422, f"Invalid request. '{_BODY_FIELD[name]}' must be a non-empty array "
                                    "of strings."), {}
        count = getattr(state, name)(args[0], names)
        if name.startswith("add"):
            return 201, {"seats_created": count}, {}
        return 200, {"seats_cancelled": count}, {}

    def _links(self, page: int, per_page: int, listed: int) -> dict[str, str]:
        """GitHub's ``Link`` header: next/last, then prev/first; none when one page suffices."""
        last = max((listed + per_page - 1) // per_page, 1)
        if last == 1 and page == 1:
            return {}
        base = f"http://{self.headers.get('Host')}{urlsplit(self.path).path}"
        links = []
        if page < last:
            links += [f'<{base}?per_page={per_page}&page={page + 1}>; rel="next"',
                      f'<{base}?per_page={per_page}&page={last}>; rel="last"']
        if page > 1:
            links += [f'<{base}?per_page={per_page}&page={page - 1}>; rel="prev"',
                      f'<{base}?per_page={per_page}&page=1>; rel="first"']
        return {"Link": ", ".join(links)} if links else {}

    # -- admin --------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: Any) -> None:
        state = self.server.state
        if path == "/_simulator/requests" and method == "GET":
            self._send(200, [r.to_dict() for r in state.log.all()], {})
        elif path == "/_simulator/requests" and method == "DELETE":
            state.log.clear()
            self._send(204, None, {})
        elif path == "/_simulator/faults" and method == "POST":
            faults = body if isinstance(body, list) else [body or {}]
            for fault in faults:
                state.inject(Fault.from_dict(fault))
            self._send(201, {"queued": len(faults)}, {})
        elif path == "/_simulator/rate_limit" and method == "POST":
            body = body or {}
            state.rate_limit.configure(body.get("limit"), body.get("remaining"), time.time)
            self._send(200, state.rate_limit.headers(time.time()), {})
        elif path == "/_simulator/state" and method == "GET":
            self._send(200, dump_state(state), {})
        elif path == "/_simulator/end_cycle" and method == "POST":
            self._send(200, {"seats_removed": state.end_billing_cycle()}, {})
        else:
            self._send(404, _error(404, "Not Found"), {})

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if status == 204 else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _int(values: list[str] | None, default: int) -> int:
    try:
        return int(values[0]) if values else default
    except ValueError:
        return default


def _error(status: int, message: str) -> dict[str, str]:
    """GitHub's ``basic-error`` shape."""
    return {"message": message, "documentation_url": DOCS, "status": str(status)}


def _fault_answer(fault: Fault, limit: int) -> tuple[int, Any, dict[str, str]]:
    """The fault's answer. Primary limit (GitHub's "primary rate limit" docs): 403/429 with
    ``x-ratelimit-remaining: 0``, ``x-ratelimit-used`` = limit and the reset time, and no
    ``retry-after``. Secondary limit: 403/429 with ``retry-after`` when given and otherwise the
    normal headers (the primary budget is not spent)."""
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["retry-after"] = str(int(fault.retry_after) if fault.retry_after == int(fault.retry_after)
                                     else fault.retry_after)
    if fault.primary:
        headers.update({"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": "0",
                        "x-ratelimit-used": str(limit),
                        "x-ratelimit-reset": str(int(time.time() + fault.reset_in)),
                        "x-ratelimit-resource": "core"})
    if fault.body is not None:
        return fault.status or 200, fault.body, headers
    return fault.status, _error(fault.status, fault.body_message()), headers


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SimState) -> None:
        super().__init__(address, _Handler)
        self.state = state


class SimulatorServer:
    """A running (or startable) simulator bound to ``host:port`` (port 0 = a free port).

    Use as a context manager, or ``start()`` (background thread) / ``serve_forever()`` (blocking)
    and ``stop()``. ``base_url`` is known as soon as the object exists (the socket is bound).
    """

    def __init__(self, state: SimState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self._server = _Server((host, port), state)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host if isinstance(host, str) else host.decode()}:{self.port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="copilot-simulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (safe to call from another thread or a signal handler thread)."""
        self._server.shutdown()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
