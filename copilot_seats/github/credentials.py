"""Where the GitHub token and API URL come from, resolved at run time and never stored.

Order (first hit wins):

* token: ``GITHUB_TOKEN`` in the environment, else the stack config secret ``github:token``;
* base URL: ``GITHUB_API_URL`` (GitHub Actions sets it), else ``github:baseUrl``, else
  https://api.github.com.

The Pulumi program reads stack config through ``pulumi.Config``. The ``copilot`` provider
runs in a separate process whose inputs never hold the token (so it is never in the state,
:mod:`copilot_seats.stack.resources`): when ``GITHUB_TOKEN`` is unset it asks the CLI once
(``pulumi config get github:token --stack S``), which decrypts it with the same secrets
provider the running update uses. Either way the token lives only in memory: it is never a
resource input, never logged.

Wherever it comes from, :func:`check_token` validates it before the first request: not empty,
printable ASCII only (GitHub tokens are ``[A-Za-z0-9_]``), so a token file read together with
its next line, a pasted space or a NUL is refused with a message that names the variable or
config key and the offending character's position, never the value (an HTTP library would
otherwise echo the whole header, token included, in its error). Whitespace around the token is
trimmed first (a trailing newline from a token file is harmless).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping

from copilot_seats import redact
from copilot_seats.defaults import DEFAULT_BASE_URL
from copilot_seats.errors import CredentialsError

__all__ = ["CredentialsError", "base_url_from", "check_token", "token_from_stack_config"]

_NO_TOKEN_HELP = "set GITHUB_TOKEN or `pulumi config set --secret github:token ...`"


def check_token(value: str | None, source: str) -> str:
    """The token from ``source`` (e.g. ``GITHUB_TOKEN``, ``github:token``), trimmed and checked.

    :raises CredentialsError: empty, or containing whitespace, a control character or a
        non-ASCII character; the message names ``source`` and the position, never the value.
    """
    token = (value or "").strip()
    if not token:
        raise CredentialsError(f"{source} is empty: {_NO_TOKEN_HELP}")
    for index, char in enumerate(token, start=1):
        if char.isspace() or not " " < char < "\x7f":
            redact.remember(token)  # should it surface anyway (it will not), it is scrubbed
            kind = ("a line break" if char in "\r\n" else "whitespace" if char.isspace()
                    else "a control character" if ord(char) < 0x20 or ord(char) == 0x7f
                    else "a non-ASCII character")
            raise CredentialsError(
                f"{source} is malformed: character {index} of {len(token)} is {kind} "
                f"(U+{ord(char):04X}); a GitHub token is one line of letters, digits and "
                "underscores. Check how the token was read (e.g. a token file with more than one "
                "line) and set it again")
    redact.remember(token)
    return token


def base_url_from(env: Mapping[str, str], configured: str | None) -> str:
    """The API root: ``GITHUB_API_URL``, else the configured ``github:baseUrl``, else GitHub."""
    return (env.get("GITHUB_API_URL") or "").strip() or (configured or "").strip() or DEFAULT_BASE_URL


def token_from_stack_config(stack: str | None, cwd: str | None = None) -> str:
    """Read the ``github:token`` secret of ``stack`` through the Pulumi CLI on PATH.

    Raises :class:`CredentialsError` when the CLI is missing or the key is not set.
    """
    pulumi = shutil.which("pulumi")
    if not pulumi or not stack:
        raise CredentialsError(f"no GitHub token: {_NO_TOKEN_HELP}")
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
    return check_token(proc.stdout, "github:token")
