"""One GitHub session per provider process: credentials, one client, one listing, what was written.

The engine starts one ``pulumi-resource-copilot`` process per operation and configures it once
(``Configure``) with the provider resource's inputs. :class:`Session` is built from that
configuration and owns, for the life of the process:

* the credentials (:class:`ProviderConfig`): ``GITHUB_TOKEN`` in the provider's environment
  wins, else the stack's ``github:token`` secret, read through the CLI once, on the first
  request (the provider's inputs name the stack, never hold the token: nothing secret is in
  the state); the API root from ``GITHUB_API_URL``, else ``baseUrl``;
* one :class:`~copilot_seats.github.api.CopilotClient` (token in memory only, never logged);
* one cached seat listing per organization (a refresh of N seats costs ceil(N/100) + 1 reads);
* the stack's copilot-seats settings, read once (deletes must honour the *current* ``onDelete``
  and guard allowances; ``pulumi destroy`` runs no program);
* the logins already revoked in this operation, so a seat the Roster revoked is not revoked a
  second time by its Seat's delete.

Writes take a list of names and return the failures *per name*: a batch GitHub refuses as a
whole (404/422) is split in halves until the names it refuses are found, so one bad login costs
its own resource, not its 99 neighbours. Everything here is synchronous and thread-safe; the
async server calls it through :mod:`copilot_seats.provider.batching`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from copilot_seats import defaults
from copilot_seats.decisions.planning import Approval, NotApproved
from copilot_seats.decisions.run_settings import OnDelete, RunSettings, parse_settings
from copilot_seats.errors import ApiError, ConfigError, CredentialsError, NotFoundError, UnprocessableError
from copilot_seats.github.api import CopilotClient, WriteResult
from copilot_seats.github.credentials import base_url_from, check_token, token_from_stack_config
from copilot_seats.github.live import LiveSnapshot, fetch_snapshot
from copilot_seats.provider.contract import WriteOp
from copilot_seats.provider.stack_config import read_project_config

__all__ = ["Failures", "ProviderConfig", "Session"]

Failures = dict[str, ApiError]
"""Names a write could not apply, each with GitHub's answer for it."""


@dataclass(frozen=True)
class ProviderConfig:
    """The provider's configuration (the provider resource's inputs), resolved once.

    :param stack: the stack being operated on; when ``GITHUB_TOKEN`` is unset, the token is the
        stack's ``github:token`` secret, read through the CLI once per process (never an input of
        any resource, so never in the state).
    :param token: ``GITHUB_TOKEN`` from the provider's environment, when set.

    Its ``repr`` never shows the token.
    """

    base_url: str
    token: str | None
    token_source: str
    write_spacing: float
    stack: str = ""

    @classmethod
    def resolve(cls, inputs: Mapping[str, Any], env: Mapping[str, str] | None = None) -> ProviderConfig:
        env = os.environ if env is None else env
        raw = env.get("COPILOT_SEATS_WRITE_SPACING", str(defaults.WRITE_SPACING_SECONDS))
        try:
            spacing = float(raw)
        except ValueError:
            raise ConfigError(f"COPILOT_SEATS_WRITE_SPACING must be a number of seconds, got {raw!r}") from None
        if not spacing >= 0:
            raise ConfigError(f"COPILOT_SEATS_WRITE_SPACING must be >= 0 seconds, got {raw!r}")
        base_url = base_url_from(env, str(inputs.get("baseUrl") or "") or None)
        stack = str(inputs.get("stack") or "")
        if (env.get("GITHUB_TOKEN") or "").strip():
            return cls(base_url, check_token(env["GITHUB_TOKEN"], "GITHUB_TOKEN"), "GITHUB_TOKEN", spacing, stack)
        return cls(base_url, None, "github:token" if stack else "", spacing, stack)

    def __repr__(self) -> str:
        return f"ProviderConfig(base_url={self.base_url!r}, token_source={self.token_source!r}, stack={self.stack!r})"


def _approved(approval: Approval, org: str, users: Sequence[str] = (), teams: Sequence[str] = ()) -> None:
    missing = approval.unapproved(org, users, teams)
    if missing:
        raise NotApproved(f"refusing to revoke {', '.join(missing[:10])}"
                          f"{f' and {len(missing) - 10} more' if len(missing) > 10 else ''}: no guard verdict of "
                          "this operation approved it (nothing was sent)")


