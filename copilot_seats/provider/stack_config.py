"""The stack's non-secret config, read by the provider process through the Pulumi CLI.

The pinned engine (3.78.1) hands dynamic providers no stack config, and ``pulumi destroy``
does not run the program at all, so a provider that must honour ``copilot-seats:onDelete``
or ``allowMassRemoval`` while deleting asks the CLI on PATH: ``pulumi config --json --stack S``.
Secret values come back as ``[secret]`` placeholders (no ``--show-secrets``): this module
never sees a token.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from copilot_seats.decisions.run_settings import CONFIG_NAMESPACE, SettingsError

__all__ = ["project_config", "read_project_config"]


def read_project_config(stack: str | None, cwd: str | None = None) -> dict[str, str]:
    """``copilot-seats:*`` keys of ``stack`` (without the namespace) -> raw string values.

    Raises :class:`SettingsError` when the CLI is missing or cannot read the stack: a delete
    that cannot learn whether it may revoke must not guess.
    """
    pulumi = shutil.which("pulumi")
    if not pulumi or not stack:
        raise SettingsError("cannot read the stack's copilot-seats settings: no `pulumi` CLI on PATH "
                            "or no stack name recorded; nothing was revoked")
    proc = subprocess.run(
        [pulumi, "config", "--json", "--stack", stack, "--non-interactive"],
        cwd=cwd or os.getcwd(), capture_output=True, text=True, timeout=120, check=False,
    )
    if proc.returncode != 0:
        raise SettingsError(f"cannot read the config of stack {stack!r} through the Pulumi CLI "
                            f"(exit {proc.returncode}); nothing was revoked")
    try:
        doc = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        raise SettingsError(f"the Pulumi CLI printed no JSON config for stack {stack!r}; nothing was revoked") from None
    return project_config(doc)


def project_config(doc: Any) -> dict[str, str]:
    """``copilot-seats:*`` keys of a ``pulumi config --json`` document -> raw string values
    (secret values are skipped: the settings are never secret)."""
    prefix = f"{CONFIG_NAMESPACE}:"
    out: dict[str, str] = {}
    for key, entry in doc.items() if isinstance(doc, dict) else ():
        if not key.startswith(prefix) or not isinstance(entry, dict) or entry.get("secret"):
            continue
        value = entry.get("value")
        out[key[len(prefix):]] = value if isinstance(value, str) else json.dumps(value)
    return out
