#!/usr/bin/env bash
# Run every test: unit, CLI, simulator contract, and the end-to-end tests on the real Pulumi
# engine. Does its own setup (pinned CLI built or reused, .venv); if the engine cannot be
# provided, setup fails with the reason and so does this script — engine tests never skip.
# Extra arguments go to pytest (e.g. scripts/test.sh -k report).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if ! env_lines="$(scripts/setup.sh --print-env)"; then
    echo "test: setup failed (see above): the Pulumi engine or the virtualenv could not be provided" >&2
    exit 1
fi
eval "$env_lines"
echo "test: pulumi $(pulumi version) from $COPILOT_SEATS_PULUMI_BIN; $(python --version)" >&2
status=0
python -m pytest -p no:cacheprovider "$@" || status=$?
if [[ $# -eq 0 ]]; then
    echo "test: ruff" >&2; ruff check . || status=1
    echo "test: mypy" >&2; mypy copilot_seats || status=1
fi
exit $status
