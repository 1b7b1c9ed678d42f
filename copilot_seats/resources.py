"""Legacy: the dynamic-provider classes that stacks created before the native provider hold.

Until version 0.1.0 every resource was a Python dynamic resource whose provider was pickled
*by reference* into the state (``copilot_seats.resources.SeatProvider`` and so on), so this
module keeps its path and class names. The program no longer registers dynamic resources
(:mod:`copilot_seats.stack.resources` aliases each of them to its ``copilot:index:*`` type, and
the first ``pulumi up`` moves the stack to the native provider without touching a seat). The
engine still runs these classes in two cases, before that first ``up``:

* ``pulumi refresh`` (or ``up --refresh``) reads each resource through its old provider: the
  answer is the recorded state unchanged (the program observes GitHub itself);
* a resource the upgrading run does not claim (a seat removed from seats.yaml in the same edit,
  an early stack's Revocation records) is deleted through its old provider; a seat or team is
  then revoked exactly as the native provider would revoke it (same :class:`Session`, same
  ``onDelete`` and guard settings), and Revocation records write nothing. ``pulumi destroy`` of
  a stack that was never upgraded is refused with what to do.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider

from copilot_seats import lifeline
from copilot_seats.provider.session import ProviderConfig, Session

lifeline.start_watch()  # in the provider process only: exit when the CLI dies (kill -9 of `up`)
lifeline.plain_provider_errors()  # in the provider process only: errors are messages, not tracebacks

__all__ = ["OrganizationProvider", "RevocationProvider", "RosterProvider", "SeatProvider", "TeamGrantProvider"]

_sessions: dict[str, Session] = {}


def _session(props: dict[str, Any]) -> Session:
    """One session per stack for this legacy process (GITHUB_TOKEN, else the stack's github:token)."""
    stack = str(props.get("stack") or "")
    if stack not in _sessions:
        _sessions[stack] = Session(ProviderConfig.resolve({"baseUrl": props.get("api_url"), "stack": stack}))
    return _sessions[stack]


class _Legacy(ResourceProvider):
    """No-I/O answers for everything but delete."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False, replaces=[])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def create(self, props: dict[str, Any]) -> CreateResult:
        raise RuntimeError("copilot-seats no longer creates dynamic resources; run `pulumi up` with this version")


class SeatProvider(_Legacy):
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        session = _session(props)
        if session.delete_forgets(str(props.get("stack") or "")):
            return
        failures = session.revoke_users(str(props["organization"]), [str(props["login"])])
        if failures:
            raise next(iter(failures.values()))


class TeamGrantProvider(_Legacy):
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        session = _session(props)
        if session.delete_forgets(str(props.get("stack") or "")):
            return
        failures = session.revoke_teams(str(props["organization"]), [str(props["team"])])
        if failures:
            raise next(iter(failures.values()))


class OrganizationProvider(_Legacy):
    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class RosterProvider(_Legacy):
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        raise RuntimeError(
            "this stack was created by an earlier copilot-seats (dynamic providers) and has not been moved to "
            "the copilot provider yet: run `pulumi up` once (it changes no seat), then `pulumi destroy`. "
            "Nothing was revoked.")


class RevocationProvider(_Legacy):
    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None
