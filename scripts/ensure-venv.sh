#!/usr/bin/env bash
# Usage: ensure-venv.sh VENV REQUIREMENTS
# A Python venv at VENV (outside the clone) with the pinned REQUIREMENTS installed. Idempotent:
# reinstalls only when the requirements file changes (its SHA-256 is kept in the venv). Prints
# the interpreter path.
set -euo pipefail

venv="$1"
requirements="$2"
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
