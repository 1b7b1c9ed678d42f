"""The program's side of the ``copilot`` provider: its provider resource and resource classes.

Type tokens and property names come from :mod:`copilot_seats.provider.contract`. Each class
also carries the aliases that let a stack created by the dynamic providers (type
``pulumi-python:dynamic/copilot:<Name>``, provider ``pulumi:providers:pulumi-python``) move to
the native provider in place: the engine then diffs each old seat with the new provider (no
replacement, so no revocation), because the provider resource itself is aliased from the old
one (``providerChanged`` in the engine's step generator).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pulumi

from copilot_seats.provider.contract import ORGANIZATION, PACKAGE, ROSTER, SEAT, TEAM, ResourceType

__all__ = ["LEGACY_PROVIDER_NAMES", "PROVIDER_NAME", "CopilotResource", "Organization", "Roster", "Seat",
           "TeamGrant", "copilot_provider", "resource_options"]

PROVIDER_NAME = "copilot-seats"
"""Resource name of the explicit provider (URN ``...::pulumi:providers:copilot::copilot-seats``)."""

LEGACY_PROVIDER_NAMES = ("copilot-seats", "default")
"""Names of the ``pulumi-python`` provider that earlier versions used (explicit, then default)."""


def copilot_provider(base_url: str | None) -> pulumi.ProviderResource:
    """The one provider every resource uses. Its inputs name the API root and the stack, never
    the token: the provider takes ``GITHUB_TOKEN`` from its environment, else reads the stack's
    ``github:token`` secret through the CLI (so no token is ever in the state, and
    ``pulumi destroy``, which runs no program, authenticates the same way)."""
    stack, project = pulumi.get_stack(), pulumi.get_project()
    aliases: list[pulumi.Input[str] | pulumi.Alias] = [
        f"urn:pulumi:{stack}::{project}::pulumi:providers:pulumi-python::{name}" for name in LEGACY_PROVIDER_NAMES]
    return pulumi.ProviderResource(PACKAGE, PROVIDER_NAME, {"baseUrl": base_url, "stack": stack},
                                   pulumi.ResourceOptions(aliases=aliases))


def resource_options(rtype: ResourceType, name: str, former_names: Sequence[str], provider: pulumi.ProviderResource,
                     depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
    """Options of one resource: the provider, dependencies, and every name/type it had before.

    The aliases are whole URNs (our resources have no parent), not ``pulumi.Alias`` specs the
    SDK would resolve through Outputs one by one: at 10,000 seats that is measurable."""
    prefix = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::"
    aliases: list[pulumi.Input[str] | pulumi.Alias] = [f"{prefix}{rtype.legacy_token}::{name}"]
    for former in former_names:
        aliases += [f"{prefix}{rtype.token}::{former}", f"{prefix}{rtype.legacy_token}::{former}"]
    return pulumi.ResourceOptions(provider=provider, depends_on=list(depends_on), aliases=aliases)


class CopilotResource(pulumi.CustomResource):
    """A resource of the copilot provider; ``props`` follow the type's contract."""

    rtype: ClassVar[ResourceType]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.rtype.token, name, props, opts)


class Seat(CopilotResource):
    """A declared user's Copilot seat (resource name = casefolded login)."""

    rtype = SEAT


class TeamGrant(CopilotResource):
    """A team whose members get Copilot seats through it (resource name = casefolded slug)."""

    rtype = TEAM


class Organization(CopilotResource):
    """Org-wide observations for the policy pack, and the guard."""

    rtype = ORGANIZATION


class Roster(CopilotResource):
    """The managed set; authoritative revocations; the destroy guard."""

    rtype = ROSTER

    run_id: pulumi.Output[str]
    revoking: pulumi.Output[Any]
