"""Pure policy rules: one resource's input properties -> the violations they show.

Every rule has the signature ``(props, config, now) -> Iterable[Violation]`` (:data:`Rule`):

* ``props`` are a resource's *inputs* as :func:`copilot_seats.stack.model.build_stack` builds
  them (JSON values: ISO strings, bools, numbers, lists, dicts). A value that is not known yet
  (during a preview) is :data:`UNKNOWN`; a rule that needs it yields a "cannot judge"
  :class:`Violation` (``unknown`` set) instead of guessing, and the pack turns that into the
  engine's advisory "can't run policy during preview" note.
* ``config`` is the policy's configuration (``staleDays``, ``maxSeats``, ...); a missing key
  means the default of :mod:`copilot_seats.policies.config`.
* ``now`` is an aware UTC datetime; rules never read the clock, files, env or network.

Rules yield violations as data and never raise. Judgments that are also made elsewhere are not
re-implemented here: staleness is :func:`copilot_seats.decisions.analysis.stale_reason`, the drift lists on
the Organization resource come from :func:`copilot_seats.decisions.analysis.compare`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from copilot_seats.decisions.analysis import StaleKind, stale_reason
from copilot_seats.desired.spec import Grant, StaleExemption, UserGrant, normalize_login
from copilot_seats.errors import ResponseError
from copilot_seats.github.live import LiveSeat, parse_date, parse_datetime
from copilot_seats.policies.config import setting

__all__ = [
    "ACTIVITY_HINT",
    "UNKNOWN",
    "Props",
    "Rule",
    "Violation",
    "double_grant",
    "expired_grant",
    "grant_expired",
    "missing_seat",
    "missing_team_seats",
    "stale_seat",
    "stale_team_members",
]


class _Unknown:
    """Type of :data:`UNKNOWN`."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""A property whose value the engine does not know yet (only during ``pulumi preview``)."""

ACTIVITY_HINT: Final = (
    "GitHub's activity data can lag up to 24 hours, and IDE activity is only reported when the "
    "editor's telemetry is enabled: check with the user before removing the seat, or record a "
    "stale_exemption (reason, until) in seats.yaml."
)
"""GitHub's troubleshooting note for missing activity, appended to every stale-seat message."""


@dataclass(frozen=True)
class Violation:
    """One finding of one rule.

    :param policy: the policy's name, e.g. ``stale-seat``.
    :param subject: who it is about: a login, a team slug, or the organization.
    :param message: the full sentence shown under the policy's description in a preview.
    :param logins: the logins concerned (for a team: its seat holders); ``()`` when none.
    :param unknown: the input properties that were unknown; non-empty means the rule could
        *not* judge the resource (and ``message`` says so), not that it is in violation.
    """

    policy: str
    subject: str
    message: str
    logins: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def determined(self) -> bool:
        """False for a "cannot judge during preview" result (see ``unknown``)."""
        return not self.unknown


Props = Mapping[str, Any]
"""A resource's input properties, or a policy's configuration (JSON values)."""

Rule = Callable[[Props, Props, datetime], Iterable[Violation]]
"""A pure rule: ``(props, config, now) -> violations``."""


class _Malformed(ValueError):
    """An input that is not of the shape build_stack produces (reported, never raised out)."""


def _cannot_judge(policy: str, subject: str, props: Props, keys: Iterable[str]) -> Violation | None:
    unknown = tuple(k for k in keys if props.get(k) is UNKNOWN)
    if not unknown:
        return None
    return Violation(policy, subject, f"{subject}: cannot judge yet: {', '.join(unknown)} not known "
                     "during preview", unknown=unknown)


def _subject(props: Mapping[str, Any]) -> str:
    for key in ("login", "team", "organization"):
        value = props.get(key)
        if isinstance(value, str) and value:
            return value
    return "?"


def _datetime(props: Mapping[str, Any], key: str) -> datetime | None:
    try:
        return parse_datetime(props.get(key))
    except (ValueError, ResponseError) as exc:
        raise _Malformed(f"{key} is not an ISO 8601 timestamp ({props.get(key)!r})") from exc


