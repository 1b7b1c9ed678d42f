"""The live state: what GitHub says about an organization's Copilot seats, as frozen values.

Types mirror GitHub's "Copilot Business Seat Detail" and "Copilot Organization Details"
(https://docs.github.com/rest/copilot/copilot-user-management). Parsers are pure; only
:func:`fetch_snapshot` talks to GitHub (through :class:`copilot_seats.github.api.CopilotClient`).

Logins are normalized here, once: ``LiveSeat.key`` is the casefolded login, and team slugs are
casefolded too, so :mod:`copilot_seats.decisions.analysis` compares keys only.

A payload that does not have the documented shape (a missing ``created_at``, a number where a
timestamp belongs, an assignee without a login) raises :class:`~copilot_seats.errors.ResponseError`
naming the field (``seats[12].last_activity_at``) and, from :func:`fetch_snapshot`, the request.
Optional fields may be absent or null; a present value of the wrong type is an error, never
guessed at.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from copilot_seats.desired.spec import normalize_login
from copilot_seats.errors import ResponseError

if TYPE_CHECKING:
    from copilot_seats.github.api import CopilotClient, PageProgress

__all__ = [
    "LiveBilling",
    "LiveSeat",
    "LiveSnapshot",
    "SeatBreakdown",
    "fetch_snapshot",
    "parse_billing",
    "parse_date",
    "parse_datetime",
    "parse_seat",
    "parse_seats",
]

logger = logging.getLogger("copilot_seats.github.live")


@dataclass(frozen=True)
class LiveSeat:
    """One user's Copilot seat as GitHub lists it.

    :param login: the assignee's login as GitHub returns it (for display).
    :param key: casefolded login, the comparison key.
    :param assigning_team: casefolded slug of the team that grants the seat; ``None`` for a
        direct assignment (or when GitHub omits it, which it reportedly sometimes does).
    :param created_at: when the user was *last* granted access (re-granting resets it).
    :param updated_at: deprecated by GitHub ("closing down"); ``None`` when absent. Don't use.
    :param pending_cancellation_date: the first day without access when the seat was cancelled
        this billing cycle; ``None`` when the seat is not being cancelled.
    :param last_activity_at: last Copilot activity. ``None`` means *never used, or inactive for
        more than GitHub's 90-day retention* (GitHub then resets it to null); activity can take
        up to 24 hours to appear, and IDE activity only counts with telemetry on.
    :param last_activity_editor: e.g. ``vscode/1.77.3/copilot/1.86.82``; ``None`` when unknown.
    :param last_authenticated_at: last Copilot authentication; ``None`` when never (or unknown).
    :param plan_type: ``business``, ``enterprise`` or ``unknown``; ``None`` when GitHub omits it.
    :param organization: the granting organization's login in enterprise listings, else ``None``.
    """

    login: str
    key: str
    assigning_team: str | None
    created_at: datetime
    updated_at: datetime | None = None
    pending_cancellation_date: date | None = None
    last_activity_at: datetime | None = None
    last_activity_editor: str | None = None
    last_authenticated_at: datetime | None = None
    plan_type: str | None = None
    organization: str | None = None


@dataclass(frozen=True)
class SeatBreakdown:
    """GitHub's ``seat_breakdown``; each count is ``None`` when GitHub omits it (none is required)."""

    total: int | None = None
    added_this_cycle: int | None = None
    pending_invitation: int | None = None
    pending_cancellation: int | None = None
    active_this_cycle: int | None = None
    inactive_this_cycle: int | None = None


@dataclass(frozen=True)
class LiveBilling:
    """``GET /orgs/{org}/copilot/billing``: the seat breakdown and the org's Copilot settings.

    :param seat_management_setting: ``assign_all``, ``assign_selected``, ``disabled`` or
        ``unconfigured``; grants and revokes only work under ``assign_selected``.
    :param public_code_suggestions: ``allow``, ``block`` or ``unconfigured``.
    :param ide_chat: / :param platform_chat: / :param cli: ``enabled``, ``disabled`` or
        ``unconfigured``; ``None`` when GitHub omits the key.
    :param plan_type: ``business`` or ``enterprise``; ``None`` when omitted.
    """

    seat_breakdown: SeatBreakdown
    seat_management_setting: str
    public_code_suggestions: str
    ide_chat: str | None = None
    platform_chat: str | None = None
    cli: str | None = None
    plan_type: str | None = None


