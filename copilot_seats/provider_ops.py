"""The I/O behind the dynamic providers in :mod:`copilot_seats.resources`.

Kept apart from the provider classes so those stay trivially picklable (dill pickles them by
reference into state) and so this module can be tested against the simulator without Pulumi.

Per provider process (one per engine operation) there is one client per (API URL, token) and
one cached seat listing per organization: refresh of N seats costs ceil(N/100) + 1 requests.
Writes are serialized (the provider serves up to four calls at once; GitHub asks integrations
to send mutating requests one at a time) and spaced by ``COPILOT_SEATS_WRITE_SPACING`` seconds
(default GitHub's 1 s; the simulator-backed demo and tests set 0).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from copilot_seats import defaults
from copilot_seats.api import CopilotClient, WriteResult
from copilot_seats.credentials import base_url_from, token_from_stack_config
from copilot_seats.errors import ApiError, NotFoundError, UnprocessableError
from copilot_seats.live import LiveSeat, LiveSnapshot, fetch_snapshot

__all__ = [
    "grant_teams",
    "grant_users",
    "observe_team",
    "observe_user",
    "observed_fields",
    "reset_caches",
    "revoke_teams",
    "revoke_user",
]

_lock = threading.Lock()
_write_lock = threading.Lock()
_fetch_lock = threading.Lock()
_token_lock = threading.Lock()
_stack_tokens: dict[str, str] = {}
_clients: dict[tuple[str, str], CopilotClient] = {}
_snapshots: dict[tuple[str, str], LiveSnapshot] = {}


def reset_caches() -> None:
    """Forget clients and listings (tests; a new engine operation gets a new process anyway)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
        _snapshots.clear()
    with _token_lock:
        _stack_tokens.clear()


def _stack_token(stack: str | None) -> str:
    """The stack's ``github:token``, read through the CLI once per provider process and stack
    (a ``pulumi config get`` subprocess per CRUD call would cost ~0.3 s per seat)."""
    key = stack or ""
    with _token_lock:
        if key not in _stack_tokens:
            _stack_tokens[key] = token_from_stack_config(stack)
        return _stack_tokens[key]


def _client(props: Mapping[str, Any]) -> CopilotClient:
    env = os.environ
    base_url = base_url_from(env, props.get("api_url"))
    token = (env.get("GITHUB_TOKEN") or "").strip() or _stack_token(props.get("stack"))
    spacing = float(env.get("COPILOT_SEATS_WRITE_SPACING", defaults.WRITE_SPACING_SECONDS))
    with _lock:
        client = _clients.get((base_url, token))
        if client is None:
            client = CopilotClient(base_url, token, write_spacing=spacing)
            _clients[(base_url, token)] = client
        return client


def _snapshot(props: Mapping[str, Any]) -> LiveSnapshot:
    client = _client(props)
    org = str(props["organization"])
    key = (client.base_url, org.casefold())
    with _fetch_lock:  # concurrent reads wait for the one listing instead of each fetching it
        snap = _snapshots.get(key)
        if snap is None:
            snap = fetch_snapshot(client, org)
            _snapshots[key] = snap
    return snap


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def observed_fields(seat: LiveSeat | None) -> dict[str, Any]:
    """The observation inputs of a seat resource (see resources.OBSERVED_FIELDS), as JSON-able values."""
    if seat is None:
        return {"live": False, "assigning_team": None, "last_activity_at": None,
                "last_activity_editor": None, "last_authenticated_at": None, "created_at": None,
                "pending_cancellation_date": None, "plan_type": None}
    return {
        "live": True,
        "assigning_team": seat.assigning_team,
        "last_activity_at": _iso(seat.last_activity_at),
        "last_activity_editor": seat.last_activity_editor,
        "last_authenticated_at": _iso(seat.last_authenticated_at),
        "created_at": _iso(seat.created_at),
        "pending_cancellation_date": _iso(seat.pending_cancellation_date),
        "plan_type": seat.plan_type,
    }


def observe_user(props: Mapping[str, Any]) -> dict[str, Any] | None:
    """Observations for a declared user, or None when the seat is gone or pending cancellation."""
    seat = _snapshot(props).seats.get(str(props["login"]).casefold())
    if seat is None or seat.pending_cancellation_date is not None:
        return None
    return observed_fields(seat)


def observe_team(props: Mapping[str, Any]) -> dict[str, Any] | None:
    """For a team grant: how many live seats come through the team; None when there are none."""
    slug = str(props["team"]).casefold()
    seats = [s for s in _snapshot(props).seats.values()
             if s.assigning_team == slug and s.pending_cancellation_date is None]
    if not seats:
        return None
    return {"live": True, "live_seats": len(seats)}


def _write(props: Mapping[str, Any], op: str, names: Iterable[str]) -> WriteResult:
    client = _client(props)
    org = str(props["organization"])
    with _write_lock:
        return getattr(client, op)(org, list(names))  # type: ignore[no-any-return]


def _raise_first(result: WriteResult) -> None:
    if result.errors:
        raise result.errors[0][1]


def grant_users(props: Mapping[str, Any], logins: list[str]) -> None:
    """Grant direct seats; granting an existing or pending seat succeeds (it restores it)."""
    _raise_first(_write(props, "add_users", logins))


def grant_teams(props: Mapping[str, Any], slugs: list[str]) -> None:
    """Grant seats to every member of the teams."""
    _raise_first(_write(props, "add_teams", slugs))


def revoke_teams(props: Mapping[str, Any], slugs: list[str]) -> None:
    """Cancel the seats granted through the teams; an already-cancelled team succeeds."""
    result = _write(props, "remove_teams", slugs)
    for _batch, error in result.errors:
        if not isinstance(error, NotFoundError):
            raise error


def revoke_user(props: Mapping[str, Any]) -> None:
    """Cancel a direct seat. Gone or already pending: success. Held through a team: a clear error."""
    login = str(props["login"])
    result = _write(props, "remove_users", [login])
    if not result.errors:
        return
    error: ApiError = result.errors[0][1]
    if isinstance(error, NotFoundError):
        return
    if isinstance(error, UnprocessableError):
        try:
            seat = _client(props).get_member_seat(str(props["organization"]), login)
        except NotFoundError:
            return  # no seat at all: nothing to revoke
        team = (seat.get("assigning_team") or {}).get("slug") if isinstance(seat, dict) else None
        if seat.get("pending_cancellation_date"):
            return
        if team:
            raise UnprocessableError(
                error.status, error.method, error.url,
                f"{login}'s seat comes through team '{team}', so it cannot be revoked per user: "
                f"remove {login} from team '{team}' or drop the team's grant in seats.yaml",
            ) from error
    raise error
