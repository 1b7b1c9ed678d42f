"""One HTTP exchange with GitHub, made resilient: the layer under :mod:`copilot_seats.github.api`.

:class:`Requester` sends a single logical request and handles, in this order:

1. **write spacing**: mutating requests (POST/PUT/PATCH/DELETE) are spaced at least
   ``write_spacing`` seconds apart (GitHub asks for >= 1 s; tests and the simulator use 0);
2. **primary rate limit**: after a response with ``x-ratelimit-remaining: 0`` the next request
   first waits until ``x-ratelimit-reset``;
3. **retries**: connection errors, timeouts and 5xx are retried with exponential backoff
   (``backoff``, ``2 x backoff``, ...) up to ``max_retries`` times; 403/429 rate-limit answers
   (``retry-after``, or ``x-ratelimit-remaining: 0``) wait as GitHub asks and retry too;
4. **error mapping**: any other 4xx/5xx becomes a typed :class:`~copilot_seats.errors.ApiStatusError`
   whose message says what to do (which token scope or permission, which setting).

A wait longer than ``max_rate_limit_wait`` is not slept: :class:`RateLimitError` is raised at
once, naming the reset time. Sleeping and the wall clock are injected (``sleep``, ``clock``) so
tests never sleep.

httpx exceptions are translated here and only here (``raise ... from exc``). The token lives in
the ``Authorization`` header of the httpx client and nowhere else; messages are scrubbed of it
anyway, in case a server echoes it. One INFO line per HTTP exchange is logged on
``copilot_seats.github.api`` (method, URL, status, milliseconds), never headers.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from copilot_seats import defaults, redact
from copilot_seats.errors import (
    ApiStatusError,
    AuthError,
    NotFoundError,
    RateLimitError,
    TransportError,
    UnprocessableError,
)

__all__ = ["MUTATING_METHODS", "Requester", "Sleep", "WallClock"]

logger = logging.getLogger("copilot_seats.github.api")

Sleep = Callable[[float], None]
"""Blocks for the given number of seconds (``time.sleep`` in production, a recorder in tests)."""

WallClock = Callable[[], float]
"""Returns the current Unix time in seconds (``time.time``); compared with ``x-ratelimit-reset``."""

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_SCOPES_READ = (
    "a classic token needs scope manage_billing:copilot or read:org; a fine-grained token or GitHub "
    "App needs the organization permission 'GitHub Copilot Business' (read) and 'Administration' (read)"
)
_SCOPES_WRITE = (
    "a classic token needs scope manage_billing:copilot or admin:org; a fine-grained token or GitHub "
    "App needs the organization permission 'GitHub Copilot Business' (read and write) and "
    "'Administration' (read and write)"
)


class Requester:
    """Sends requests through one httpx client with retries, rate-limit waits and typed errors.

    :param http: the configured httpx client (base URL, auth header, timeouts, transport).
    :param token: only used to scrub it from error messages; never logged or sent elsewhere.
    :param max_retries: retries after the first attempt (5xx, transport errors, rate limits).
    :param backoff: first retry delay in seconds for 5xx/transport errors, doubled each retry.
    :param max_rate_limit_wait: longest single rate-limit wait in seconds; longer raises.
    :param write_spacing: minimum seconds between two mutating requests (0 disables).
    :param sleep: injected sleep; :param clock: injected wall clock (Unix seconds).
    """

    def __init__(
        self,
        http: httpx.Client,
        token: str,
        *,
        max_retries: int = defaults.MAX_RETRIES,
        backoff: float = defaults.BACKOFF_SECONDS,
        max_rate_limit_wait: float = defaults.MAX_RATE_LIMIT_WAIT_SECONDS,
        write_spacing: float = defaults.WRITE_SPACING_SECONDS,
        sleep: Sleep = time.sleep,
        clock: WallClock = time.time,
    ) -> None:
        if max_retries < 0 or backoff < 0 or max_rate_limit_wait < 0 or write_spacing < 0:
            raise ValueError("max_retries, backoff, max_rate_limit_wait and write_spacing must be >= 0")
        self._http = http
        self._token = token
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_rate_limit_wait = max_rate_limit_wait
        self.write_spacing = write_spacing
        self._sleep = sleep
        self._clock = clock
        self._last_write_at: float | None = None
        self._blocked_until: float | None = None
        self.requests_sent = 0
        """HTTP exchanges attempted so far (retries included)."""

    def request(self, method: str, url: str, *, params: dict[str, Any] | None = None,
                body: dict[str, Any] | None = None) -> httpx.Response:
        """Send one logical request and return its 2xx response, or raise an ``ApiError``."""
        method = method.upper()
        attempt = 0
        while True:
            self._wait_before(method, url)
            try:
                response = self._send_once(method, url, params, body)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt >= self.max_retries:
                    reason = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
                    raise TransportError(self._scrub(
                        f"{method} {_display(url, params)}: {reason} after {attempt + 1} attempt(s): "
                        f"{type(exc).__name__}: {exc}")) from exc
                self._sleep(self.backoff * 2**attempt)
                attempt += 1
                continue
            self._note_rate_limit(response)
            if response.is_success:
                return response
            wait = self._rate_limit_wait(response)
            if wait is not None:
                if wait > self.max_rate_limit_wait or attempt >= self.max_retries:
                    raise self._rate_limit_error(response, method, wait)
                self._sleep(wait)
                attempt += 1
                continue
            if response.status_code >= 500 and attempt < self.max_retries:
                self._sleep(self.backoff * 2**attempt)
                attempt += 1
                continue
            raise self._status_error(response, method)

    # -- pacing -------------------------------------------------------------------------------

    def _wait_before(self, method: str, url: str) -> None:
        if self._blocked_until is not None:
            wait = self._blocked_until - self._clock()
            self._blocked_until = None
            if wait > self.max_rate_limit_wait:
                raise RateLimitError(
                    403, method, _display(url, None),
                    f"primary rate limit exhausted; it resets at {_iso(self._clock() + wait)}, "
                    f"{wait:.0f}s away, beyond the {self.max_rate_limit_wait:.0f}s wait cap",
                    retry_after=wait)
            if wait > 0:
                logger.info("primary rate limit exhausted; waiting %.0fs for reset", wait)
                self._sleep(wait)
        if method in MUTATING_METHODS and self.write_spacing > 0 and self._last_write_at is not None:
            gap = self._last_write_at + self.write_spacing - time.monotonic()
            if gap > 0:
                self._sleep(gap)

    def _send_once(self, method: str, url: str, params: dict[str, Any] | None,
                   body: dict[str, Any] | None) -> httpx.Response:
        started = time.monotonic()
        self.requests_sent += 1
        try:
            response = self._http.request(method, url, params=params, json=body)
        except httpx.HTTPError as exc:
            logger.info("%s %s -> %s", method, _display(url, params), type(exc).__name__)
            raise
        finally:
            if method in MUTATING_METHODS:
                self._last_write_at = time.monotonic()
        logger.info("%s %s -> %d (%.0f ms)", method, response.request.url, response.status_code,
                    (time.monotonic() - started) * 1000)
        return response

    def _note_rate_limit(self, response: httpx.Response) -> None:
        if response.is_success and response.headers.get("x-ratelimit-remaining") == "0":
            reset = _float(response.headers.get("x-ratelimit-reset"))
            if reset is not None:
                self._blocked_until = reset

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when ``response`` is a rate-limit answer, else ``None`` (GitHub's order)."""
        if response.status_code not in (403, 429):
            return None
        retry_after = _float(response.headers.get("retry-after"))
        if retry_after is not None:
            return max(retry_after, 0.0)
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = _float(response.headers.get("x-ratelimit-reset"))
            if reset is not None:
                return max(reset - self._clock(), 0.0)
        if response.status_code == 429 or "rate limit" in _message(response).lower():
            return defaults.SECONDARY_LIMIT_WAIT_SECONDS
        return None

    # -- errors -------------------------------------------------------------------------------

    def _rate_limit_error(self, response: httpx.Response, method: str, wait: float) -> RateLimitError:
        why = (f"rate limited ({_message(response) or 'no message'}); GitHub asks to wait {wait:.0f}s "
               f"(until about {_iso(self._clock() + wait)}), ")
        why += (f"beyond the {self.max_rate_limit_wait:.0f}s wait cap" if wait > self.max_rate_limit_wait
                else f"and {self.max_retries} retries are used up")
        return RateLimitError(response.status_code, method, str(response.request.url),
                              self._scrub(why + "; try again later or raise the cap"),
                              _doc_url(response), retry_after=wait)

    def _status_error(self, response: httpx.Response, method: str) -> ApiStatusError:
        status = response.status_code
        github = _message(response) or response.reason_phrase
        url = str(response.request.url)
        writing = method in MUTATING_METHODS
        cls: type[ApiStatusError] = ApiStatusError
        if status == 401:
            cls, hint = AuthError, ("the token is missing, expired or revoked; set GITHUB_TOKEN to a valid "
                                    "token of an organization owner (" + _SCOPES_READ + ")")
        elif status == 403:
            cls, hint = AuthError, ("the token lacks permission: only organization owners can manage Copilot "
                                    "seats; " + (_SCOPES_WRITE if writing else _SCOPES_READ))
        elif status == 404:
            cls = NotFoundError
            hint = ("not found: check the organization/enterprise name, that the token's user is an owner of "
                    "it (GitHub answers 404 when the token cannot see it), and for a user lookup that the "
                    "user is a member holding a Copilot seat")
        elif status == 422:
            cls = UnprocessableError
            if "team" in github.lower() and writing:
                hint = ("a seat assigned through a team cannot be revoked per user: remove the team grant "
                        "or the user's team membership instead")
            elif writing:
                hint = ("seats can only be granted or revoked when the organization's Copilot access setting "
                        "(seat_management_setting) is 'assign_selected', billing is set up and a "
                        "public-code-suggestions policy is set")
            else:
                hint = ("Copilot Business/Enterprise may not be enabled, the payment method may have a "
                        "problem, or the user has a pending organization invitation")
        elif status >= 500:
            hint = f"GitHub had an internal error; {self.max_retries} retries did not help; try later"
        else:
            hint = "unexpected answer"
        return cls(status, method, url, self._scrub(f"{github} ({hint})"), _doc_url(response))

    def _scrub(self, text: str) -> str:
        return redact.scrub(text, self._token)


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _message(response: httpx.Response) -> str:
    message = _body(response).get("message")
    return message if isinstance(message, str) else ""


def _doc_url(response: httpx.Response) -> str | None:
    doc = _body(response).get("documentation_url")
    return doc if isinstance(doc, str) else None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _display(url: str, params: dict[str, Any] | None) -> str:
    if not params:
        return url
    return url + "?" + "&".join(f"{k}={v}" for k, v in params.items())
