#!/usr/bin/env bash
# The dashboard's Python environment (Streamlit, Plotly, pytest, Playwright) in a venv outside
# the clone: ${LAKE_DASHBOARD_VENV:-~/.cache/lake-dashboard-venv}, and, with --browser, Debian's
# Chromium for the browser tests (Playwright drives /usr/bin/chromium; it never downloads a
# browser of its own). Idempotent: reinstalls only when the pinned requirements change.
# Prints the interpreter path.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
python="$("$root/scripts/ensure-venv.sh" "${LAKE_DASHBOARD_VENV:-$HOME/.cache/lake-dashboard-venv}" \
  "$root/dashboard/requirements.txt")"
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "chromium is missing: install it with 'sudo apt-get install chromium'" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "$python"
