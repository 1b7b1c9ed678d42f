"""Imports every subcommand module; each one registers itself with ``@main.command``."""
# ruff: noqa: I001  (one import per subcommand keeps concurrent additions conflict-free)

from __future__ import annotations

# One line per subcommand module (keep sorted).
from copilot_seats.cli import audit  # noqa: F401
from copilot_seats.cli import chargeback  # noqa: F401
from copilot_seats.cli import edit  # noqa: F401
from copilot_seats.cli import init  # noqa: F401
from copilot_seats.cli import pr_comment  # noqa: F401
from copilot_seats.cli import prune  # noqa: F401
from copilot_seats.cli import report  # noqa: F401
from copilot_seats.cli import simulate  # noqa: F401
from copilot_seats.cli import validate  # noqa: F401
