"""The live state: what GitHub says about an organization's Copilot seats, as frozen values.

Types mirror GitHub's "Copilot Business Seat Detail" and "Copilot Organization Details"
(https://docs.github.com/rest/copilot/copilot-user-management). Parsers are pure; only
:func:`fetch_snapshot` talks to GitHub (through :class:`copilot_seats.api.CopilotClient`).

Logins are normalized here, once: ``LiveSeat.key`` is the casefolded login, and team slugs are
casefolded too, so :mod:`copilot_seats.analysis` compares keys only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from copilot_seats.spec import normalize_login

if TYPE_CHECKING:
    from copilot_seats.api import CopilotClient, PageProgress

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

logger = logging.getLogger("copilot_seats.live")


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


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or ``-06:00`` offsets) as an aware UTC datetime; None stays None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 timestamp, got {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` date (a full timestamp is cut to its date); None stays None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a YYYY-MM-DD date, got {value!r}")
    return date.fromisoformat(value[:10])


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_seat(payload: Mapping[str, Any]) -> LiveSeat | None:
    """Parse one seat object; ``None`` when ``assignee`` is null or has no login.

    Raises ``ValueError`` when ``created_at`` (GitHub's only required field) is missing.
    """
    assignee = payload.get("assignee")
    login = assignee.get("login") if isinstance(assignee, Mapping) else None
    if not isinstance(login, str) or not login:
        return None
    created_at = parse_datetime(payload.get("created_at"))
    if created_at is None:
        raise ValueError(f"seat of {login!r} has no created_at")
    team = payload.get("assigning_team")
    slug = team.get("slug") if isinstance(team, Mapping) else None
    org = payload.get("organization")
    org_login = org.get("login") if isinstance(org, Mapping) else None
    return LiveSeat(
        login=login,
        key=normalize_login(login),
        assigning_team=normalize_login(slug) if isinstance(slug, str) and slug else None,
        created_at=created_at,
        updated_at=parse_datetime(payload.get("updated_at")),
        pending_cancellation_date=parse_date(payload.get("pending_cancellation_date")),
        last_activity_at=parse_datetime(payload.get("last_activity_at")),
        last_activity_editor=_optional_str(payload.get("last_activity_editor")),
        last_authenticated_at=parse_datetime(payload.get("last_authenticated_at")),
        plan_type=_optional_str(payload.get("plan_type")),
        organization=_optional_str(org_login),
    )


def parse_seats(payloads: Iterable[Mapping[str, Any]]) -> tuple[dict[str, LiveSeat], int]:
    """Parse a listing into (seats by key, count of ``assignee: null`` seats).

    A login listed twice (possible in enterprise listings) keeps its first seat.
    """
    seats: dict[str, LiveSeat] = {}
    unassigned = 0
    for payload in payloads:
        seat = parse_seat(payload)
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


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_billing(payload: Mapping[str, Any]) -> LiveBilling:
    """Parse ``GET /orgs/{org}/copilot/billing``; unknown extra keys are ignored."""
    raw = payload.get("seat_breakdown")
    breakdown = raw if isinstance(raw, Mapping) else {}
    return LiveBilling(
        seat_breakdown=SeatBreakdown(
            total=_count(breakdown.get("total")),
            added_this_cycle=_count(breakdown.get("added_this_cycle")),
            pending_invitation=_count(breakdown.get("pending_invitation")),
            pending_cancellation=_count(breakdown.get("pending_cancellation")),
            active_this_cycle=_count(breakdown.get("active_this_cycle")),
            inactive_this_cycle=_count(breakdown.get("inactive_this_cycle")),
        ),
        seat_management_setting=_optional_str(payload.get("seat_management_setting")) or "unconfigured",
        public_code_suggestions=_optional_str(payload.get("public_code_suggestions")) or "unconfigured",
        ide_chat=_optional_str(payload.get("ide_chat")),
        platform_chat=_optional_str(payload.get("platform_chat")),
        cli=_optional_str(payload.get("cli")),
        plan_type=_optional_str(payload.get("plan_type")),
    )


def fetch_snapshot(client: CopilotClient, org: str, *, now: datetime | None = None,
                   on_page: PageProgress | None = None) -> LiveSnapshot:
    """Read ``org``'s billing (one GET) and every seat (ceil(N/100) GETs) into a snapshot.

    Pages are parsed as they arrive, so only one page of raw JSON is held at a time.

    :param now: the ``fetched_at`` to record; ``None`` means the current UTC time.
    :param on_page: progress callback, see :data:`copilot_seats.api.PageProgress`.
    """
    billing = parse_billing(client.get_billing(org))
    total: list[int | None] = [None]

    def progress(pages: int, seen: int, total_seats: int | None) -> None:
        total[0] = total_seats
        if on_page is not None:
            on_page(pages, seen, total_seats)

    seats, unassigned = parse_seats(client.iter_seats(org, on_page=progress))
    return LiveSnapshot(
        organization=org,
        billing=billing,
        seats=seats,
        unassigned_count=unassigned,
        fetched_at=now if now is not None else datetime.now(UTC),
        total_seats=total[0],
    )
