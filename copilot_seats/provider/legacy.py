"""Everything that remains for stacks of copilot-seats 0.1 (one resource per seat): one place.

0.1 stacks hold ``copilot:index:Organization`` (name ``organization``), one ``Seat`` per user,
one ``TeamGrant`` per team and a ``Roster`` (name ``roster``) recording the managed set. The
program of this version registers one ``copilot:index:Seats`` that *aliases* the Roster, so the
first ``up``:

* updates the Roster into the Seats record: its previous inputs (``roster_users``,
  ``roster_teams``, ``declared_count``) are the guard's "last applied roster" (:func:`roster`), so
  an entry removed in the same edit is revoked exactly, under the guard, by the Seats update;
* lets the engine drop the per-seat resources the program no longer declares: their delete
  (:class:`LegacyHandler`) writes nothing: the Seats record took them over.

A ``pulumi destroy`` of a stack never upgraded is refused at its first step (the Roster's delete:
it depends on every seat): upgrade with one ``up`` first. Stacks of the dynamic providers before
0.1 (``pulumi-python:dynamic/copilot:*``) are not carried: upgrade them to 0.1.0 first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from copilot_seats.decisions.planning import Roster
from copilot_seats.provider.contract import LEGACY_TOKENS
from copilot_seats.provider.handler import Context, Handler, ProviderError

__all__ = ["LegacyHandler", "LegacyRosterHandler", "is_legacy_roster", "roster"]


def is_legacy_roster(props: Mapping[str, Any] | None) -> bool:
    """True for the inputs or outputs of a 0.1 ``Roster`` (or ``Organization``) record."""
    return bool(props) and "roster_users" in props  # type: ignore[operator]


def roster(props: Mapping[str, Any]) -> Roster:
    """The managed set a 0.1 Roster recorded."""
    count = props.get("declared_count")
    return Roster(str(props.get("organization") or ""),
                  frozenset(str(u).casefold() for u in props.get("roster_users") or ()),
                  frozenset(str(t).casefold() for t in props.get("roster_teams") or ()),
                  int(count) if isinstance(count, int | float) and not isinstance(count, bool) else 0)


class LegacyHandler(Handler):
    """The 0.1 ``Seat``, ``TeamGrant`` and ``Organization``: only ``read`` (a refresh before the
    upgrade) and ``delete`` (the upgrade: the Seats record took them over; nothing is written)."""

    tokens = tuple(t for t in LEGACY_TOKENS if not t.endswith(":Roster"))


class LegacyRosterHandler(Handler):
    """The 0.1 ``Roster``: an upgrading run aliases it into the Seats record; only a ``destroy``
    of a stack never upgraded deletes it, and that is refused before anything is revoked."""

    tokens = tuple(t for t in LEGACY_TOKENS if t.endswith(":Roster"))

    async def delete(self, ctx: Context, id_: str, props: dict[str, Any], old_inputs: dict[str, Any]) -> None:
        raise ProviderError(
            "this stack still holds copilot-seats 0.1's per-seat resources; nothing was revoked. "
            "Run `pulumi up` once with this version (it moves them into one copilot:index:Seats record "
            "without writing to GitHub), then run `pulumi destroy` again")
