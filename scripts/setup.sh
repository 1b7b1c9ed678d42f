#!/usr/bin/env bash
# Provide everything copilot-seats needs on a fresh machine, idempotently:
#   1. the pinned Pulumi CLI + Python language host + the SDK's shims (scripts/provide-pulumi.sh),
#   2. the project virtualenv .venv (program, policy pack, CLI, dev tools), pinned by constraints.txt.
# Prints nothing but progress; a warm run takes well under a second.
# Usage: source <(scripts/setup.sh --print-env)   or   scripts/setup.sh
# COPILOT_SEATS_ENGINE=current selects the second engine lane (the current CLI paired with the
# pinned Python host; built once, cached) instead of the pinned one; COPILOT_SEATS_ENGINE=none
# provides the virtualenv only (the unit lane, scripts/unit.sh: no engine is built).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../tools/pulumi-version.env
. tools/pulumi-version.env

LANE="${COPILOT_SEATS_ENGINE:-pinned}"
if [[ "$LANE" == none ]]; then
    PULUMI_BIN_DIR=""
else
    PULUMI_BIN_DIR="$(scripts/provide-pulumi.sh "$LANE")"
fi

# --- virtualenv ---------------------------------------------------------------------------
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Python >= 3.11 is required (found: $("$PY" --version 2>&1 || echo none)); set PYTHON=..." >&2
    exit 1
fi
stamp_inputs="$(cat pyproject.toml constraints.txt tools/pulumi-version.env | sha256sum | cut -c1-16)"
if [[ ! -x .venv/bin/python || "$(cat .venv/.stamp 2>/dev/null)" != "$stamp_inputs" ]]; then
    echo "setup: creating .venv (pinned by constraints.txt and tools/pulumi-version.env)" >&2
    "$PY" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        -c constraints.txt \
        "pulumi==${PULUMI_PYTHON_SDK_VERSION}" "pulumi-policy==${PULUMI_POLICY_SDK_VERSION}" \
        -e ".[dev]" >&2
    echo "$stamp_inputs" > .venv/.stamp
fi

if [[ "${1:-}" == "--print-env" && "$LANE" == none ]]; then
    echo "export PATH=\"$ROOT/.venv/bin:\$PATH\""
    echo "export COPILOT_SEATS_ENGINE=none"
elif [[ "${1:-}" == "--print-env" ]]; then
    cat <<ENV
export PATH="$PULUMI_BIN_DIR:$ROOT/.venv/bin:\$PATH"
export COPILOT_SEATS_PULUMI_BIN="$PULUMI_BIN_DIR"
export COPILOT_SEATS_ENGINE="$LANE"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
ENV
    if [[ "$LANE" == current ]]; then
        # The current CLI does not pass Pulumi.yaml's `virtualenv:` to the pinned host it is
        # paired with, so the host and the dynamic-provider shim would run the system python3.
        echo "export PULUMI_PYTHON_CMD=\"$ROOT/.venv/bin/python\""
    fi
fi
