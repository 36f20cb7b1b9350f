#!/usr/bin/env bash
# Build the Compose validator (compose-check, on compose-go from the Go module proxy) into docker/compose-check/bin
# (git-ignored). Rebuilt only when its sources change: bin/.built holds the SHA-256 of main.go, go.mod and go.sum,
# so a re-run on an unchanged checkout builds nothing (Go's own build and module caches serve a rebuild).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$here/bin/compose-check"
stamp="$here/bin/.built"

command -v go >/dev/null || {
  echo "compose-check: Go is missing (it builds the Compose validator of the tests); install Go 1.26+ (https://go.dev/dl/)" >&2
  exit 1
}
hash="$(cd "$here" && sha256sum go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)"
if [[ -x "$binary" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
  echo "compose-check: up to date ($binary)"
  exit 0
fi
mkdir -p "$here/bin"
(cd "$here" && go build -trimpath -o "$binary" .)
echo "$hash" >"$stamp"
echo "compose-check: built $binary"
