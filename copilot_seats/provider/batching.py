"""Coalescing the engine's one-call-per-seat writes into GitHub's batched requests.

The engine sends one ``Create`` (grant) or ``Delete`` (revoke) per resource, all at once: its
step executor has no parallelism limit by default. GitHub's ``selected_usernames`` and
``selected_teams`` take arrays, and GitHub asks integrations to space mutating requests (about
a second apart; ~80 writes a minute before the secondary rate limit). So every write goes
through :class:`WriteBatcher`: concurrent calls for the same (operation, organization) wait in a
queue until no new call has joined for ``idle`` seconds, the queue holds ``max_batch`` names,
or the first caller has waited ``max_wait``; then one request carries up to ``max_batch`` names
and each caller gets its own name's outcome (a refused login fails its own resource only).

Requests are sent one at a time, spaced as :meth:`Session.write_ready_in` says; names that
arrive while a request is in flight or while the spacing runs join the next request. So
granting K seats costs ceil(K / 100) requests plus a few for stragglers that arrive after a
pause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from copilot_seats import defaults
from copilot_seats.errors import ApiError
from copilot_seats.provider.session import Failures, Session

__all__ = ["OPERATIONS", "WriteBatcher"]

OPERATIONS = ("grant_users", "grant_teams", "revoke_users", "revoke_teams")
"""The write operations of :class:`Session` the batcher coalesces."""


@dataclass
class _Queue:
    names: list[str] = field(default_factory=list)
    waiters: list[asyncio.Future[ApiError | None]] = field(default_factory=list)
    flushing: bool = False


class WriteBatcher:
    """See the module docstring. One per provider process, used from the server's event loop."""

    def __init__(self, session: Session, *, idle: float = 0.2, max_wait: float = 2.0,
                 max_batch: int = defaults.BATCH_SIZE):
        self.session = session
        self.idle = idle
        self.max_wait = max_wait
        self.max_batch = max_batch
        self._queues: dict[tuple[str, str], _Queue] = {}
        self._send_lock = asyncio.Lock()
        self._drains: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks
        self.requests = 0

    async def write(self, op: str, org: str, names: Iterable[str]) -> Failures:
        """Apply ``op`` to ``names`` (joined with concurrent callers'); the failures among them."""
        if op not in OPERATIONS:
            raise ValueError(f"unknown write operation {op!r}")
        key = (op, org.casefold())
        queue = self._queues.setdefault(key, _Queue())
        loop = asyncio.get_running_loop()
        mine: dict[str, asyncio.Future[ApiError | None]] = {}
        for name in dict.fromkeys(names):
            future: asyncio.Future[ApiError | None] = loop.create_future()
            queue.names.append(name)
            queue.waiters.append(future)
            mine[name] = future
        if mine and not queue.flushing:
            queue.flushing = True
            task = loop.create_task(self._drain(op, org, queue))
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)
        results = await asyncio.gather(*mine.values())
        return {name: err for name, err in zip(mine, results, strict=True) if err is not None}

    async def _drain(self, op: str, org: str, queue: _Queue) -> None:
        """Send the queue's names in batches until it is empty."""
        try:
            while queue.names:
                await self._gather(queue)
                async with self._send_lock:
                    await asyncio.sleep(self.session.write_ready_in())
                    names, waiters = queue.names[:self.max_batch], queue.waiters[:self.max_batch]
                    del queue.names[:self.max_batch], queue.waiters[:self.max_batch]
                    try:
                        failures = await asyncio.to_thread(getattr(self.session, op), org, names)
                    except ApiError as err:  # not per name (e.g. a timeout): every caller of the batch gets it
                        failures = {name: err for name in names}
                    except Exception as err:  # a bug must not leave callers waiting forever
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_exception(err)
                        continue
                    finally:
                        self.requests += 1
                for name, waiter in zip(names, waiters, strict=True):
                    if not waiter.done():
                        waiter.set_result(failures.get(name))
        except Exception as err:  # a bug outside the request (e.g. the spacing): fail the queued callers
            self._fail_queued(queue, err)
        except asyncio.CancelledError:  # the server is stopping: nobody will send the queued names
            self._fail_queued(queue, None)
            raise
        finally:
            queue.flushing = False

    @staticmethod
    def _fail_queued(queue: _Queue, error: Exception | None) -> None:
        """Resolve every queued caller with ``error`` (None: cancel them) and empty the queue."""
        for waiter in queue.waiters:
            if not waiter.done():
                if error is None:
                    waiter.cancel()
                else:
                    waiter.set_exception(error)
        del queue.names[:], queue.waiters[:]

    async def _gather(self, queue: _Queue) -> None:
        """Wait for concurrent callers to join: until a quiet ``idle``, a full batch or ``max_wait``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while len(queue.names) < self.max_batch and loop.time() < deadline:
            seen = len(queue.names)
            await asyncio.sleep(self.idle)
            if len(queue.names) == seen:
                return