def _date(props: Mapping[str, Any], key: str) -> date | None:
    try:
        return parse_date(props.get(key))
    except (ValueError, ResponseError) as exc:
        raise _Malformed(f"{key} is not a YYYY-MM-DD date ({props.get(key)!r})") from exc


def _exemption(props: Mapping[str, Any]) -> StaleExemption | None:
    until = _date(props, "stale_exemption_until")
    if until is None:
        return None
    return StaleExemption(str(props.get("stale_exemption_reason") or "no reason given"), until)


def _owner(props: Mapping[str, Any]) -> str:
    owner = props.get("owner")
    return f" Owner: {owner}." if isinstance(owner, str) and owner else ""


def grant_expired(grant: Grant, now: datetime) -> bool:
    """True when ``grant.expires`` is before today (the ``expires`` day itself is still valid)."""
    return grant.expires is not None and grant.expires < now.date()


# --- Seat resources ---------------------------------------------------------------------------

_STALE_INPUTS = ("live", "pending_cancellation_date", "created_at", "last_activity_at",
                 "remembered_last_activity_at", "stale_exemption_until")


def stale_seat(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``stale-seat``: the seat's holder has not used Copilot for ``staleDays`` (see
    :func:`copilot_seats.decisions.analysis.stale_reason` for the judgment: reporting lag, grace period
    for never-used seats, exemptions, remembered activity when GitHub reports null).

    Seats that are not live or are pending cancellation are ``missing-seat``'s business.
    """
    login = _subject(props)
    blocked = _cannot_judge("stale-seat", login, props, _STALE_INPUTS)
    if blocked is not None:
        yield blocked
        return
    if props.get("live") is not True:
        return
    try:
        created_at = _datetime(props, "created_at")
        if created_at is None:
            return  # live seats always carry created_at; without it there is nothing to judge
        seat = LiveSeat(
            login=login, key=normalize_login(login),
            assigning_team=props.get("assigning_team") or None,
            created_at=created_at,
            pending_cancellation_date=_date(props, "pending_cancellation_date"),
            last_activity_at=_datetime(props, "last_activity_at"),
            last_activity_editor=props.get("last_activity_editor") or None,
        )
        exemption = _exemption(props)
        remembered = _datetime(props, "remembered_last_activity_at")
    except _Malformed as exc:
        yield Violation("stale-seat", login, f"{login}: cannot judge: {exc}", (login,))
        return
    verdict = stale_reason(seat, UserGrant(login=login, stale_exemption=exemption), now,
                           setting(config, "stale-seat", "staleDays"),
                           setting(config, "stale-seat", "graceDays"), remembered)
    if verdict is None:
        return
    details = [f"{login}: {verdict.message}."]
    if verdict.kind is StaleKind.INACTIVE and not verdict.remembered and seat.last_activity_editor:
        details.append(f"Last editor: {seat.last_activity_editor}.")
    if verdict.kind is StaleKind.NO_ACTIVITY:
        details.append(f"Granted on {created_at.date().isoformat()}.")
    if exemption is not None:
        details.append(f"Its stale exemption ({exemption.reason}) ended {exemption.until.isoformat()}.")
    yield Violation("stale-seat", login, " ".join(details) + f"{_owner(props)} {ACTIVITY_HINT}", (login,))


def stale_team_members(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``stale-seat`` for the seats a declared team grants: each member judged like a user seat.

    The team's ``members`` input lists the live seats held through it (login and activity); the
    team entry's owner and stale exemption apply to every member. Messages name the member and
    the team, so the violation on the ``TeamGrant`` resource reads as a per-login finding.
    """
    team = _subject(props)
    blocked = _cannot_judge("stale-seat", team, props, ("members",))
    if blocked is not None:
        yield blocked
        return
    members = props.get("members")
    if not isinstance(members, list):
        return
    shared = {k: props.get(k) for k in ("owner", "stale_exemption_reason", "stale_exemption_until")}
    for member in members:
        if not isinstance(member, Mapping):
            continue
        for found in stale_seat({**member, **shared, "live": True}, config, now):
            yield Violation(found.policy, found.subject, f"(via team {team}) {found.message}", found.logins)


