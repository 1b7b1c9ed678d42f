"""The explicit dynamic-provider instance every copilot-seats resource is registered with.

Why not the engine's default provider: since Pulumi 3.139 the engine configures the *default*
``pulumi-python`` provider (the one behind every dynamic resource) with the stack's whole
configuration, secrets decrypted, and records that configuration as the default provider's
inputs in the state. With ``github:token`` in stack config (a documented setup), a current CLI
would keep the token in every checkpoint: encrypted by the stack's secrets provider, but shown
by ``pulumi stack export --show-secrets`` to anyone who can decrypt the state, and kept after a
rotation until the next ``up``. An explicit provider resource gets only the inputs the program
gives it — none — so the state holds no configuration on any engine, pinned or current.

Stacks created before this provider existed hold their resources under the default provider
(``...::pulumi:providers:pulumi-python::default``). The alias makes the engine take that record
as this provider: its inputs are updated (to none) and no seat is touched. Without the alias the
engine would replace every resource whose provider changed, and a replaced seat is revoked.
"""

from __future__ import annotations

import pulumi

__all__ = ["DEFAULT_PROVIDER_NAME", "PROVIDER_NAME", "PROVIDER_PACKAGE", "dynamic_provider"]

PROVIDER_PACKAGE = "pulumi-python"
"""The package of Python dynamic resources (type ``pulumi-python:dynamic/...``)."""

PROVIDER_NAME = "copilot-seats"
"""Resource name of the explicit provider (URN ``...::pulumi:providers:pulumi-python::copilot-seats``)."""

DEFAULT_PROVIDER_NAME = "default"
"""The name the engine gives a default provider of an unversioned package such as pulumi-python."""


def dynamic_provider() -> pulumi.ProviderResource:
    """Register the provider once per program run; pass it as ``ResourceOptions(provider=...)``."""
    default_urn = (f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::"
                   f"pulumi:providers:{PROVIDER_PACKAGE}::{DEFAULT_PROVIDER_NAME}")
    return pulumi.ProviderResource(PROVIDER_PACKAGE, PROVIDER_NAME, {},
                                   pulumi.ResourceOptions(aliases=[default_urn]))
