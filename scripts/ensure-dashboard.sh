#!/usr/bin/env bash
# The dashboard's Python environment (Streamlit, Plotly, pytest, Playwright) in a venv outside
# the clone: ${LAKE_DASHBOARD_VENV:-~/.cache/lake-dashboard-venv}, and, with --browser, Debian's
# Chromium for the browser tests (Playwright drives /usr/bin/chromium; it never downloads a
# browser of its own). Idempotent: reinstalls only when the pinned requirements change.
# Prints the interpreter path.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${LAKE_DASHBOARD_VENV:-$HOME/.cache/lake-dashboard-venv}"
requirements="$root/dashboard/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ]; then
  echo "creating the dashboard's Python venv $venv" >&2
  python3 -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "installing $requirements into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
fi
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "chromium is missing: install it with 'sudo apt-get install chromium'" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "$venv/bin/python"
