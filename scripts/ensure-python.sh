#!/usr/bin/env bash
# The Python environment the tests use (ADBC Flight SQL client, pyarrow, the benchmark's
# engines) and ruff, in a venv outside the clone: ${LAKE_VENV:-~/.cache/lake-venv}. Idempotent.
# Prints the interpreter path.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/ensure-venv.sh" "${LAKE_VENV:-$HOME/.cache/lake-venv}" \
  "$root/python/requirements-test.txt"
