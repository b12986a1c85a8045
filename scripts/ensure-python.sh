#!/usr/bin/env bash
# The Python environment the tests use (ADBC Flight SQL client, pyarrow), in a venv outside the
# clone: ${LAKE_VENV:-~/.cache/lake-venv}. Idempotent: reinstalls only when the pinned
# requirements change. Prints the interpreter path.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${LAKE_VENV:-$HOME/.cache/lake-venv}"
requirements="$root/python/requirements-test.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ]; then
  echo "creating the Python venv $venv" >&2
  python3 -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "installing $requirements into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
