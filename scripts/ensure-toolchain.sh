#!/usr/bin/env bash
# Makes sure a Rust toolchain with rustfmt and clippy is available (installs them with rustup
# when missing). Idempotent: does nothing on a machine that has them.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "cargo not found: install Rust (https://rustup.rs), version 1.94 or newer" >&2
    exit 1
  fi
fi
if command -v rustup >/dev/null 2>&1; then
  for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
      rustup component add "$component"
    fi
  done
fi
