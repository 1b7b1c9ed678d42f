"""``copilot-seats simulate``: run the local GitHub simulator until SIGTERM/SIGINT.

The first stdout line is ``SIMULATOR_URL=http://127.0.0.1:PORT`` (printed and flushed as soon as
the socket listens); with the default token a second line ``SIMULATOR_TOKEN=...`` follows.
Scripts read them and export ``GITHUB_API_URL`` / ``GITHUB_TOKEN``.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from copilot_seats import defaults
from copilot_seats.cli import main
from copilot_seats.errors import ConfigError, InputError

__all__ = ["simulate"]


@main.command("simulate")
@click.option("--fixture", default="demo", show_default=True,
              help="Fixture JSON file to seed from, or 'demo' for the bundled octo-demo organization.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on; 0 picks a free port.")
@click.option("--token", default=defaults.SIMULATOR_TOKEN, show_default=True,
              help="Token the simulator accepts (write access).")
@click.option("--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Persist state here (JSON) after each write, and resume from it when it exists.")
def simulate(fixture: str, host: str, port: int, token: str, state_file: Path | None) -> None:
    """Serve a local GitHub that follows the Copilot seat API contract (for demos and tests).

    Implements the organization seat endpoints (billing, seat listing with Link pagination,
    member seat, grant/revoke users and teams) and the enterprise seat listing, with 401/404/422
    semantics, rate-limit headers and injectable faults under /_simulator/. Runs until SIGTERM or
    Ctrl-C.

    Exit status: 0 stopped by a signal; 1 the fixture or state file is invalid; 2 usage error.
    """
    from copilot_seats.simulator import SimulatorServer, load_fixture, read_fixture

    source = state_file if state_file is not None and state_file.exists() else fixture
    try:
        state = load_fixture(read_fixture(source), token=token, state_file=state_file)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # the fixture loader's own errors, typed here
        raise InputError(f"cannot load {source}: {exc}") from None
    try:
        server = SimulatorServer(state, host=host, port=port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"SIMULATOR_URL={server.base_url}")
    if token == defaults.SIMULATOR_TOKEN:  # a token you chose yourself is not echoed
        click.echo(f"SIMULATOR_TOKEN={token}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        server.stop()
