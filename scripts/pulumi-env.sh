# Source me (bash): puts the pinned Pulumi CLI and .venv on PATH and keeps the CLI offline.
# Backend: PULUMI_BACKEND_URL if you set one (Pulumi Cloud, s3://, azblob://, gs://, file://...),
# else a file backend inside the project (.state/backend, gitignored): no login, no account.
_cs_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
eval "$("$_cs_root/scripts/setup.sh" --print-env)"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
if [[ -z "${PULUMI_BACKEND_URL:-}" && ! -f "${PULUMI_HOME:-$HOME/.pulumi}/credentials.json" ]]; then
    mkdir -p "$_cs_root/.state/backend"
    export PULUMI_BACKEND_URL="file://$_cs_root/.state/backend"
fi
unset _cs_root
