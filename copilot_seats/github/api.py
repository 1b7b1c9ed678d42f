"""The Copilot seat REST client: GitHub's organization (and enterprise listing) seat endpoints.

Endpoints (see docs/live-state.md and GitHub's "Copilot user management" REST docs)::

    GET    /orgs/{org}                                    get_organization
    GET    /orgs/{org}/copilot/billing                    get_billing
    GET    /orgs/{org}/copilot/billing/seats              list_seats (per_page=100, follows Link next)
    GET    /orgs/{org}/members/{username}/copilot         get_member_seat
    POST   /orgs/{org}/copilot/billing/selected_users     add_users      (batched)
    DELETE /orgs/{org}/copilot/billing/selected_users     remove_users   (batched)
    POST   /orgs/{org}/copilot/billing/selected_teams     add_teams      (batched)
    DELETE /orgs/{org}/copilot/billing/selected_teams     remove_teams   (batched)
    GET    /enterprises/{enterprise}/copilot/billing/seats list_enterprise_seats (de-duplicated)

Why httpx: it is well kept, has per-phase timeouts, a synchronous API (the Pulumi dynamic
providers and the CLI are synchronous), and an injectable transport (``MockTransport`` in unit
tests, the real loopback simulator elsewhere) without monkeypatching. Retries, rate limits,
write spacing and error mapping live one layer down in :mod:`copilot_seats.github.api_http`.

Methods return GitHub's JSON payloads unchanged (dicts); :mod:`copilot_seats.github.live` parses them.
A client built with ``read_only=True`` raises :class:`~copilot_seats.errors.GuardError` on every
write before anything is sent: that is how preview is kept write-free.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from copilot_seats import __version__, defaults
from copilot_seats.errors import ApiError, ConfigError, CredentialsError, GuardError, ResponseError
from copilot_seats.github.api_http import Requester, Sleep, WallClock
from copilot_seats.github.credentials import check_token

__all__ = ["CopilotClient", "PageProgress", "SeatPage", "WriteResult", "client_from_env"]

logger = logging.getLogger("copilot_seats.github.api")

PageProgress = Callable[[int, int, int | None], None]
"""Called after each listing page with (pages fetched, seats so far, ``total_seats`` or None)."""

_MAX_PAGES = 10_000


@dataclass(frozen=True)
class SeatPage:
    """One page of a seat listing: the raw seat objects and GitHub's ``total_seats``."""

    seats: tuple[dict[str, Any], ...]
    total_seats: int | None
    next_url: str | None


