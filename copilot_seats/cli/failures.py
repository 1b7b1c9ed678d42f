"""The CLI's one mapping from the exception tree to messages and exit codes.

Every command raises typed errors (:mod:`copilot_seats.errors`) where a problem is detected;
only this module decides how they end the process:

=====  ==========================================================================
exit   meaning
=====  ==========================================================================
0      success
1      the input is invalid or a check failed: SpecError, EditError, InputError, CheckFailed,
       GuardError, a file that cannot be read or written (and, as a last resort, an
       internal error: a bug, printed as one line, never a traceback)
2      usage or configuration: bad flags (click), ConfigError (e.g. ``--org ..``),
       CredentialsError (GITHUB_TOKEN unset or malformed)
3      GitHub: ApiError (auth, not found, rate limit, transport, a malformed response)
=====  ==========================================================================

Messages go to stderr as ``error: ...`` and pass :func:`copilot_seats.redact.scrub`. Set
``COPILOT_SEATS_DEBUG=1`` to get the traceback of an internal error instead of the one line.
"""

from __future__ import annotations

import os
from typing import Any

import click

from copilot_seats.errors import ApiError, ConfigError, CopilotSeatsError, SpecError
from copilot_seats.redact import scrub

__all__ = ["EXIT_API", "EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "MappedGroup", "exit_code_for"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_API = 3


def exit_code_for(error: BaseException) -> int:
    """The exit code of ``error`` (see the module table)."""
    if isinstance(error, ConfigError):
        return EXIT_USAGE
    if isinstance(error, ApiError):
        return EXIT_API
    return EXIT_INVALID


def _message(error: BaseException) -> str:
    if isinstance(error, SpecError):
        file = error.problems[0].file if error.problems else "the seats file"
        count = len(error.problems)
        return (f"{file} is invalid ({count} problem{'' if count == 1 else 's'}); nothing was sent to "
                f"GitHub and nothing was changed:\n{error}")
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror}"
    return str(error)


class MappedGroup(click.Group):
    """A click group whose subcommands' errors end as one ``error:`` line and a mapped exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except CopilotSeatsError as exc:
            text = scrub(_message(exc))
            if text:
                click.echo(f"error: {text}", err=True)
            ctx.exit(exit_code_for(exc))
        except BrokenPipeError:  # stdout closed early (e.g. `| head`): nothing more to say
            ctx.exit(EXIT_INVALID)
        except OSError as exc:
            click.echo(f"error: {scrub(_message(exc))}", err=True)
            ctx.exit(EXIT_INVALID)
        except Exception as exc:
            if os.environ.get("COPILOT_SEATS_DEBUG"):
                raise
            click.echo(f"error: internal error (a bug in copilot-seats; please report it, with "
                       f"COPILOT_SEATS_DEBUG=1 for the traceback): {type(exc).__name__}: "
                       f"{scrub(str(exc))}", err=True)
            ctx.exit(EXIT_INVALID)
