#!/usr/bin/env bash
# Installs, idempotently, the real servers the tests talk to over loopback, into a tools folder
# outside the clone (default ~/.cache/lake-tools). The tests start and stop them themselves.
#   s3s-fs 0.14.1   S3 protocol over a folder (0.17 needs a newer rustc)
set -euo pipefail

TOOLS="${LAKE_TOOLS_DIR:-$HOME/.cache/lake-tools}"
mkdir -p "$TOOLS"

if [[ ! -x "$TOOLS/bin/s3s-fs" ]]; then
  echo "installing s3s-fs 0.14.1 into $TOOLS (about 2 minutes, once)…"
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$TOOLS" --quiet
fi
echo "test servers ready in $TOOLS: $(ls "$TOOLS/bin" | tr '\n' ' ')"
