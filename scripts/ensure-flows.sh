#!/usr/bin/env bash
# The Prefect flows' Python environment (Prefect 3.9, pytest) in a venv outside the clone:
# ${LAKE_FLOWS_VENV:-~/.cache/lake-flows-venv}. Idempotent: reinstalls only when the pinned
# requirements change. Prints the interpreter path.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/ensure-venv.sh" "${LAKE_FLOWS_VENV:-$HOME/.cache/lake-flows-venv}" \
  "$root/flows/requirements.txt"
