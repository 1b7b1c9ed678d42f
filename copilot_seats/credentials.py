"""Where the GitHub token and API URL come from, resolved at run time and never stored.

Order (first hit wins):

* token: ``GITHUB_TOKEN`` in the environment, else the stack config secret ``github:token``;
* base URL: ``GITHUB_API_URL`` (GitHub Actions sets it), else ``github:baseUrl``, else
  https://api.github.com.

The Pulumi program reads stack config through ``pulumi.Config``. The dynamic providers run in
a separate process that gets no stack config: the pinned engine (3.78.1) hands none to dynamic
providers, and on current engines (whose ``configure()`` hook would receive it) the resources
use an explicit provider with no config, because the default provider's config is kept in state
(:mod:`copilot_seats.engine_provider`). So when ``GITHUB_TOKEN`` is unset they ask the CLI
(``pulumi config get github:token --stack S``), which decrypts it with the same secrets
provider the running update uses. Either way the token lives only in memory: it is never a
resource input, never pickled with the provider, never logged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping

from copilot_seats.defaults import DEFAULT_BASE_URL

__all__ = ["CredentialsError", "base_url_from", "token_from_stack_config"]


class CredentialsError(RuntimeError):
    """No token could be found; the message says where we looked (never a token value)."""


def base_url_from(env: Mapping[str, str], configured: str | None) -> str:
    """The API root: ``GITHUB_API_URL``, else the configured ``github:baseUrl``, else GitHub."""
    return (env.get("GITHUB_API_URL") or "").strip() or (configured or "").strip() or DEFAULT_BASE_URL


def token_from_stack_config(stack: str | None, cwd: str | None = None) -> str:
    """Read the ``github:token`` secret of ``stack`` through the Pulumi CLI on PATH.

    Raises :class:`CredentialsError` when the CLI is missing or the key is not set.
    """
    pulumi = shutil.which("pulumi")
    if not pulumi or not stack:
        raise CredentialsError(
            "no GitHub token: set GITHUB_TOKEN or `pulumi config set --secret github:token ...`"
        )
    proc = subprocess.run(
        [pulumi, "config", "get", "github:token", "--stack", stack, "--non-interactive"],
        cwd=cwd or os.getcwd(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    token = proc.stdout.strip()
    if proc.returncode != 0 or not token:
        raise CredentialsError(
            f"no GitHub token: GITHUB_TOKEN is unset and stack {stack!r} has no github:token "
            "(set it with `pulumi config set --secret github:token ...`)"
        )
    return token
