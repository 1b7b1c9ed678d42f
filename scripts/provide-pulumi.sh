#!/usr/bin/env bash
# Provide the pinned Pulumi CLI, its Python language host and the SDK's shell shims in one
# directory, and print that directory on stdout. All other output goes to stderr.
#
# Order of preference:
#   1. a `pulumi` on PATH whose version is the pinned one or a newer v3 (its own bundled
#      language host is used);
#   2. a previous build in the cache ($COPILOT_SEATS_CACHE, default ~/.cache/copilot-seats),
#      keyed by version: a warm run costs ~0 s;
#   3. a build from the Go module proxy through the wrapper module tools/pulumi-cli
#      (go.mod + go.sum committed; no Pulumi source in this repository).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../tools/pulumi-version.env
. "$ROOT/tools/pulumi-version.env"
V="v${PULUMI_CLI_VERSION}"
CACHE="${COPILOT_SEATS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/copilot-seats}"
BIN="$CACHE/pulumi-$V/bin"

# "3.78.1" -> comparable integer; anything unparsable sorts lowest.
ver_num() { local v="${1#v}"; v="${v%%[-+]*}"; IFS=. read -r a b c <<<"$v"; echo $(( ${a:-0}*1000000 + ${b:-0}*1000 + ${c:-0} )); }

complete() {  # a directory holding every file the engine needs for Python programs and packs
    local d="$1"
    for f in pulumi pulumi-language-python pulumi-language-python-exec \
             pulumi-resource-pulumi-python pulumi-analyzer-policy-python; do
        [[ -x "$d/$f" ]] || return 1
    done
}

if [[ "${COPILOT_SEATS_IGNORE_PATH_PULUMI:-}" != "1" ]] && command -v pulumi >/dev/null 2>&1; then
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

if complete "$BIN" && [[ "$("$BIN/pulumi" version 2>/dev/null)" == "$V" ]]; then
    echo "$BIN"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    cat >&2 <<MSG
provide-pulumi: no Pulumi CLI $V found and no Go toolchain to build it.
Get the engine one of two ways:
  1. the official installer (https://www.pulumi.com/docs/install/), then re-run; any v3 >= $V works;
  2. install Go (>= 1.23) with access to a Go module proxy, then re-run: this script builds
     $V from github.com/pulumi/pulumi/pkg/v3 and sdk/v3 into $BIN (a few minutes, once).
MSG
    exit 1
fi

gover="$(go env GOVERSION 2>/dev/null || echo unknown)"
minor="$(sed -n 's/^go1\.\([0-9]*\).*/\1/p' <<<"$gover")"
if [[ -z "$minor" || "$minor" -lt 23 ]]; then
    echo "provide-pulumi: Go $gover is too old to build Pulumi $V (need >= go1.23); install a newer Go or the official pulumi" >&2
    exit 1
fi
echo "provide-pulumi: building Pulumi $V from the Go module proxy into $BIN (once; cached)" >&2
start=$SECONDS
tmp="$(mktemp -d "$CACHE.build.XXXXXX" 2>/dev/null || { mkdir -p "$CACHE"; mktemp -d "$CACHE.build.XXXXXX"; })"
trap 'rm -rf "$tmp"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=readonly
# The proxy serves pulumi-yaml v1.2.1 but its checksum-database lookup is refused here;
# go.sum (committed) already pins its hash, so the download is still verified.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi-yaml"
# -checklinkname=0: a dependency of this release (pgavlin/text) links to a runtime-internal
# symbol that Go >= 1.23 refuses by default.
ldflags="-checklinkname=0 -s -w -X github.com/pulumi/pulumi/pkg/v3/version.Version=$V -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$V"
(
    cd "$ROOT/tools/pulumi-cli"
    go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$tmp/pulumi" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$tmp/pulumi-language-python" \
        github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
    sdk="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
    install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" \
        "$sdk/python/dist/pulumi-resource-pulumi-python" \
        "$sdk/python/dist/pulumi-analyzer-policy-python" "$tmp/"
) >&2
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
