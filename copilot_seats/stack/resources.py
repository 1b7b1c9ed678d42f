"""The program's side of the ``copilot`` provider: its provider resource and the Seats resource.

Type tokens and property names come from :mod:`copilot_seats.provider.contract`. The Seats
resource aliases the per-seat ``Roster`` of copilot-seats 0.1, so an upgrading stack's first
``up`` turns that record into this one (see :mod:`copilot_seats.provider.legacy`).
"""

from __future__ import annotations

from typing import Any

import pulumi

from copilot_seats.provider.contract import LEGACY_TOKENS, PACKAGE, SEATS, SEATS_NAME, SeatsInputs

__all__ = ["PROVIDER_NAME", "Seats", "copilot_provider"]

PROVIDER_NAME = "copilot-seats"
"""Resource name of the explicit provider (URN ``...::pulumi:providers:copilot::copilot-seats``)."""


def copilot_provider(base_url: str | None) -> pulumi.ProviderResource:
    """The provider. Its inputs name the API root and the stack, never the token: the provider
    takes ``GITHUB_TOKEN`` from its environment, else reads the stack's ``github:token`` secret
    through the CLI (so no token is ever in the state, and ``pulumi destroy``, which runs no
    program, authenticates the same way)."""
    return pulumi.ProviderResource(PACKAGE, PROVIDER_NAME, {"baseUrl": base_url, "stack": pulumi.get_stack()})


class Seats(pulumi.CustomResource):
    """Every seat one organization's seats.yaml manages, and the guard (one resource per org)."""

    last_run: pulumi.Output[Any]

    def __init__(self, inputs: SeatsInputs, provider: pulumi.ProviderResource):
        prefix = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::"
        roster = next(t for t in LEGACY_TOKENS if t.endswith(":Roster"))
        aliases: list[pulumi.Input[str] | pulumi.Alias] = [f"{prefix}{roster}::roster"]
        super().__init__(SEATS.token, SEATS_NAME, {**inputs.to_props(), "last_run": None},
                         pulumi.ResourceOptions(provider=provider, aliases=aliases))