def missing_seat(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``missing-seat`` for a declared user whose standing (:mod:`copilot_seats.decisions.seat_state`) is
    ``missing`` (GitHub lists no seat) or ``leaving`` (pending cancellation); the message names
    the class. Both are repaired by a plain ``pulumi up``."""
    login = _subject(props)
    blocked = _cannot_judge("missing-seat", login, props, ("standing",))
    if blocked is not None:
        yield blocked
        return
    state = props.get("standing")
    if state == "leaving":
        try:
            pending = _date(props, "pending_cancellation_date")
        except _Malformed as exc:
            yield Violation("missing-seat", login, f"{login}: cannot judge: {exc}", (login,))
            return
        ends = f" (access ends {pending.isoformat()})" if pending else ""
        yield Violation("missing-seat", login,
                        f"{login}: leaving — the seat is pending cancellation{ends} but seats.yaml "
                        f"declares it; `pulumi up` re-grants it, or remove the entry.{_owner(props)}", (login,))
    elif state == "missing":
        yield Violation("missing-seat", login,
                        f"{login}: missing — declared in seats.yaml but GitHub lists no Copilot seat for "
                        f"this user; `pulumi up` grants it.{_owner(props)}", (login,))


def double_grant(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``double-grant``: a user declared directly whose seat comes through a declared team."""
    login = _subject(props)
    blocked = _cannot_judge("double-grant", login, props, ("via_declared_team", "assigning_team"))
    if blocked is not None:
        yield blocked
        return
    if props.get("via_declared_team") is True:
        team = props.get("assigning_team") or "a declared team"
        yield Violation("double-grant", login,
                        f"{login}: declared under users and also seated through team {team}, which "
                        "seats.yaml declares too (GitHub bills one seat); keep one of the two entries "
                        f"so ownership and expiry are unambiguous.{_owner(props)}", (login,))


# --- Seat and TeamGrant resources -------------------------------------------------------------

def expired_grant(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``expired-grant``: a user or team entry whose ``expires`` date is before today."""
    subject = _subject(props)
    blocked = _cannot_judge("expired-grant", subject, props, ("expires",))
    if blocked is not None:
        yield blocked
        return
    try:
        expires = _date(props, "expires")
    except _Malformed as exc:
        yield Violation("expired-grant", subject, f"{subject}: cannot judge: {exc}")
        return
    if expires is None or not grant_expired(Grant(expires=expires), now):
        return
    kind = "team " if "team" in props else ""
    days = (now.date() - expires).days
    yield Violation("expired-grant", subject,
                    f"{kind}{subject}: the grant expired on {expires.isoformat()} ({days} days ago); "
                    f"remove the entry from seats.yaml or extend `expires`.{_owner(props)}",
                    () if kind else (subject,))


def missing_team_seats(props: Props, config: Props, now: datetime) -> Iterator[Violation]:
    """``missing-seat`` for a declared team whose standing is ``missing`` (no seat through it) or
    ``leaving`` (its only seats are pending cancellation)."""
    team = _subject(props)
    blocked = _cannot_judge("missing-seat", team, props, ("standing",))
    if blocked is not None:
        yield blocked
        return
    state = props.get("standing")
    if state == "leaving":
        yield Violation("missing-seat", f"team {team}",
                        f"team {team}: leaving — every seat through it is pending cancellation (the team "
                        f"grant was revoked); `pulumi up` re-grants it, or remove the entry.{_owner(props)}")
    elif state == "missing":
        yield Violation("missing-seat", f"team {team}",
                        f"team {team}: missing — declared in seats.yaml but no Copilot seat comes through "
                        f"it (the team grant is missing, or the team has no members).{_owner(props)}")
