"""Handlers of the resources that hold seats: :data:`~copilot_seats.provider.contract.SEAT` and
:data:`~copilot_seats.provider.contract.TEAM`.

``create`` grants only when the program planned a *repair* (the seat is absent, pending
cancellation, or held only through a team seats.yaml does not declare): adopting an org whose
declared seats are all held sends no write. ``update`` is metadata, or the planned repair.
``delete`` cancels the direct grant (or the team's), or writes nothing with ``onDelete: forget``.
``read`` serves ``pulumi refresh`` and ``pulumi import`` (ids ``org/login``, ``org/team/slug``).
Nothing is ever replaced: a login's case is not an identity.
"""

from __future__ import annotations

from typing import Any

from copilot_seats.errors import ApiError
from copilot_seats.provider.contract import SEAT, TEAM
from copilot_seats.provider.handler import Context, Handler, ProviderError, key, raise_failures

__all__ = ["SeatHandler", "TeamGrantHandler", "needs_grant", "remember_activity"]

_METADATA = ("owner", "reason", "expires", "cost_center", "stale_exemption_reason", "stale_exemption_until")


def needs_grant(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """The planned repair applies: absent/pending always; a team-only seat until we granted it directly."""
    kind = news.get("repair_kind")
    if kind in ("grant", "re-grant"):
        return True
    return kind == "grant-direct" and not olds.get("granted_directly")


def _changed(olds: dict[str, Any], news: dict[str, Any], name_field: str) -> list[str]:
    changed = [f for f in _METADATA if olds.get(f) != news.get(f)]
    changed += [f for f in ("organization", name_field) if key(olds.get(f)) != key(news.get(f))]
    if needs_grant(olds, news):
        changed.append("repair")
    return changed


def remember_activity(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    """Keep the newest known activity date when GitHub stops reporting one (null after 90 days)."""
    candidates = [news.get("last_activity_at"), news.get("remembered_last_activity_at"),
                  olds.get("remembered_last_activity_at"), olds.get("last_activity_at")]
    known = [c for c in candidates if isinstance(c, str) and c]
    return {**news, "remembered_last_activity_at": max(known) if known else None}


def _refused(action: str, name: str, error: ApiError | None) -> None:
    if error is not None:
        raise_failures(action, {name: error}, [name])


def _split_id(id_: str, shape: str) -> list[str]:
    """The parts of an import id of ``shape`` (``<placeholder>`` parts any non-empty text, others literal)."""
    pieces, parts = id_.split("/"), shape.split("/")
    if len(pieces) != len(parts) or not all(pieces) or any(
            not part.startswith("<") and piece != part for piece, part in zip(pieces, parts, strict=True)):
        raise ProviderError(f"invalid id {id_!r}: expected {shape}")
    return pieces


class SeatHandler(Handler):
    """One declared user's direct seat."""

    rtype = SEAT

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return remember_activity(olds or {}, news), []

    def diff(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return _changed(olds, news, "login")

    async def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        granted = needs_grant({}, props)
        if granted:
            await self._grant(ctx, props)
        direct = granted or (bool(props.get("live")) and not props.get("assigning_team")
                             and not props.get("pending_cancellation_date"))
        return f"{key(props['organization'])}/{key(props['login'])}", SEAT.keep_outputs(props, granted_directly=direct)

    async def update(self, ctx: Context, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        granted = needs_grant(olds, news)
        if granted:
            await self._grant(ctx, news)
        moved = key(olds.get("organization")) != key(news.get("organization"))
        return SEAT.keep_outputs(news, granted_directly=granted or (bool(olds.get("granted_directly")) and not moved))

    async def read(self, ctx: Context, id_: str, props: dict[str, Any],
                   inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        org, login = ((props["organization"], props["login"]) if props.get("login")
                      else _split_id(id_, "<organization>/<login>"))
        seen = await ctx.run(ctx.session.observe_user, org, login)
        if seen is None:  # gone, or pending cancellation: the next `up` grants it again
            return None
        if props:
            return SEAT.keep_outputs(props), inputs
        direct = not seen.get("assigning_team")
        return {"organization": org, "login": login, "granted_directly": direct}, {"organization": org, "login": login}

    async def delete(self, ctx: Context, id_: str, props: dict[str, Any]) -> None:
        if await ctx.run(ctx.session.delete_forgets, ctx.stack(props)):
            return
        login = str(props["login"])
        _refused("revoke the seat of", login, await ctx.write_one("revoke_users", str(props["organization"]), login))

    @staticmethod
    async def _grant(ctx: Context, props: dict[str, Any]) -> None:
        login = str(props["login"])
        _refused("grant a seat to", login, await ctx.write_one("grant_users", str(props["organization"]), login))


class TeamGrantHandler(Handler):
    """One team grant: every member of the team gets a seat through it."""

    rtype = TEAM

    def diff(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return _changed(olds, news, "team")

    async def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        await self._grant(ctx, props)
        return f"{key(props['organization'])}/team/{key(props['team'])}", TEAM.keep_outputs(props)

    async def update(self, ctx: Context, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        if needs_grant(olds, news) or key(olds.get("organization")) != key(news.get("organization")):
            await self._grant(ctx, news)
        return TEAM.keep_outputs(news)

    async def read(self, ctx: Context, id_: str, props: dict[str, Any],
                   inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if props.get("team"):
            org, slug = str(props["organization"]), str(props["team"])
        else:
            org, _, slug = _split_id(id_, "<organization>/team/<slug>")
        if await ctx.run(ctx.session.observe_team, org, slug) is None:
            return None
        if props:
            return TEAM.keep_outputs(props), inputs
        return {"organization": org, "team": slug}, {"organization": org, "team": slug}

    async def delete(self, ctx: Context, id_: str, props: dict[str, Any]) -> None:
        if await ctx.run(ctx.session.delete_forgets, ctx.stack(props)):
            return
        slug = str(props["team"])
        refusal = await ctx.write_one("revoke_teams", str(props["organization"]), slug)
        _refused("revoke the seats of team", slug, refusal)

    @staticmethod
    async def _grant(ctx: Context, props: dict[str, Any]) -> None:
        slug = str(props["team"])
        _refused("grant seats to team", slug, await ctx.write_one("grant_teams", str(props["organization"]), slug))
