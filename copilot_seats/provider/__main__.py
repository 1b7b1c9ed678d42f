"""``python -m copilot_seats.provider``: the same plugin as the ``pulumi-resource-copilot`` script."""

from copilot_seats.provider.server import main

main()