@dataclass(frozen=True)
class LiveSnapshot:
    """Everything read from GitHub about one organization at ``fetched_at``.

    :param seats: seats by casefolded login; seats with ``assignee: null`` are not in it.
    :param unassigned_count: seats listed with ``assignee: null`` (billed, but no user to manage).
    :param total_seats: GitHub's ``total_seats`` of the listing; ``None`` when not sent.
    """

    organization: str
    billing: LiveBilling
    seats: Mapping[str, LiveSeat]
    unassigned_count: int
    fetched_at: datetime
    total_seats: int | None = None

    @property
    def listed_count(self) -> int:
        """Seat objects listed: user seats plus ``assignee: null`` seats."""
        return len(self.seats) + self.unassigned_count


_RESPONSE = "response"
"""The ``where`` of errors raised by a parser used on its own (fetch_snapshot names the request)."""


def _bad(field: str, expected: str, value: Any) -> ResponseError:
    text = repr(value)
    return ResponseError(_RESPONSE, field, f"expected {expected}, got {text[:60] + '...' if len(text) > 60 else text}")


def parse_datetime(value: Any, field: str = "") -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or ``-06:00`` offsets) as an aware UTC datetime; None stays None.

    :raises ResponseError: for anything else, located at ``field``.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _bad(field, "an ISO 8601 timestamp", value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(field, "an ISO 8601 timestamp", value) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def parse_date(value: Any, field: str = "") -> date | None:
    """A ``YYYY-MM-DD`` date (a full timestamp is cut to its date); None stays None.

    :raises ResponseError: for anything else, located at ``field``.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _bad(field, "a YYYY-MM-DD date", value)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _bad(field, "a YYYY-MM-DD date", value) from None


def _optional_str(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(field, "a string or null", value)
    return value or None


def _optional_object(value: Any, field: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _bad(field, "an object or null", value)
    return value


def parse_seat(payload: Mapping[str, Any], field: str = "") -> LiveSeat | None:
    """Parse one seat object; ``None`` when ``assignee`` is null or has no login (a billed seat
    with no user to manage; older API versions listed teams and organizations as assignees).

    :param field: where the object sits in its response (e.g. ``seats[3]``), for errors.
    :raises ResponseError: when the object is not GitHub's documented seat shape: not an
        object, a login that is not a string, no ``created_at`` (the only required field), or
        a field of the wrong type.
    """
    at = f"{field}." if field else ""
    if not isinstance(payload, Mapping):
        raise _bad(field, "a seat object", payload)
    assignee = _optional_object(payload.get("assignee"), f"{at}assignee")
    if assignee is None:
        return None
    login = assignee.get("login")
    if login is None or login == "":  # older API versions: a team or org as assignee, no user
        return None
    if not isinstance(login, str):
        raise _bad(f"{at}assignee.login", "a login (a string)", login)
    created_at = parse_datetime(payload.get("created_at"), f"{at}created_at")
    if created_at is None:
        raise ResponseError(_RESPONSE, f"{at}created_at", f"the seat of {login!r} has no created_at "
                            "(GitHub documents it as required)")
    team = _optional_object(payload.get("assigning_team"), f"{at}assigning_team")
    slug = _optional_str(team.get("slug"), f"{at}assigning_team.slug") if team is not None else None
    org = _optional_object(payload.get("organization"), f"{at}organization")
    org_login = _optional_str(org.get("login"), f"{at}organization.login") if org is not None else None
    return LiveSeat(
        login=login,
        key=normalize_login(login),
        assigning_team=normalize_login(slug) if slug else None,
        created_at=created_at,
        updated_at=parse_datetime(payload.get("updated_at"), f"{at}updated_at"),
        pending_cancellation_date=parse_date(payload.get("pending_cancellation_date"),
                                             f"{at}pending_cancellation_date"),
        last_activity_at=parse_datetime(payload.get("last_activity_at"), f"{at}last_activity_at"),
        last_activity_editor=_optional_str(payload.get("last_activity_editor"), f"{at}last_activity_editor"),
        last_authenticated_at=parse_datetime(payload.get("last_authenticated_at"),
                                             f"{at}last_authenticated_at"),
        plan_type=_optional_str(payload.get("plan_type"), f"{at}plan_type"),
        organization=org_login,
    )


def parse_seats(payloads: Iterable[Mapping[str, Any]]) -> tuple[dict[str, LiveSeat], int]:
    """Parse a listing into (seats by key, count of ``assignee: null`` seats).

    A login listed twice (possible in enterprise listings) keeps its first seat. Errors name
    the seat's position in the whole listing (``seats[N]``, counted across pages).
    """
    seats: dict[str, LiveSeat] = {}
    unassigned = 0
    for index, payload in enumerate(payloads):
        seat = parse_seat(payload, f"seats[{index}]")
        if seat is None:
            unassigned += 1
            continue
        if seat.key in seats:
            logger.info("seat of %s listed more than once; keeping the first", seat.login)
            continue
        seats[seat.key] = seat
    if unassigned:
        logger.info("%d seat(s) have no assignee (assignee: null); counted, not managed", unassigned)
    return seats, unassigned


def _count(breakdown: Mapping[str, Any], key: str) -> int | None:
    value = breakdown.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad(f"seat_breakdown.{key}", "a count (a whole number >= 0)", value)
    return value


def parse_billing(payload: Mapping[str, Any]) -> LiveBilling:
    """Parse ``GET /orgs/{org}/copilot/billing``; unknown extra keys are ignored.

    :raises ResponseError: when a documented field has the wrong type.
    """
    if not isinstance(payload, Mapping):
        raise _bad("", "an object", payload)
    breakdown = _optional_object(payload.get("seat_breakdown"), "seat_breakdown") or {}
    counts = [_count(breakdown, key) for key in ("total", "added_this_cycle", "pending_invitation",
                                                  "pending_cancellation", "active_this_cycle",
                                                  "inactive_this_cycle")]
    return LiveBilling(
        seat_breakdown=SeatBreakdown(*counts),
        seat_management_setting=_optional_str(payload.get("seat_management_setting"),
                                              "seat_management_setting") or "unconfigured",
        public_code_suggestions=_optional_str(payload.get("public_code_suggestions"),
                                              "public_code_suggestions") or "unconfigured",
        ide_chat=_optional_str(payload.get("ide_chat"), "ide_chat"),
        platform_chat=_optional_str(payload.get("platform_chat"), "platform_chat"),
        cli=_optional_str(payload.get("cli"), "cli"),
        plan_type=_optional_str(payload.get("plan_type"), "plan_type"),
    )


def fetch_snapshot(client: CopilotClient, org: str, *, now: datetime | None = None,
                   on_page: PageProgress | None = None) -> LiveSnapshot:
    """Read ``org``'s billing (one GET) and every seat (ceil(N/100) GETs) into a snapshot.

    Pages are parsed as they arrive, so only one page of raw JSON is held at a time.

    :param now: the ``fetched_at`` to record; ``None`` means the current UTC time.
    :param on_page: progress callback, see :data:`copilot_seats.github.api.PageProgress`.
    """
    try:
        billing = parse_billing(client.get_billing(org))
    except ResponseError as exc:
        raise exc.located(f"GET {client.base_url}/orgs/{org}/copilot/billing") from None
    total: list[int | None] = [None]

    def progress(pages: int, seen: int, total_seats: int | None) -> None:
        total[0] = total_seats
        if on_page is not None:
            on_page(pages, seen, total_seats)

    try:
        seats, unassigned = parse_seats(client.iter_seats(org, on_page=progress))
    except ResponseError as exc:
        if exc.where != _RESPONSE:  # already located by the client (the page as a whole)
            raise
        raise exc.located(f"GET {client.base_url}/orgs/{org}/copilot/billing/seats") from None
    return LiveSnapshot(
        organization=org,
        billing=billing,
        seats=seats,
        unassigned_count=unassigned,
        fetched_at=now if now is not None else datetime.now(UTC),
        total_seats=total[0],
    )
