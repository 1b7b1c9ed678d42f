#!/usr/bin/env bash
# Provide a Pulumi engine lane — the CLI, a Python language host and the SDK's shell shims in one
# directory — and print that directory on stdout. All other output goes to stderr.
#
# Usage: scripts/provide-pulumi.sh [pinned|current]     (default: pinned)
#
#   pinned   the CLI and Python host of one release, PULUMI_CLI_VERSION (tools/pulumi-version.env),
#            from the wrapper module tools/pulumi-cli. Order of preference:
#              1. a `pulumi` on PATH whose version is the pinned one or a newer v3 (its own bundled
#                 language host is used);
#              2. a previous build in the cache ($COPILOT_SEATS_CACHE, default ~/.cache/copilot-seats),
#                 keyed by version: a warm run costs ~0 s;
#              3. a build from the Go module proxy (go.mod + go.sum committed; no Pulumi source here).
#   current  the second engine lane: the CLI of PULUMI_CURRENT_CLI_VERSION from the wrapper module
#            tools/pulumi-cli-current, paired with the pinned lane's Python host and shims (the
#            proxy refuses the newer host's module). Never taken from PATH, so every machine tests
#            the same pairing; cached (keyed by both versions) or built like the pinned lane.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../tools/pulumi-version.env
. "$ROOT/tools/pulumi-version.env"
LANE="${1:-pinned}"
HOST_V="v${PULUMI_CLI_VERSION}"
case "$LANE" in
    pinned)  V="$HOST_V"; MODULE="$ROOT/tools/pulumi-cli" ;;
    current) V="v${PULUMI_CURRENT_CLI_VERSION}"; MODULE="$ROOT/tools/pulumi-cli-current" ;;
    *) echo "provide-pulumi: unknown engine lane '$LANE' (expected: pinned or current)" >&2; exit 2 ;;
esac
CACHE="${COPILOT_SEATS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/copilot-seats}"
BIN="$CACHE/pulumi-$V/bin"
HOST_FILES=(pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python
            pulumi-analyzer-policy-python)

# "3.78.1" / "go1.26.6" -> comparable integer; anything unparsable sorts lowest.
ver_num() { local v="${1#v}"; v="${v#go}"; v="${v%%[-+]*}"; IFS=. read -r a b c <<<"$v"; echo $(( ${a:-0}*1000000 + ${b:-0}*1000 + ${c:-0} )); }

complete() {  # a directory holding every file the engine needs for Python programs and packs
    local d="$1" f
    for f in pulumi "${HOST_FILES[@]}"; do
        [[ -x "$d/$f" ]] || return 1
    done
}

current_is_cached() {  # the current lane's CLI at V, paired with a host of the pinned release
    complete "$BIN" && [[ "$("$BIN/pulumi" version 2>/dev/null)" == "$V" ]] \
        && [[ "$(cat "$BIN/.host-version" 2>/dev/null)" == "$HOST_V" ]]
}

if [[ "$LANE" == pinned && "${COPILOT_SEATS_IGNORE_PATH_PULUMI:-}" != "1" ]] && command -v pulumi >/dev/null 2>&1; then
    onpath="$(command -v pulumi)"
    have="$(pulumi version 2>/dev/null || true)"
    dir="$(dirname "$(readlink -f "$onpath")")"
    if [[ "$have" == v3.* ]] && (( $(ver_num "$have") >= $(ver_num "$V") )) \
        && [[ -x "$dir/pulumi-language-python" ]]; then
        echo "provide-pulumi: using $onpath ($have)" >&2
        echo "$dir"
        exit 0
    fi
    echo "provide-pulumi: ignoring $onpath: version '${have:-unknown}' is not $V or a newer v3 with its Python host; using the pinned $V instead" >&2
fi

if [[ "$LANE" == pinned ]]; then
    if complete "$BIN" && [[ "$("$BIN/pulumi" version 2>/dev/null)" == "$V" ]]; then
        echo "$BIN"
        exit 0
    fi
else
    if current_is_cached; then
        echo "$BIN"
        exit 0
    fi
    # The pairing needs the pinned lane's host: provide it first (cached, built, or from PATH).
    HOST_DIR="$(COPILOT_SEATS_IGNORE_PATH_PULUMI=1 "$ROOT/scripts/provide-pulumi.sh" pinned)"
fi

need_go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$MODULE/go.mod")"
if ! command -v go >/dev/null 2>&1; then
    if [[ "$LANE" == pinned ]]; then
        cat >&2 <<MSG
provide-pulumi: no Pulumi CLI $V found and no Go toolchain to build it.
Get the engine one of two ways:
  1. the official installer (https://www.pulumi.com/docs/install/), then re-run; any v3 >= $V works;
  2. install Go (>= 1.23) with access to a Go module proxy, then re-run: this script builds
     $V from github.com/pulumi/pulumi/pkg/v3 and sdk/v3 into $BIN (a few minutes, once).
MSG
    else
        echo "provide-pulumi: the current engine lane ($V) is built from the Go module proxy and needs Go >= $need_go; none found (skip the lane explicitly with COPILOT_SEATS_ENGINES=pinned)" >&2
    fi
    exit 1
fi

gover="$(go env GOVERSION 2>/dev/null || echo unknown)"
if [[ "$LANE" == pinned ]]; then need_go=1.23; fi
if [[ "$gover" != go1.* ]] || (( $(ver_num "$gover") < $(ver_num "$need_go") )); then
    echo "provide-pulumi: Go $gover is too old to build Pulumi $V (need >= go$need_go); install a newer Go or the official pulumi" >&2
    exit 1
fi
echo "provide-pulumi: building Pulumi $V ($LANE lane) from the Go module proxy into $BIN (once; cached)" >&2
start=$SECONDS
tmp="$(mktemp -d "$CACHE.build.XXXXXX" 2>/dev/null || { mkdir -p "$CACHE"; mktemp -d "$CACHE.build.XXXXXX"; })"
trap 'rm -rf "$tmp"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=local
if [[ "$LANE" == pinned ]]; then
    # The proxy serves pulumi-yaml v1.2.1 but its checksum-database lookup is refused here;
    # go.sum (committed) already pins its hash, so the download is still verified.
    export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi-yaml"
    # -checklinkname=0: a dependency of this release (pgavlin/text) links to a runtime-internal
    # symbol that Go >= 1.23 refuses by default.
    ldflags="-checklinkname=0 -s -w -X github.com/pulumi/pulumi/pkg/v3/version.Version=$V -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$V"
else
    ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$V"
fi
(
    cd "$MODULE"
    go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$tmp/pulumi" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    if [[ "$LANE" == pinned ]]; then
        go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$tmp/pulumi-language-python" \
            github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
        sdk="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
        install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" \
            "$sdk/python/dist/pulumi-resource-pulumi-python" \
            "$sdk/python/dist/pulumi-analyzer-policy-python" "$tmp/"
    fi
) >&2
if [[ "$LANE" == current ]]; then
    for f in "${HOST_FILES[@]}"; do install -m 0755 "$HOST_DIR/$f" "$tmp/"; done
    "$HOST_DIR/pulumi" version > "$tmp/.host-version"
fi
got="$("$tmp/pulumi" version)"
if [[ "$got" != "$V" ]]; then
    echo "provide-pulumi: built CLI reports '$got', expected $V" >&2
    exit 1
fi
mkdir -p "$(dirname "$BIN")"
rm -rf "$BIN"
mv "$tmp" "$BIN"
trap - EXIT
echo "provide-pulumi: built $V in $((SECONDS - start)) s" >&2
echo "$BIN"
