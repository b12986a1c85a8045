#!/usr/bin/env bash
# Installs, idempotently, the load generator of the serving benchmarks into the tools folder
# outside the clone (default ~/.cache/lake-tools):
#   vegeta 12.13.0   constant-rate HTTP load (open loop: latencies are not hidden by a slow server)
set -euo pipefail

TOOLS="${LAKE_TOOLS_DIR:-$HOME/.cache/lake-tools}"
VEGETA_VERSION=v12.13.0
# `go install` leaves the binary's version empty: a marker file records what was installed.
MARKER="$TOOLS/bin/.vegeta-version"
if [[ ! -x "$TOOLS/bin/vegeta" || "$(cat "$MARKER" 2>/dev/null)" != "$VEGETA_VERSION" ]]; then
  echo "installing vegeta $VEGETA_VERSION into $TOOLS (seconds, once)…"
  mkdir -p "$TOOLS/bin"
  (cd /tmp && GOBIN="$TOOLS/bin" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION")
  echo "$VEGETA_VERSION" > "$MARKER"
fi
echo "bench tools ready in $TOOLS: vegeta $VEGETA_VERSION"
