#!/usr/bin/env bash
# The main job, on a fresh machine: start the bundled GitHub simulator with the demo org
# (octo-demo), then `pulumi preview` seats.yaml against it with the copilot-seats policy pack.
# Does all of its own setup (pinned Pulumi CLI, .venv). Uses a file backend under .state/
# and the passphrase secrets provider, so no login or account is needed.
# Extra arguments go to `pulumi preview` (e.g. --diff, --policy-pack-config FILE).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The pinned engine lane always: the current lane cannot start a pack directory (README, Development).
eval "$(COPILOT_SEATS_ENGINE=pinned scripts/setup.sh --print-env)"

STATE="$ROOT/.state/demo"
mkdir -p "$STATE/backend"
export PULUMI_BACKEND_URL="file://$STATE/backend"
export PULUMI_HOME="$STATE/pulumi-home"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-demo}"
export COPILOT_SEATS_WRITE_SPACING=0

# The simulator prints SIMULATOR_URL=... once it listens; it stops when this script exits.
# Remove the previous run's files first: the redirect below truncates simulator.out only once the
# background job gets scheduled, and the loop could otherwise read the old run's (dead) URL.
rm -f "$STATE/simulator.out" "$STATE/simulator.log"
copilot-seats simulate --fixture demo --port 0 --token demo-token >"$STATE/simulator.out" 2>"$STATE/simulator.log" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    url="$(sed -n 's/^SIMULATOR_URL=//p' "$STATE/simulator.out" 2>/dev/null || true)"
    [[ -n "$url" ]] && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$STATE/simulator.log" >&2; exit 1; }
    sleep 0.1
done
[[ -n "${url:-}" ]] || { echo "demo: simulator did not start" >&2; exit 1; }
export GITHUB_API_URL="$url"
export GITHUB_TOKEN=demo-token  # the simulator's token, not a real one
echo "demo: simulated GitHub for org octo-demo at $GITHUB_API_URL" >&2

pulumi stack select demo --create --non-interactive >/dev/null
pulumi preview --non-interactive --policy-pack policies "$@"
