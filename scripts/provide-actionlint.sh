#!/usr/bin/env bash
# Provide the pinned actionlint (the GitHub Actions workflow linter) and print the path of its
# binary on stdout. All other output goes to stderr. Used by tests/test_workflows.py.
#
# Order of preference:
#   1. $ACTIONLINT, when it names an executable reporting the pinned version;
#   2. a previous build in the cache ($COPILOT_SEATS_CACHE, default ~/.cache/copilot-seats),
#      keyed by version (actionlint-v<ver>/actionlint): a warm run costs ~0 s;
#   3. a build of github.com/rhysd/actionlint/cmd/actionlint@v<ver> from the Go module proxy
#      with `go install` (needs Go >= 1.22; ~30-60 s once). Nothing is written inside the repo.
# Exit status 1, with the reason on stderr, when none of these works.
set -euo pipefail
V="v1.7.12"
CACHE="${COPILOT_SEATS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/copilot-seats}"
DIR="$CACHE/actionlint-$V"
BIN="$DIR/actionlint"

reports_pinned() {  # `actionlint -version` prints the version on its first line
    [[ -x "$1" ]] && [[ "$("$1" -version 2>/dev/null | head -n1)" == "$V" ]]
}

if [[ -n "${ACTIONLINT:-}" ]]; then
    if reports_pinned "$ACTIONLINT"; then
        echo "$ACTIONLINT"
        exit 0
    fi
    echo "provide-actionlint: ignoring ACTIONLINT=$ACTIONLINT: not an executable reporting $V" >&2
fi

if reports_pinned "$BIN"; then
    echo "$BIN"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    cat >&2 <<MSG
provide-actionlint: actionlint $V is not in $DIR and there is no Go toolchain to build it.
Install Go (>= 1.22) with access to a Go module proxy and re-run, or point ACTIONLINT at an
actionlint $V binary.
MSG
    exit 1
fi

echo "provide-actionlint: building actionlint $V from the Go module proxy into $DIR (once; cached)" >&2
mkdir -p "$CACHE"
tmp="$(mktemp -d "$CACHE/actionlint.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# Outside any module (GOFLAGS cleared): `go install pkg@version` resolves exactly the pinned
# release and its own go.sum. The linker flag makes `actionlint -version` report the pin.
if ! (cd "$tmp" && CGO_ENABLED=0 GOFLAGS="" GOBIN="$tmp/bin" \
        go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$V" \
        "github.com/rhysd/actionlint/cmd/actionlint@$V") >&2; then
    echo "provide-actionlint: 'go install github.com/rhysd/actionlint/cmd/actionlint@$V' failed (see above)" >&2
    exit 1
fi
if ! reports_pinned "$tmp/bin/actionlint"; then
    echo "provide-actionlint: the built binary does not report $V" >&2
    exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR"
mv "$tmp/bin/actionlint" "$BIN"
echo "provide-actionlint: built $V" >&2
echo "$BIN"
