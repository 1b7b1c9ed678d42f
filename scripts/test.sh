#!/usr/bin/env bash
# Run every test: unit, CLI, simulator contract, and the end-to-end tests on the real Pulumi
# engine — on both engine lanes: everything on the pinned lane (the CLI and host of one
# release), and, at the same time, the engine tests (pytest mark `engine`) again on the current
# lane (today's CLI paired with the pinned host; scripts/provide-pulumi.sh current). Each lane
# does its own setup (built once, then cached); if an engine cannot be provided, setup fails
# with the reason and so does this script — engine tests never skip. COPILOT_SEATS_ENGINES=pinned runs the pinned lane
# only, and says so. Extra arguments go to pytest in both runs (e.g. scripts/test.sh -k report).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ENGINES="${COPILOT_SEATS_ENGINES:-pinned current}"
if [[ " $ENGINES " != *" pinned "* ]]; then
    echo "test: COPILOT_SEATS_ENGINES must include 'pinned' (got '$ENGINES')" >&2
    exit 2
fi
if ! env_lines="$(scripts/setup.sh --print-env)"; then
    echo "test: setup failed (see above): the Pulumi engine or the virtualenv could not be provided" >&2
    exit 1
fi
if [[ " $ENGINES " == *" current "* ]]; then  # provided up front: a missing Go fails in seconds, not after the suite
    start=$SECONDS
    if ! current_env="$(COPILOT_SEATS_ENGINE=current scripts/setup.sh --print-env)"; then
        echo "test: [current lane] setup failed (see above): the current engine could not be provided" >&2
        exit 1
    fi
    echo "test: [current lane] provided in $((SECONDS - start)) s" >&2
fi
# The current lane's engine tests run alongside the pinned suite (each engine test keeps about one
# core busy; on 2 cores the two lanes take little more than the pinned suite alone). Its output
# is printed after the pinned lane's.
lane_log="$(mktemp "${TMPDIR:-/tmp}/copilot-seats-current-lane.XXXXXX")"
lane_pid=""
if [[ " $ENGINES " == *" current "* ]]; then
    (
        eval "$current_env"
        echo "test: [current lane] pulumi $(pulumi version) with the pinned Python host, from $COPILOT_SEATS_PULUMI_BIN"
        lane_start=$SECONDS
        lane_status=0
        python -m pytest -p no:cacheprovider "$@" -m engine || lane_status=$?
        echo "test: [current lane] pytest took $((SECONDS - lane_start)) s"
        exit $lane_status
    ) >"$lane_log" 2>&1 &
    lane_pid=$!
fi
trap 'if [[ -n "$lane_pid" ]]; then kill "$lane_pid" 2>/dev/null || true; fi; rm -f "$lane_log"' EXIT

eval "$env_lines"
echo "test: [pinned lane] pulumi $(pulumi version) from $COPILOT_SEATS_PULUMI_BIN; $(python --version)" >&2
status=0
start=$SECONDS
python -m pytest -p no:cacheprovider "$@" || status=$?
echo "test: [pinned lane] pytest took $((SECONDS - start)) s" >&2
if [[ $# -eq 0 ]]; then
    echo "test: ruff" >&2; ruff check . || status=1
    echo "test: mypy" >&2; mypy copilot_seats || status=1
fi

if [[ -z "$lane_pid" ]]; then
    echo "test: [current lane] NOT RUN: COPILOT_SEATS_ENGINES='$ENGINES' leaves it out" >&2
    exit $status
fi
lane_status=0
wait "$lane_pid" || lane_status=$?
lane_pid=""
echo "test: ---- current lane (engine tests) ----" >&2
cat "$lane_log"
if [[ $lane_status -eq 5 && $# -gt 0 ]]; then
    echo "test: [current lane] your arguments select no engine test" >&2
elif [[ $lane_status -ne 0 ]]; then
    echo "test: [current lane] FAILED (exit $lane_status)" >&2
    status=1
fi
echo "test: total $SECONDS s" >&2
exit $status
