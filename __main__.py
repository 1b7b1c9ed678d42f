"""Pulumi program: reconcile seats.yaml with GitHub's Copilot seats.

`pulumi preview` shows the seats that would be granted or revoked; `pulumi up` applies them.
All logic lives in the copilot_seats package (see copilot_seats/stack/program.py).
"""

from copilot_seats.stack.program import main

main()