class Session:
    """Everything one provider process knows about GitHub (see the module docstring)."""

    def __init__(self, config: ProviderConfig,
                 settings_reader: Callable[[str], Mapping[str, str]] = read_project_config,
                 token_reader: Callable[[str], str] = token_from_stack_config):
        self.config = config
        self._read_settings = settings_reader
        self._read_token = token_reader
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()
        self._settings_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._client: CopilotClient | None = None
        self._snapshots: dict[str, LiveSnapshot] = {}
        self._settings: dict[str, RunSettings] = {}
        self._revoked: set[tuple[str, str]] = set()
        self._outcomes: dict[tuple[str, str, str], ApiError | None] = {}
        self._last_write = 0.0
        self.writes = 0

    # -- reads ------------------------------------------------------------------------------

    @property
    def client(self) -> CopilotClient:
        with self._lock:
            if self._client is None:
                token = self.config.token
                if not token and self.config.stack:
                    token = self._read_token(self.config.stack)  # once per process, through the CLI
                if not token:
                    raise CredentialsError("no GitHub token for the copilot provider: set GITHUB_TOKEN or "
                                           "`pulumi config set --secret github:token ...`")
                # spacing is kept here, before a batch is taken (see write_ready_in), not in the client
                self._client = CopilotClient(self.config.base_url, token, write_spacing=0)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def snapshot(self, org: str, fresh: bool = False) -> LiveSnapshot:
        """The org's listing, fetched once per process (``fresh`` fetches again after writes)."""
        key = org.casefold()
        with self._fetch_lock:  # concurrent reads wait for the one listing instead of each fetching it
            snap = None if fresh else self._snapshots.get(key)
            if snap is None:
                snap = fetch_snapshot(self.client, org)
                self._snapshots[key] = snap
        return snap

    def settings(self, stack: str) -> RunSettings:
        """The stack's current settings (config via the CLI, environment overrides), once per process."""
        with self._settings_lock:  # not the session lock: the CLI takes a while, writes need not wait
            if stack not in self._settings:
                self._settings[stack] = parse_settings(self._read_settings(stack).get, os.environ)
            return self._settings[stack]

    def delete_forgets(self, stack: str) -> bool:
        """True when the stack is set to ``onDelete: forget`` (drop from state, write nothing)."""
        return self.settings(stack).on_delete is OnDelete.FORGET

    # -- writes -----------------------------------------------------------------------------

    def write_ready_in(self) -> float:
        """Seconds until the next write may be sent (GitHub asks for spacing between writes)."""
        return max(self._last_write + self.config.write_spacing - time.monotonic(), 0.0)

    def _send(self, op: str, org: str, names: Sequence[str]) -> WriteResult:
        with self._write_lock:
            wait = self.write_ready_in()
            if wait:
                time.sleep(wait)
            try:
                return getattr(self.client, op)(org, list(names))  # type: ignore[no-any-return]
            finally:
                self._last_write = time.monotonic()
                self.writes += 1

    def _split(self, op: str, org: str, names: Sequence[str], ok: Callable[[ApiError], bool]) -> Failures:
        """Send ``names``; the names GitHub refused, each with its answer (see :meth:`_narrow`)."""
        failures: Failures = {}
        for batch, error in self._send(op, org, names).errors:
            if not ok(error):
                failures.update(self._narrow(op, org, batch, error, ok))
        return failures

    def _narrow(self, op: str, org: str, batch: Sequence[str], error: ApiError,
                ok: Callable[[ApiError], bool]) -> Failures:
        """``batch`` was refused with ``error``. A per-name refusal (404, 422) is narrowed down by
        sending each half again, until the refused names are found; one both halves repeat word
        for word is org-wide (e.g. the org's seat management setting) and applies to every name
        (three requests, not 2 x 100). Any other error applies to every name."""
        if len(batch) == 1 or not isinstance(error, NotFoundError | UnprocessableError):
            return {name: error for name in batch}
        half = len(batch) // 2
        halves = (batch[:half], batch[half:])
        refused: list[tuple[Sequence[str], ApiError]] = []
        for part in halves:
            errors = [e for _names, e in self._send(op, org, part).errors if not ok(e)]
            if errors:
                refused.append((part, errors[0]))
        if len(refused) == 2 and all(str(e) == str(error) for _part, e in refused):
            return {name: error for name in batch}
        failures: Failures = {}
        for part, part_error in refused:
            failures.update(self._narrow(op, org, part, part_error, ok))
        return failures

    _OPPOSITE: Final = {WriteOp.GRANT_USERS: WriteOp.REVOKE_USERS, WriteOp.REVOKE_USERS: WriteOp.GRANT_USERS,
                        WriteOp.GRANT_TEAMS: WriteOp.REVOKE_TEAMS, WriteOp.REVOKE_TEAMS: WriteOp.GRANT_TEAMS}

    def outcome(self, op: WriteOp, org: str, name: str) -> tuple[bool, ApiError | None]:
        """Whether ``op`` was already applied to ``name`` in this process, and GitHub's refusal if
        it was refused: a seat the Roster revoked in its batch needs no request of its own."""
        with self._lock:
            found = (op, org.casefold(), name.casefold())
            return (found in self._outcomes, self._outcomes.get(found))

    def _record(self, op: WriteOp, org: str, names: Sequence[str], failures: Failures) -> Failures:
        with self._lock:
            for name in names:
                self._outcomes[(op, org.casefold(), name.casefold())] = failures.get(name)
                self._outcomes.pop((self._OPPOSITE[op], org.casefold(), name.casefold()), None)
        return failures

    def grant_users(self, org: str, logins: Sequence[str]) -> Failures:
        """Grant direct seats; granting a held or pending seat succeeds (it restores it)."""
        failures = self._split("add_users", org, logins, lambda _e: False)
        with self._lock:
            self._revoked.difference_update((org.casefold(), n.casefold()) for n in logins if n not in failures)
        return self._record(WriteOp.GRANT_USERS, org, logins, failures)

    def grant_teams(self, org: str, slugs: Sequence[str]) -> Failures:
        """Grant seats to every member of the teams."""
        return self._record(WriteOp.GRANT_TEAMS, org, slugs, self._split("add_teams", org, slugs, lambda _e: False))

    def revoke_teams(self, org: str, slugs: Sequence[str], approval: Approval) -> Failures:
        """Cancel the seats granted through the teams, at most once per operation; an
        already-cancelled or deleted team succeeds. Only teams ``approval`` covers are sent."""
        _approved(approval, org, teams=slugs)
        todo = [s for s in slugs if self.outcome(WriteOp.REVOKE_TEAMS, org, s) != (True, None)]
        if not todo:
            return {}
        failures = self._split("remove_teams", org, todo, lambda e: isinstance(e, NotFoundError))
        return self._record(WriteOp.REVOKE_TEAMS, org, todo, failures)

    def revoke_users(self, org: str, logins: Sequence[str], approval: Approval) -> Failures:
        """Cancel the *direct* grant of each login (GitHub's O6), at most once per operation.

        Success when the seat is gone, already pending, or held through a team: a team seat cannot
        be cancelled per user (422) and the user keeps it, which is exactly what removing a direct
        grant means. Any other failure is reported for its login. Only logins ``approval`` covers
        are sent (deny by default: see :class:`~copilot_seats.decisions.planning.Approval`).
        """
        _approved(approval, org, users=logins)
        with self._lock:
            todo = [n for n in logins if (org.casefold(), n.casefold()) not in self._revoked]
        if not todo:
            return {}
        failures = self._split("remove_users", org, todo, lambda e: isinstance(e, NotFoundError))
        kept: set[str] = set()
        for login, error in list(failures.items()):
            if isinstance(error, UnprocessableError):
                del failures[login]
                if self._kept_by_team(org, login, error, failures):
                    kept.add(login)
        with self._lock:
            self._revoked.update((org.casefold(), n.casefold()) for n in todo if n not in failures and n not in kept)
        return self._record(WriteOp.REVOKE_USERS, org, todo, failures)

    def _kept_by_team(self, org: str, login: str, error: ApiError, failures: Failures) -> bool:
        """After a 422 for one login: fine when the seat is gone, pending, or held through a team
        (True: the user keeps a team seat); otherwise the 422 stands as the login's failure."""
        try:
            seat = self.client.get_member_seat(org, login)
        except NotFoundError:
            return False  # no seat at all: nothing to revoke
        except ApiError as err:
            failures[login] = err
            return False
        if seat.get("pending_cancellation_date") or (seat.get("assigning_team") or {}).get("slug"):
            return True
        failures[login] = error
        return False
