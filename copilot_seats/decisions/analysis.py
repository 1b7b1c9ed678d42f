"""Pure decisions about declared vs live seats, shared by the CLI, the Pulumi program and the pack.

No I/O and no clock: ``now`` (an aware UTC datetime) and every threshold are parameters. Inputs
are :mod:`copilot_seats.desired.spec` and :mod:`copilot_seats.github.live` values, compared by casefolded key.

* :func:`stale_reason` judges one seat: is it stale, and why (a :class:`StaleVerdict`)?
* :func:`compare` joins seats.yaml with a snapshot: per-login rows plus the drift sets.
* :func:`estimated_monthly_cost` prices the listed seats.
* :func:`activity_bucket` groups seats by days since last activity (for charts).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from copilot_seats import defaults
from copilot_seats.decisions.seat_state import Standing, TeamStanding, is_double_grant, standing, team_standings
from copilot_seats.desired.spec import Grant, SeatSpec, Settings, TeamGrant, UserGrant
from copilot_seats.github.live import LiveSeat, LiveSnapshot

__all__ = [
    "ACTIVITY_BUCKETS",
    "Comparison",
    "SeatRow",
    "StaleKind",
    "StaleVerdict",
    "activity_bucket",
    "compare",
    "estimated_monthly_cost",
    "is_exempt",
    "seat_price",
    "stale_reason",
]

ACTIVITY_BUCKETS = ("0-7", "8-30", "31-60", "61-90", ">90/never")
"""Days since last activity, for charts; the last bucket also holds null (see LiveSeat)."""

_NULL_MEANING = "never used, or inactive for more than GitHub's 90-day retention"


class StaleKind(enum.StrEnum):
    """Why a seat is stale: ``inactive`` (activity older than the threshold) or ``no_activity``
    (GitHub reports null and the seat was granted more than the grace period ago)."""

    INACTIVE = "inactive"
    NO_ACTIVITY = "no_activity"


@dataclass(frozen=True)
class StaleVerdict:
    """A stale seat and the honest reason.

    :param kind: see :class:`StaleKind`.
    :param message: one sentence for humans, e.g. ``"no Copilot activity for 75 days (...)"``.
    :param last_activity_at: the activity the judgment used (GitHub's, or the remembered one);
        ``None`` when neither is known.
    :param days: days since that activity (``inactive``) or since the grant (``no_activity``).
    :param remembered: True when the judgment used a remembered activity because GitHub now
        reports null.
    """

    kind: StaleKind
    message: str
    last_activity_at: datetime | None
    days: int
    remembered: bool = False


def is_exempt(grant: Grant | None, now: datetime) -> bool:
    """True when ``grant`` has a stale exemption whose ``until`` date has not passed yet."""
    exemption = grant.stale_exemption if grant is not None else None
    return exemption is not None and now.date() <= exemption.until


def stale_reason(
    seat: LiveSeat | None,
    grant: Grant | None,
    now: datetime,
    stale_days: int = defaults.STALE_AFTER_DAYS,
    grace_days: int = defaults.GRACE_DAYS,
    remembered_last_activity: datetime | None = None,
) -> StaleVerdict | None:
    """Judge whether ``seat`` is stale at ``now``; ``None`` means not stale (or not judgeable).

    Rules, in order:

    * no seat, or a seat pending cancellation (already on its way out) -> ``None``;
    * ``grant`` carries a stale exemption whose ``until`` is today or later -> ``None``;
    * the last activity (GitHub's, else ``remembered_last_activity``; the later of the two
      when both are known) is older than ``stale_days`` + :data:`~copilot_seats.defaults.REPORTING_LAG_DAYS`
      (GitHub's activity can lag up to 24 hours) -> ``inactive``;
    * no activity known and the seat was granted (``created_at``) more than ``grace_days`` ago
      -> ``no_activity``, explained as "never used, or inactive for more than GitHub's 90-day
      retention" because GitHub's null means either;
    * otherwise ``None``.

    :param grant: the seats.yaml entry behind the seat (user, else its team), for exemptions;
        ``None`` for an unmanaged seat.
    :param remembered_last_activity: an activity timestamp seen earlier (e.g. kept in stack
        state) for when GitHub has since reset it to null.
    """
    if seat is None or seat.pending_cancellation_date is not None or is_exempt(grant, now):
        return None
    reported = seat.last_activity_at
    known = [t for t in (reported, remembered_last_activity) if t is not None]
    if known:
        last = max(known)
        remembered = reported is None or last != reported
        age = (now - last).days
        if now - last <= timedelta(days=stale_days + defaults.REPORTING_LAG_DAYS):
            return None
        note = (f"last seen {last.date().isoformat()}, remembered; GitHub now reports null"
                if remembered else f"last activity {last.date().isoformat()}")
        return StaleVerdict(StaleKind.INACTIVE,
                            f"no Copilot activity for {age} days ({note}; threshold {stale_days} days)",
                            last, age, remembered)
    granted = (now - seat.created_at).days
    if now - seat.created_at <= timedelta(days=grace_days):
        return None
    return StaleVerdict(StaleKind.NO_ACTIVITY,
                        f"no activity reported: {_NULL_MEANING} (seat granted {granted} days ago, "
                        f"grace {grace_days} days)", None, granted)


@dataclass(frozen=True)
class SeatRow:
    """One login in the joined view of seats.yaml and GitHub.

    :param declared: True when the login is declared directly in seats.yaml or holds a live
        seat through a declared team (i.e. the seat is managed).
    :param declared_directly: True when the login is listed under ``users``.
    :param live: True when GitHub lists a seat for the login.
    :param assigning_team: slug of the team granting the live seat; ``None`` for a direct seat
        or no seat.
    :param seat: the live seat, ``None`` when there is none (a missing declared user).
    :param grant: the seats.yaml entry (user, else the assigning team), ``None`` when unmanaged.
    :param stale: the verdict of :func:`stale_reason`, ``None`` when not stale.
    :param standing: what the seat means against seats.yaml (:mod:`copilot_seats.decisions.seat_state`).
    """

    login: str
    key: str
    declared: bool
    declared_directly: bool
    live: bool
    assigning_team: str | None
    seat: LiveSeat | None
    grant: Grant | None
    stale: StaleVerdict | None
    standing: Standing = Standing.SEATED


@dataclass(frozen=True)
class Comparison:
    """seats.yaml joined with a snapshot. Login lists hold display logins, sorted by key.

    :param rows: one row per login, declared or live, sorted by key.
    :param unmanaged: active seats neither declared directly nor granted by a declared team
        (seats pending cancellation are left out: they are already being removed).
    :param missing: declared users for whom GitHub lists no seat (standing ``missing``).
    :param leaving: declared logins (directly or through a declared team) whose seat is
        pending cancellation (standing ``leaving``; never counted as missing).
    :param missing_teams: declared teams through which GitHub lists no seat at all.
    :param leaving_teams: declared teams whose only seats are pending cancellation.
    :param pending_cancellation: every listed seat with a pending cancellation date.
    :param stale: live seats with a stale verdict.
    :param expired: declared users whose ``expires`` date is before today.
    :param expired_teams: declared teams whose ``expires`` date is before today.
    :param double_granted: users declared directly whose live seat comes through a declared team.
    :param declared_count: logins expected to hold a seat (direct users + live declared-team seats).
    :param live_count: seats listed with a user; :param unassigned_count: ``assignee: null`` seats.
    """

    organization: str
    generated_at: datetime
    rows: tuple[SeatRow, ...]
    unmanaged: tuple[str, ...]
    missing: tuple[str, ...]
    missing_teams: tuple[str, ...]
    pending_cancellation: tuple[str, ...]
    stale: tuple[str, ...]
    expired: tuple[str, ...]
    expired_teams: tuple[str, ...]
    double_granted: tuple[str, ...]
    declared_count: int
    live_count: int
    unassigned_count: int
    leaving: tuple[str, ...] = ()
    leaving_teams: tuple[str, ...] = ()

    @property
    def has_drift(self) -> bool:
        """True when a seat is unmanaged, or a declared user/team is missing or leaving."""
        return bool(self.unmanaged or self.missing or self.missing_teams or self.leaving or self.leaving_teams)


def compare(
    spec: SeatSpec,
    snapshot: LiveSnapshot,
    now: datetime,
    stale_days: int = defaults.STALE_AFTER_DAYS,
    grace_days: int = defaults.GRACE_DAYS,
    remembered: Mapping[str, datetime] | None = None,
) -> Comparison:
    """Join ``spec`` with ``snapshot`` at ``now``: rows and drift sets (see :class:`Comparison`).

    :param remembered: last activity per login key that the stack remembers past GitHub's 90-day
        retention (:mod:`copilot_seats.stack.memory`), so ``report`` and ``prune`` judge staleness
        as the pack does.
    """
    users = {u.key: u for u in spec.users}
    teams = {t.key: t for t in spec.teams}
    keys = sorted(set(users) | set(snapshot.seats))
    memory = remembered or {}
    rows = tuple(_row(key, users, teams, snapshot.seats.get(key), now, stale_days, grace_days, memory.get(key))
                 for key in keys)
    today = now.date()
    by_team = team_standings(teams, snapshot.seats.values())
    return Comparison(
        organization=snapshot.organization,
        generated_at=now,
        rows=rows,
        unmanaged=_logins(r for r in rows if r.standing is Standing.UNMANAGED),
        missing=_logins(r for r in rows if r.standing is Standing.MISSING),
        missing_teams=tuple(t.slug for t in spec.teams if by_team[t.key] is TeamStanding.MISSING),
        pending_cancellation=_logins(r for r in rows if _pending(r)),
        stale=_logins(r for r in rows if r.stale is not None),
        expired=tuple(u.login for u in spec.users if _expired(u, today)),
        expired_teams=tuple(t.slug for t in spec.teams if _expired(t, today)),
        double_granted=_logins(r for r in rows if is_double_grant(r.seat, r.declared_directly, teams.keys())),
        declared_count=sum(1 for r in rows if r.declared),
        live_count=len(snapshot.seats),
        unassigned_count=snapshot.unassigned_count,
        leaving=_logins(r for r in rows if r.standing is Standing.LEAVING),
        leaving_teams=tuple(t.slug for t in spec.teams if by_team[t.key] is TeamStanding.LEAVING),
    )


def _row(key: str, users: Mapping[str, UserGrant], teams: Mapping[str, TeamGrant], seat: LiveSeat | None,
         now: datetime, stale_days: int, grace_days: int, remembered: datetime | None = None) -> SeatRow:
    user = users.get(key)
    team = teams.get(seat.assigning_team) if seat is not None and seat.assigning_team else None
    grant: Grant | None = user if user is not None else team
    login = seat.login if seat is not None else (user.login if user is not None else key)
    return SeatRow(
        login=login,
        key=key,
        declared=user is not None or team is not None,
        declared_directly=user is not None,
        live=seat is not None,
        assigning_team=seat.assigning_team if seat is not None else None,
        seat=seat,
        grant=grant,
        stale=stale_reason(seat, grant, now, stale_days, grace_days, remembered),
        standing=standing(seat, user is not None, teams.keys()),
    )


def _pending(row: SeatRow) -> bool:
    return row.seat is not None and row.seat.pending_cancellation_date is not None


def _expired(grant: Grant, today: date) -> bool:
    return grant.expires is not None and grant.expires < today


def _logins(rows: Iterable[SeatRow]) -> tuple[str, ...]:
    return tuple(r.login for r in rows)


def seat_price(settings: Settings) -> Decimal:
    """Monthly price of one seat: ``settings.seat_price_usd``, else the plan's list price."""
    if settings.seat_price_usd is not None:
        return settings.seat_price_usd
    return defaults.SEAT_PRICE_USD[str(settings.plan)]


def estimated_monthly_cost(seats: LiveSnapshot | int, settings: Settings) -> Decimal:
    """Monthly cost of the listed seats (a snapshot's user and null-assignee seats, or a count).

    Seats pending cancellation are counted: GitHub bills them until the cycle ends.
    """
    count = seats.listed_count if isinstance(seats, LiveSnapshot) else seats
    if count < 0:
        raise ValueError(f"seat count must be >= 0, got {count}")
    return seat_price(settings) * count


def activity_bucket(seat: LiveSeat, now: datetime) -> str:
    """The :data:`ACTIVITY_BUCKETS` label of ``seat``: days since last activity, null -> ``>90/never``."""
    if seat.last_activity_at is None:
        return ACTIVITY_BUCKETS[-1]
    days = max((now - seat.last_activity_at).days, 0)
    for label, upper in zip(ACTIVITY_BUCKETS, (7, 30, 60, 90), strict=False):
        if days <= upper:
            return label
    return ACTIVITY_BUCKETS[-1]