@dataclass(frozen=True)
class WriteResult:
    """Outcome of a batched grant or revoke; every batch is attempted even if one fails.

    :param count: sum of GitHub's ``seats_created`` / ``seats_cancelled`` over successful batches
        (GitHub counts refreshed seats too, so it can differ from the number of names sent).
    :param errors: one error per failed batch, with the names of that batch.
    """

    count: int
    errors: tuple[tuple[tuple[str, ...], ApiError], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise the first batch error (others are logged) when any batch failed."""
        for names, error in self.errors[1:]:
            logger.warning("batch %s also failed: %s", ",".join(names), error)
        if self.errors:
            raise self.errors[0][1]


class CopilotClient:
    """A synchronous client for GitHub's Copilot seat endpoints.

    :param base_url: REST root, e.g. ``https://api.github.com`` or ``https://api.SUB.ghe.com``.
    :param token: bearer token; kept only in the ``Authorization`` header. A non-empty token is
        checked by :func:`~copilot_seats.github.credentials.check_token` (callers check it first, naming
        where it came from); an empty one sends no ``Authorization`` header.
    :param transport: httpx transport to use (``httpx.MockTransport`` in tests); None = network.
    :param timeout: per-request timeout in seconds.
    :param max_retries: retries on 5xx, transport errors and rate limits (see ``api_http``).
    :param backoff: first retry delay in seconds (doubled per retry).
    :param max_rate_limit_wait: longest rate-limit wait in seconds before RateLimitError.
    :param write_spacing: minimum seconds between mutating requests (GitHub asks for >= 1).
    :param batch_size: names per grant/revoke request.
    :param read_only: when True, every write raises GuardError before sending anything.
    :param sleep: injected sleep; :param clock: injected wall clock (Unix seconds).
    """

    def __init__(
        self,
        base_url: str = defaults.DEFAULT_BASE_URL,
        token: str = "",
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = defaults.TIMEOUT_SECONDS,
        max_retries: int = defaults.MAX_RETRIES,
        backoff: float = defaults.BACKOFF_SECONDS,
        max_rate_limit_wait: float = defaults.MAX_RATE_LIMIT_WAIT_SECONDS,
        write_spacing: float = defaults.WRITE_SPACING_SECONDS,
        batch_size: int = defaults.BATCH_SIZE,
        read_only: bool = False,
        sleep: Sleep = time.sleep,
        clock: WallClock = time.time,
    ) -> None:
        if not 1 <= batch_size <= 1000:
            raise ValueError(f"batch_size must be between 1 and 1000, got {batch_size}")
        self.base_url = base_url.rstrip("/")
        self.read_only = read_only
        self.batch_size = batch_size
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": defaults.API_VERSION,
            "User-Agent": f"copilot-seats/{__version__}",
        }
        if token:
            token = check_token(token, "the GitHub token")
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  transport=transport, follow_redirects=True)
        self._requester = Requester(self._http, token, max_retries=max_retries, backoff=backoff,
                                    max_rate_limit_wait=max_rate_limit_wait, write_spacing=write_spacing,
                                    sleep=sleep, clock=clock)

    def __repr__(self) -> str:  # never show the token
        return f"CopilotClient(base_url={self.base_url!r}, read_only={self.read_only})"

    def __enter__(self) -> CopilotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def requests_sent(self) -> int:
        """HTTP exchanges attempted by this client so far (retries included)."""
        return self._requester.requests_sent

    # -- reads --------------------------------------------------------------------------------

    def get_billing(self, org: str) -> dict[str, Any]:
        """``GET /orgs/{org}/copilot/billing``: seat breakdown and Copilot settings."""
        return _json_object(self._requester.request("GET", f"/orgs/{_seg(org)}/copilot/billing"))

    def iter_seat_pages(self, path: str) -> Iterator[SeatPage]:
        """Yield the pages of a seat listing at ``path``, ``per_page=100``, following ``Link: next``.

        Next links are followed only on the client's own origin (the token is never sent
        elsewhere). Stops when there is no next link or a page comes back empty.
        """
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": defaults.PER_PAGE}
        for _ in range(_MAX_PAGES):
            assert url is not None
            response = self._requester.request("GET", url, params=params)
            data = _json_object(response)
            where = f"GET {response.request.url}"
            seats = data.get("seats")
            if seats is None:
                seats = []
            if not isinstance(seats, list):
                raise ResponseError(where, "seats", f"expected a list, got {_kind(seats)}")
            for index, seat in enumerate(seats):
                if not isinstance(seat, dict):
                    raise ResponseError(where, f"seats[{index}]", f"expected a seat object, got {_kind(seat)}")
            total = data.get("total_seats")
            if total is not None and (not isinstance(total, int) or isinstance(total, bool) or total < 0):
                raise ResponseError(where, "total_seats", f"expected a count, got {_kind(total)}")
            next_url = response.links.get("next", {}).get("url")
            if next_url is not None and not self._same_origin(next_url):
                raise ApiError(f"refusing to follow a Link to another origin: {next_url}")
            page = SeatPage(tuple(seats), total, next_url if seats else None)
            yield page
            if page.next_url is None:
                return
            url, params = page.next_url, None
        raise ApiError(f"{path}: more than {_MAX_PAGES} pages; giving up")

    def list_seats(self, org: str, on_page: PageProgress | None = None) -> list[dict[str, Any]]:
        """Every seat object of ``org`` (all pages), including ``assignee: null`` seats."""
        return list(self.iter_seats(org, on_page))

    def iter_seats(self, org: str, on_page: PageProgress | None = None) -> Iterator[dict[str, Any]]:
        """Like :meth:`list_seats`, but lazily, one page in memory at a time (for large orgs)."""
        return self._stream(f"/orgs/{_seg(org)}/copilot/billing/seats", on_page)

    def list_enterprise_seats(self, enterprise: str,
                              on_page: PageProgress | None = None) -> list[dict[str, Any]]:
        """Seats of an enterprise, one per login (case-insensitive), first occurrence kept.

        GitHub returns one seat object per granting organization or enterprise team, while
        billing counts the user once; seats with ``assignee: null`` are kept (not de-duplicated).
        """
        seen: set[str] = set()
        unique: list[dict[str, Any]] = []
        for seat in self._stream(f"/enterprises/{_seg(enterprise)}/copilot/billing/seats", on_page):
            assignee = seat.get("assignee")
            login = assignee.get("login") if isinstance(assignee, dict) else None
            if isinstance(login, str):
                if login.casefold() in seen:
                    continue
                seen.add(login.casefold())
            unique.append(seat)
        return unique

    def get_organization(self, org: str) -> dict[str, Any]:
        """``GET /orgs/{org}``: the organization object (login, id, plan...)."""
        return _json_object(self._requester.request("GET", f"/orgs/{_seg(org)}"))

    def get_member_seat(self, org: str, username: str) -> dict[str, Any]:
        """``GET /orgs/{org}/members/{username}/copilot``: one user's seat.

        Raises NotFoundError when the org is unknown or invisible, or the user is not a member
        or holds no seat (GitHub does not tell these apart).
        """
        response = self._requester.request("GET", f"/orgs/{_seg(org)}/members/{_seg(username)}/copilot")
        data = _json_object(response)
        if "seats" in data and isinstance(data["seats"], list):  # enterprise-doc quirk: wrapped
            if data["seats"] and not isinstance(data["seats"][0], dict):
                raise ResponseError(f"GET {response.request.url}", "seats[0]",
                                    f"expected a seat object, got {_kind(data['seats'][0])}")
            return dict(data["seats"][0]) if data["seats"] else {}
        return data

    # -- writes -------------------------------------------------------------------------------

    def add_users(self, org: str, usernames: Iterable[str]) -> WriteResult:
        """Grant direct seats (``POST .../selected_users``); re-granting a pending seat restores it."""
        return self._write("POST", f"/orgs/{_seg(org)}/copilot/billing/selected_users",
                           "selected_usernames", "seats_created", usernames)

    def remove_users(self, org: str, usernames: Iterable[str]) -> WriteResult:
        """Cancel direct seats (``DELETE .../selected_users``): they become pending cancellation."""
        return self._write("DELETE", f"/orgs/{_seg(org)}/copilot/billing/selected_users",
                           "selected_usernames", "seats_cancelled", usernames)

    def add_teams(self, org: str, slugs: Iterable[str]) -> WriteResult:
        """Grant seats to every member of the teams (``POST .../selected_teams``, by slug)."""
        return self._write("POST", f"/orgs/{_seg(org)}/copilot/billing/selected_teams",
                           "selected_teams", "seats_created", slugs)

    def remove_teams(self, org: str, slugs: Iterable[str]) -> WriteResult:
        """Cancel the seats granted through the teams (``DELETE .../selected_teams``)."""
        return self._write("DELETE", f"/orgs/{_seg(org)}/copilot/billing/selected_teams",
                           "selected_teams", "seats_cancelled", slugs)

    # -- internals ----------------------------------------------------------------------------

    def _stream(self, path: str, on_page: PageProgress | None) -> Iterator[dict[str, Any]]:
        seen = 0
        for number, page in enumerate(self.iter_seat_pages(path), start=1):
            seen += len(page.seats)
            if on_page is not None:
                on_page(number, seen, page.total_seats)
            yield from page.seats

    def _write(self, method: str, path: str, field: str, count_key: str,
               names: Iterable[str]) -> WriteResult:
        unique = list(dict.fromkeys(n for n in names if n))
        if self.read_only:
            raise GuardError(f"read-only client: refusing {method} {path} for {len(unique)} name(s)")
        total = 0
        errors: list[tuple[tuple[str, ...], ApiError]] = []
        for start in range(0, len(unique), self.batch_size):
            batch = tuple(unique[start:start + self.batch_size])
            try:
                response = self._requester.request(method, path, body={field: list(batch)})
            except ApiError as exc:
                logger.warning("%s %s failed for %d name(s): %s", method, path, len(batch), exc)
                errors.append((batch, exc))
                continue
            value = _json_object(response).get(count_key)
            total += value if isinstance(value, int) else 0
        return WriteResult(total, tuple(errors))

    def _same_origin(self, url: str) -> bool:
        there, here = httpx.URL(url), httpx.URL(self.base_url)
        return (there.scheme, there.host, there.port) == (here.scheme, here.host, here.port)


def client_from_env(env: Mapping[str, str] | None = None, **options: Any) -> CopilotClient:
    """Build a client from ``GITHUB_TOKEN`` and ``GITHUB_API_URL`` (default api.github.com).

    ``options`` are passed to :class:`CopilotClient` (e.g. ``read_only=True``). Raises
    :class:`~copilot_seats.errors.CredentialsError` when ``GITHUB_TOKEN`` is unset, empty or
    malformed (before any request).
    """
    env = os.environ if env is None else env
    if not env.get("GITHUB_TOKEN", "").strip():
        raise CredentialsError("GITHUB_TOKEN is not set: export a token of an organization owner "
                               "(classic: manage_billing:copilot or read:org/admin:org; fine-grained: "
                               "'GitHub Copilot Business' organization permission)")
    token = check_token(env["GITHUB_TOKEN"], "GITHUB_TOKEN")
    base_url = env.get("GITHUB_API_URL", "").strip() or defaults.DEFAULT_BASE_URL
    return CopilotClient(base_url, token, **options)


def _seg(value: str) -> str:
    """One URL path segment, percent-encoded (logins and slugs never contain '/').

    Dot segments and the empty name are refused: encoding leaves ``.`` and ``..`` alone and the
    HTTP client would resolve them (``/orgs/..`` is ``/``). Callers validate names first
    (:mod:`copilot_seats.desired.names`); this is the backstop.
    """
    if value in ("", ".", ".."):
        raise ConfigError(f"refusing to use {value!r} as a name in a GitHub URL")
    return quote(value, safe="")


def _kind(value: Any) -> str:
    """A short description of a JSON value for messages: its type and a clipped rendering."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    text = repr(value)
    return f"{names.get(type(value), type(value).__name__)} {text[:40] + '...' if len(text) > 40 else text}"


def _json_object(response: httpx.Response) -> dict[str, Any]:
    where = f"{response.request.method} {response.request.url}"
    try:
        data = response.json()
    except ValueError as exc:
        raise ResponseError(where, "", f"the body is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ResponseError(where, "", f"expected a JSON object, got {_kind(data)}")
    return data
