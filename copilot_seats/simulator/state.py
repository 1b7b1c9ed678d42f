"""The simulator's state and GitHub's seat semantics, independent of HTTP.

:class:`SimState` holds organizations, enterprises, accepted tokens and the control plane
(faults, rate limit, request log). Its methods implement what GitHub does; each either returns
a JSON-ready payload or raises :class:`SimError` with GitHub's status and message:

* revoking a seat sets ``pending_cancellation_date`` (first day of the next billing cycle, the
  1st of next month here) and the seat stays listed; granting a pending seat restores it;
* granting a team creates a team-derived seat (``assigning_team``) for each member;
* writes answer 422 unless ``seat_management_setting`` is ``assign_selected``, and revoking a
  seat held only through a team answers 422;
* unknown organizations and non-member lookups answer 404.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from copilot_seats.simulator.control import Fault, RateLimit, RequestLog
from copilot_seats.simulator.model import (
    SimOrg,
    SimSeat,
    SimTeam,
    org_payload,
    organization_payload,
    seat_payload,
)

__all__ = ["DOCS", "SimError", "SimState"]

DOCS = "https://docs.github.com/rest/copilot/copilot-user-management"

_NOT_ASSIGN_SELECTED = (
    "Copilot Business or Enterprise is not enabled for this organization, billing has not been set up, "
    "a public code suggestions policy has not been set, or the organization's Copilot access setting is "
    "set to enable Copilot for all users or is unconfigured."
)


class SimError(Exception):
    """An error answer: HTTP ``status`` and GitHub's ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SimState:
    """Everything the simulator knows; thread-safe (one lock around all data operations).

    :param orgs: organizations by casefolded login.
    :param enterprises: enterprise slug (casefolded) -> logins of its organizations.
    :param tokens: accepted token -> ``"write"`` or ``"read"`` (read tokens get 403 on writes).
    :param clock: returns the current aware UTC datetime (injected for deterministic tests).
    :param state_file: when set, the state is saved there (JSON) after every successful write.
    """

    def __init__(self, orgs: dict[str, SimOrg], *, enterprises: dict[str, list[str]] | None = None,
                 tokens: dict[str, str] | None = None, clock: Callable[[], datetime] | None = None,
                 state_file: Path | None = None) -> None:
        self.orgs = orgs
        self.enterprises = enterprises or {}
        self.tokens = tokens or {}
        self.clock = clock or (lambda: datetime.now(UTC))
        self.state_file = state_file
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.rate_limit = RateLimit()
        self.log = RequestLog()
        self._order: dict[str, list[str]] = {}

    # -- control plane ------------------------------------------------------------------------

    def inject(self, fault: Fault | None = None, **fields: Any) -> Fault:
        """Queue a fault (a :class:`Fault` or its fields, e.g. ``status=429, retry_after=1``)."""
        fault = fault or Fault(**fields)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first queued fault matching the request, consuming one of its ``times``."""
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def token_permission(self, token: str | None) -> str | None:
        """``"write"``/``"read"`` for an accepted token, None otherwise."""
        return self.tokens.get(token) if token else None

    # -- reads --------------------------------------------------------------------------------

    def org(self, login: str) -> SimOrg:
        org = self.orgs.get(login.casefold())
        if org is None:
            raise SimError(404, "Not Found")
        return org

    def organization(self, org_login: str) -> dict[str, Any]:
        """``GET /orgs/{org}``: the organization object; 404 when unknown."""
        with self.lock:
            return organization_payload(self.org(org_login))

    def billing(self, org_login: str) -> dict[str, Any]:
        """``GET /orgs/{org}/copilot/billing``, counts computed from the seats."""
        with self.lock:
            org = self.org(org_login)
            now = self.clock()
            cycle_start = now.date().replace(day=1)
            seats = list(org.seats.values())
            active = sum(1 for s in seats if s.last_activity_at and s.last_activity_at.date() >= cycle_start)
            total = len(seats) + len(org.unassigned)
            return {
                "seat_breakdown": {
                    "total": total,
                    "added_this_cycle": sum(1 for s in seats if s.created_at.date() >= cycle_start),
                    "pending_invitation": 0,
                    "pending_cancellation": sum(1 for s in seats if s.pending_cancellation_date),
                    "active_this_cycle": active,
                    "inactive_this_cycle": total - active,
                },
                "seat_management_setting": org.seat_management_setting,
                "public_code_suggestions": org.public_code_suggestions,
                "ide_chat": org.ide_chat, "platform_chat": org.platform_chat, "cli": org.cli,
                "plan_type": org.plan_type,
            }

    def seat_page(self, org_login: str, page: int,
                  per_page: int) -> tuple[int, list[dict[str, Any]], int]:
        """(``total_seats``, seats of ``page`` (1-based), objects listed); null-assignee seats last."""
        with self.lock:
            org = self.org(org_login)
            order = self._order.get(org.login.casefold())
            if order is None:
                order = self._order[org.login.casefold()] = list(org.seats)
            total = len(order) + len(org.unassigned)
            start, stop = (page - 1) * per_page, page * per_page
            out = [seat_payload(org, org.seats[k]) for k in order[start:stop]]
            for created in org.unassigned[max(start - len(order), 0):max(stop - len(order), 0)]:
                out.append(seat_payload(org, None, created_at=created))
            return total, out, total

    def enterprise_seat_page(self, slug: str, page: int,
                             per_page: int) -> tuple[int, list[dict[str, Any]], int]:
        """E1: one seat object per granting org; ``total_seats`` counts unique users."""
        with self.lock:
            logins = self.enterprises.get(slug.casefold())
            if logins is None:
                raise SimError(404, "Not Found")
            everything: list[dict[str, Any]] = []
            unique: set[str] = set()
            for login in logins:
                org = self.org(login)
                for key, seat in org.seats.items():
                    unique.add(key)
                    everything.append(seat_payload(org, seat, with_org=True))
                everything += [seat_payload(org, None, created_at=c, with_org=True) for c in org.unassigned]
            unassigned = sum(len(self.org(o).unassigned) for o in logins)
            page_seats = everything[(page - 1) * per_page:page * per_page]
            return len(unique) + unassigned, page_seats, len(everything)

    def member_seat(self, org_login: str, username: str) -> dict[str, Any]:
        """O7: 404 for non-members and members without a seat; 422 when Copilot is disabled."""
        with self.lock:
            org = self.org(org_login)
            key = username.casefold()
            if key not in org.members:
                raise SimError(404, "Not Found")
            if org.seat_management_setting == "disabled":
                raise SimError(422, "Copilot Business or Enterprise is not enabled for this organization.")
            seat = org.seats.get(key)
            if seat is None:
                raise SimError(404, "Not Found")
            return seat_payload(org, seat)

    # -- writes -------------------------------------------------------------------------------

    def add_users(self, org_login: str, usernames: list[str]) -> int:
        """O5: direct seats; existing seats are refreshed (and pending ones restored) and counted."""
        with self.lock:
            org = self._writable(org_login)
            strangers = [u for u in usernames if u.casefold() not in org.members]
            if strangers:
                raise SimError(422, f"These users are not members of {org.login}: {', '.join(strangers)}")
            for name in usernames:
                seat = self._ensure_seat(org, name)
                seat.direct = True
            return self._changed(len(set(u.casefold() for u in usernames)))

    def remove_users(self, org_login: str, usernames: list[str]) -> int:
        """O6: cancel direct grants; 422 for a seat held only through a team (nothing changes)."""
        with self.lock:
            org = self._writable(org_login)
            seats = [org.seats[u.casefold()] for u in usernames if u.casefold() in org.seats]
            via_team = [s.login for s in seats if s.teams and not s.direct]
            if via_team:
                raise SimError(422, "A user's seat cannot be cancelled because it was assigned to them via "
                                    f"a team: {', '.join(via_team)}")
            cancelled = 0
            for seat in seats:
                if seat.direct:
                    seat.direct = False
                    cancelled += self._maybe_cancel(seat)
            return self._changed(cancelled)

    def add_teams(self, org_login: str, slugs: list[str]) -> int:
        """O3: a team-derived seat for every member of each team (refreshing existing seats)."""
        with self.lock:
            org = self._writable(org_login)
            teams = [self._team(org, s) for s in slugs]
            touched: set[str] = set()
            for team in teams:
                key = team.slug.casefold()
                for member in team.members:
                    seat = self._ensure_seat(org, org.members.get(member, member))
                    if key not in seat.teams:
                        seat.teams.append(key)
                    touched.add(member)
            return self._changed(len(touched))

    def remove_teams(self, org_login: str, slugs: list[str]) -> int:
        """O4: drop the team grants; seats left without any grant become pending cancellation."""
        with self.lock:
            org = self._writable(org_login)
            teams = [self._team(org, s) for s in slugs]
            cancelled = 0
            for team in teams:
                key = team.slug.casefold()
                for seat in org.seats.values():
                    if key in seat.teams:
                        seat.teams.remove(key)
                        seat.last_team = key
                        cancelled += self._maybe_cancel(seat)
            return self._changed(cancelled)

    def end_billing_cycle(self) -> int:
        """Drop every seat pending cancellation (what GitHub does when the cycle ends)."""
        with self.lock:
            dropped = 0
            for org in self.orgs.values():
                for key in [k for k, s in org.seats.items() if s.pending_cancellation_date]:
                    del org.seats[key]
                    dropped += 1
            return self._changed(dropped)

    # -- helpers ------------------------------------------------------------------------------

    def _writable(self, org_login: str) -> SimOrg:
        org = self.org(org_login)
        if org.seat_management_setting != "assign_selected":
            raise SimError(422, _NOT_ASSIGN_SELECTED)
        return org

    def _team(self, org: SimOrg, slug: str) -> SimTeam:
        team = org.teams.get(slug.casefold())
        if team is None:
            raise SimError(422, f"Team {slug!r} does not exist in {org.login}.")
        return team

    def _ensure_seat(self, org: SimOrg, login: str) -> SimSeat:
        now = self.clock().replace(microsecond=0)
        seat = org.seats.get(login.casefold())
        if seat is None:
            seat = org.seats[login.casefold()] = SimSeat(login=login, created_at=now, updated_at=now)
        elif seat.pending_cancellation_date is not None:
            seat.pending_cancellation_date = None
            seat.created_at = now  # "when the assignee was last granted access"
        seat.updated_at = now
        return seat

    def _maybe_cancel(self, seat: SimSeat) -> int:
        if seat.direct or seat.teams or seat.pending_cancellation_date is not None:
            return 0
        seat.pending_cancellation_date = next_cycle_start(self.clock().date())
        return 1

    def _changed(self, count: int) -> int:
        self._order.clear()
        if self.state_file is not None:
            from copilot_seats.simulator.fixtures import dump_state

            tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
            tmp.write_text(json.dumps(dump_state(self), indent=1))
            os.replace(tmp, self.state_file)
        return count

    def org_summary(self) -> list[dict[str, Any]]:
        """Organization Simple payloads of every org (for the admin endpoint)."""
        with self.lock:
            return [org_payload(o) for o in self.orgs.values()]


def next_cycle_start(today: date) -> date:
    """The first day of the next billing cycle: the 1st of next month."""
    return date(today.year + (today.month == 12), today.month % 12 + 1, 1)
