"""What every resource handler of the ``copilot`` provider shares: its context and its base class.

A handler implements one resource type of :mod:`copilot_seats.provider.contract` over plain
dicts (the server converts the engine's protobuf Structs). ``check`` and ``diff`` are pure and
fast (the engine calls them one resource at a time); ``create``/``update``/``delete`` are
coroutines, so thousands of concurrent engine calls wait cheaply for their batched write.
Blocking work (the listing, settings) runs in threads through :meth:`Context.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from copilot_seats.errors import ApiError, CopilotSeatsError
from copilot_seats.provider.batching import WriteBatcher
from copilot_seats.provider.contract import ResourceType
from copilot_seats.provider.session import Failures, Session

__all__ = ["Context", "Handler", "ProviderError", "key", "raise_failures"]

T = TypeVar("T")


class ProviderError(CopilotSeatsError):
    """A handler refuses or fails an operation; the message is what the engine shows."""


def key(value: Any) -> str:
    """GitHub compares logins, slugs and org names case-insensitively."""
    return str(value or "").casefold()


def raise_failures(action: str, failures: Failures, names: Iterable[str]) -> None:
    """Fail the resource when any of its names failed, naming each with GitHub's answer."""
    failed = [n for n in names if n in failures]
    if failed:
        detail = "; ".join(f"{n}: {failures[n]}" for n in failed[:5])
        more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
        raise ProviderError(f"could not {action} {', '.join(failed[:5])}{more}: {detail}")


@dataclass
class Context:
    """The provider process's session, write batcher, and this operation's planned writes.

    Why plans: batching concurrent calls needs concurrency, and current engines run at most
    4 x CPUs steps at once (v3.78 is unbounded). So the Organization's check records the run's
    planned grants; the first Seat create that needs one sends them all (in requests of 100)
    and every Seat reads its own login's outcome. Revocations are batched the same way by the
    Roster (its update runs before any delete; its delete is the first step of a destroy).
    """

    session: Session
    batcher: WriteBatcher
    plans: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    _sent: dict[tuple[str, str], asyncio.Future[Failures]] = field(default_factory=dict)

    def plan(self, op: str, org: str, names: Iterable[str]) -> None:
        """Record that this run will apply ``op`` to ``names`` (nothing is sent yet)."""
        self.plans[(op, org.casefold())] = {str(n).casefold(): str(n) for n in names}

    async def write_one(self, op: str, org: str, name: str) -> ApiError | None:
        """One resource's write, and GitHub's refusal if any: already applied in this process
        (by a batch) -> that outcome; planned -> the plan's one batch; else batched with
        concurrent calls."""
        known, error = self.session.outcome(op, org, name)
        if known:
            return error
        key = (op, org.casefold())
        planned = self.plans.get(key) or {}
        if name.casefold() in planned:
            sent = self._sent.get(key)
            if sent is None:
                sent = asyncio.ensure_future(self.batcher.write(op, org, list(planned.values())))
                self._sent[key] = sent
            failures = await asyncio.shield(sent)
            return failures.get(planned[name.casefold()])
        return (await self.batcher.write(op, org, [name])).get(name)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    def stack(self, props: dict[str, Any]) -> str:
        """The stack whose settings apply: the provider's own input (resources of stacks created
        before the native provider recorded it in their properties)."""
        return self.session.config.stack or str(props.get("stack") or "")


class Handler:
    """Base: a record with no API writes (subclasses override what they do)."""

    rtype: ClassVar[ResourceType]

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Validated inputs and failures as (property, reason)."""
        return news, []

    def diff(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        """The properties whose change is an update (empty: no change). Nothing is ever replaced."""
        return []

    def planned_writes(self, inputs: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
        """Writes this run will make, announced by the checked inputs: (operation, org, names)."""
        return []

    async def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    async def update(self, ctx: Context, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        return self.rtype.keep_outputs(news)

    async def read(self, ctx: Context, id_: str, props: dict[str, Any],
                   inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(outputs, inputs) as GitHub shows them now, or None when the resource is gone."""
        return props, inputs

    async def delete(self, ctx: Context, id_: str, props: dict[str, Any]) -> None:
        return None
