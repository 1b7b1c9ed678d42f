"""What every resource handler of the ``copilot`` provider shares: its context and its base class.

A handler implements one resource type over plain dicts (the server converts the engine's
protobuf Structs). ``check`` and ``diff`` are pure and fast; ``create``/``update``/``delete``/
``read`` are coroutines; blocking work (the listing, writes, settings) runs in threads through
:meth:`Context.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from copilot_seats.errors import ApiError, CopilotSeatsError
from copilot_seats.provider.session import Session

__all__ = ["Context", "DetailedDiff", "Handler", "ProviderError", "key", "raise_failures"]

T = TypeVar("T")

DetailedDiff = dict[str, str]
"""Property path (``users["alice"].owner``) -> ``add`` | ``delete`` | ``update``."""


class ProviderError(CopilotSeatsError):
    """A handler refuses or fails an operation; the message is what the engine shows."""


def key(value: Any) -> str:
    """GitHub compares logins, slugs and org names case-insensitively."""
    return str(value or "").casefold()


def raise_failures(action: str, failures: dict[str, ApiError], names: Iterable[str]) -> None:
    """Fail the operation when any of ``names`` failed, naming each with GitHub's answer."""
    failed = [n for n in names if n in failures]
    if failed:
        detail = "; ".join(f"{n}: {failures[n]}" for n in failed[:5])
        more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
        raise ProviderError(f"could not {action} {', '.join(failed[:5])}{more}: {detail}")


@dataclass
class Context:
    """The provider process's session, and what this operation's records claim.

    ``claimed`` holds, per organization, the user and team keys a Seats create or update of
    this operation manages: a Seats delete in the same operation (``--replace``, a renamed
    resource) never revokes a seat another record just took over.
    """

    session: Session
    claimed: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)

    def claim(self, org: str, users: Iterable[str], teams: Iterable[str]) -> None:
        had_users, had_teams = self.claimed.get(org.casefold(), (frozenset(), frozenset()))
        self.claimed[org.casefold()] = (had_users | frozenset(users), had_teams | frozenset(teams))

    def claims(self, org: str) -> tuple[frozenset[str], frozenset[str]]:
        return self.claimed.get(org.casefold(), (frozenset(), frozenset()))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    def stack(self, props: dict[str, Any]) -> str:
        """The stack whose settings apply: the provider's own ``stack`` input."""
        return self.session.config.stack or str(props.get("stack") or "")


class Handler:
    """Base: a record with no API writes (subclasses override what they do)."""

    tokens: ClassVar[tuple[str, ...]]

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Validated inputs and failures as (property, reason)."""
        return news, []

    def diff(self, old_inputs: dict[str, Any], news: dict[str, Any]) -> DetailedDiff:
        """The changed property paths (empty: no change). Nothing is ever replaced."""
        return {}

    async def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise ProviderError("this resource type is no longer created")

    async def update(self, ctx: Context, id_: str, old_inputs: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        raise ProviderError("this resource type is no longer updated")

    async def read(self, ctx: Context, id_: str, props: dict[str, Any],
                   inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(outputs, inputs) as GitHub shows them now, or None when the resource is gone."""
        return props, inputs

    async def delete(self, ctx: Context, id_: str, props: dict[str, Any], old_inputs: dict[str, Any]) -> None:
        return None
