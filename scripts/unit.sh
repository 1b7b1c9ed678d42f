#!/usr/bin/env bash
# The unit lane: every test that needs no Pulumi engine (pytest -m "not engine": unit, CLI,
# simulator contract, workflow and docs checks), then ruff and mypy. Provides the virtualenv only
# (scripts/setup.sh with COPILOT_SEATS_ENGINE=none): no Go, no engine build. Extra arguments go to
# pytest (e.g. scripts/unit.sh -k report), and then ruff and mypy are left out.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
eval "$(COPILOT_SEATS_ENGINE=none scripts/setup.sh --print-env)"
status=0
start=$SECONDS
python -m pytest -p no:cacheprovider -q -m "not engine" "$@" || status=$?
echo "unit: pytest took $((SECONDS - start)) s" >&2
if [[ $# -eq 0 ]]; then
    echo "unit: ruff" >&2; ruff check . || status=1
    echo "unit: mypy" >&2; mypy copilot_seats || status=1
fi
exit $status
