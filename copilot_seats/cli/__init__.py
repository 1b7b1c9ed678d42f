"""The ``copilot-seats`` command: a thin click layer over the library.

Exit codes (all commands): 0 success; 1 the check failed or the input is invalid (invalid
seats.yaml, drift found where asked to fail on it); 2 usage or configuration error (bad flags,
an invalid ``--org``, ``GITHUB_TOKEN`` unset or malformed); 3 GitHub API error (auth, not
found, rate limit, transport, a malformed response). Commands raise the library's typed
errors; :mod:`copilot_seats.cli.failures` is the one place that turns them into a message and
an exit code, never a traceback. Each subcommand lives in its own module in this package.
"""

from __future__ import annotations

import click

from copilot_seats import __version__
from copilot_seats.cli.failures import MappedGroup

__all__ = ["main"]


@click.group(cls=MappedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="copilot-seats")
def main() -> None:
    """GitHub Copilot seats as code: validate seats.yaml, report live seats, edit seats.yaml."""


def _register() -> None:
    """Attach every subcommand (imported here so `main` stays import-light and cycle-free)."""
    from copilot_seats.cli import commands  # noqa: F401  (each module registers itself on `main`)


_register()
