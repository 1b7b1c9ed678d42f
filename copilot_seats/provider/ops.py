"""The I/O behind the dynamic providers in :mod:`copilot_seats.resources`.

Kept apart from the provider classes so those stay trivially picklable (dill pickles them by
reference into state) and so this module can be tested against the simulator without Pulumi.

Per provider process (one per engine operation) there is one client per (API URL, token), one
cached seat listing per organization (refresh of N seats costs ceil(N/100) + 1 requests), the
stack's settings read once, and the set of seats already revoked in this operation (so a seat
revoked by the Roster in authoritative mode is not revoked a second time by its Seat's delete).
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
from copilot_seats.decisions.run_settings import OnDelete, RunSettings, parse_settings
from copilot_seats.decisions.seat_state import active
from copilot_seats.errors import ApiError, NotFoundError, UnprocessableError
from copilot_seats.github.api import CopilotClient, WriteResult
from copilot_seats.github.credentials import base_url_from, check_token, token_from_stack_config
from copilot_seats.github.live import LiveSnapshot, fetch_snapshot
from copilot_seats.stack.config import read_project_config
from copilot_seats.stack.model import observed_fields

__all__ = [
    "delete_forgets",
    "grant_teams",
    "grant_users",
    "observe_team",
    "observe_user",
    "reset_caches",
    "revoke_teams",
    "revoke_users",
    "settings_for",
    "snapshot",
]

_lock = threading.Lock()
_write_lock = threading.Lock()
_fetch_lock = threading.Lock()
_token_lock = threading.Lock()
_stack_tokens: dict[str, str] = {}
_stack_settings: dict[str, RunSettings] = {}
_clients: dict[tuple[str, str], CopilotClient] = {}
_snapshots: dict[tuple[str, str], LiveSnapshot] = {}
_revoked: set[tuple[str, str]] = set()


def reset_caches() -> None:
    """Forget clients, listings, settings and revocations (tests; a new engine operation gets a
    new process anyway)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
        _snapshots.clear()
        _revoked.clear()
    with _token_lock:
        _stack_tokens.clear()
        _stack_settings.clear()


def _stack_token(stack: str | None) -> str:
    """The stack's ``github:token``, read through the CLI once per provider process and stack
    (a ``pulumi config get`` subprocess per CRUD call would cost ~0.3 s per seat)."""
    key = stack or ""
    with _token_lock:
        if key not in _stack_tokens:
            _stack_tokens[key] = token_from_stack_config(stack)
        return _stack_tokens[key]


def settings_for(props: Mapping[str, Any]) -> RunSettings:
    """The stack's current settings (config via the CLI, environment overrides), once per process.

    Deletes consult these, not values recorded in state: ``pulumi destroy`` runs no program,
    and an operator who sets ``onDelete: forget`` means it for the very next operation.
    """
    stack = str(props.get("stack") or "")
    with _token_lock:
        if stack not in _stack_settings:
            config = read_project_config(stack)
            _stack_settings[stack] = parse_settings(config.get, os.environ)
        return _stack_settings[stack]


def _client(props: Mapping[str, Any]) -> CopilotClient:
    env = os.environ
    base_url = base_url_from(env, props.get("api_url"))
    token = (check_token(env["GITHUB_TOKEN"], "GITHUB_TOKEN") if (env.get("GITHUB_TOKEN") or "").strip()
             else _stack_token(props.get("stack")))
    spacing = float(env.get("COPILOT_SEATS_WRITE_SPACING", defaults.WRITE_SPACING_SECONDS))
    with _lock:
        client = _clients.get((base_url, token))
        if client is None:
            client = CopilotClient(base_url, token, write_spacing=spacing)
            _clients[(base_url, token)] = client
        return client


def snapshot(props: Mapping[str, Any], fresh: bool = False) -> LiveSnapshot:
    """The org's listing, fetched once per process (``fresh`` fetches again after writes)."""
    client = _client(props)
    org = str(props["organization"])
    key = (client.base_url, org.casefold())
    with _fetch_lock:  # concurrent reads wait for the one listing instead of each fetching it
        snap = None if fresh else _snapshots.get(key)
        if snap is None:
            snap = fetch_snapshot(client, org)
            _snapshots[key] = snap
    return snap


def observe_user(props: Mapping[str, Any]) -> dict[str, Any] | None:
    """Observations for a declared user, or None when the seat is gone or pending cancellation."""
    seat = snapshot(props).seats.get(str(props["login"]).casefold())
    return observed_fields(seat) if active(seat) else None


def observe_team(props: Mapping[str, Any]) -> dict[str, Any] | None:
    """For a team grant: how many active seats come through the team; None when there are none."""
    slug = str(props["team"]).casefold()
    seats = [s for s in snapshot(props).seats.values() if s.assigning_team == slug and active(s)]
    return {"live": True, "live_seats": len(seats)} if seats else None


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
    org = str(props["organization"]).casefold()
    with _lock:
        _revoked.difference_update((org, login.casefold()) for login in logins)


def grant_teams(props: Mapping[str, Any], slugs: list[str]) -> None:
    """Grant seats to every member of the teams."""
    _raise_first(_write(props, "add_teams", slugs))


def revoke_teams(props: Mapping[str, Any], slugs: list[str]) -> None:
    """Cancel the seats granted through the teams; an already-cancelled or deleted team succeeds."""
    result = _write(props, "remove_teams", slugs)
    for _batch, error in result.errors:
        if not isinstance(error, NotFoundError):
            raise error


def revoke_users(props: Mapping[str, Any], logins: list[str]) -> None:
    """Cancel the *direct* grant of each login (GitHub's O6), at most once per operation.

    Success when the seat is gone, already pending, or held through a team: a team seat cannot
    be cancelled per user (422) and the user keeps it, which is exactly what removing a direct
    grant means. Any other failure raises.
    """
    org = str(props["organization"])
    with _lock:
        todo = [login for login in logins if (org.casefold(), login.casefold()) not in _revoked]
    if not todo:
        return
    result = _write(props, "remove_users", todo)
    failed: set[str] = set()
    for batch, error in result.errors:
        if isinstance(error, NotFoundError):
            continue
        if not isinstance(error, UnprocessableError):
            raise error
        failed |= set(_retry_one_by_one(props, batch, error))
    with _lock:
        _revoked.update((org.casefold(), login.casefold()) for login in todo if login not in failed)


def _retry_one_by_one(props: Mapping[str, Any], batch: Iterable[str], error: ApiError) -> list[str]:
    """After a 422 for a batch: revoke each login alone; a login whose seat comes through a team
    (or is gone, or pending) is done. Returns logins that stay unrevoked for a team seat."""
    kept: list[str] = []
    for login in batch:
        single = _write(props, "remove_users", [login])
        if not single.errors:
            continue
        err = single.errors[0][1]
        if isinstance(err, NotFoundError):
            continue
        if not isinstance(err, UnprocessableError):
            raise err
        try:
            seat = _client(props).get_member_seat(str(props["organization"]), login)
        except NotFoundError:
            continue  # no seat at all: nothing to revoke
        if seat.get("pending_cancellation_date") or (seat.get("assigning_team") or {}).get("slug"):
            kept.append(login)
            continue
        raise err from error
    return kept


def delete_forgets(props: Mapping[str, Any]) -> bool:
    """True when the stack is set to ``onDelete: forget`` (drop from state, write nothing)."""
    return settings_for(props).on_delete is OnDelete.FORGET
