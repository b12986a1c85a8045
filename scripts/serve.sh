#!/usr/bin/env bash
# Serves the lake `make run` built: the HTTP API and Arrow Flight SQL (lake-api) and the French
# dashboard (Streamlit, reading the API), until Ctrl-C, which stops both.
#
#   LAKE_BIN_DIR          the binaries (default: $CARGO_TARGET_DIR/debug)
#   LAKE_ROOT             the lake (default: lake)
#   LAKE_API_PORT         HTTP API port (8080); LAKE_FLIGHT_PORT Flight SQL port (50060);
#   LAKE_DASHBOARD_PORT   dashboard port (8501)
#   LAKE_MONGO_URL        when set, the published Gold is loaded into MongoDB first and the API
#                         reads MongoDB (the brief's serving store) instead of the lake
#   LAKE_API_KEY          when set, the API requires it and the dashboard sends it
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${LAKE_BIN_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/lake-target}/debug}"
lake="${LAKE_ROOT:-lake}"
api_port="${LAKE_API_PORT:-8080}"
flight_port="${LAKE_FLIGHT_PORT:-50060}"
dashboard_port="${LAKE_DASHBOARD_PORT:-8501}"
python="$("$root/scripts/ensure-dashboard.sh")"

api_args=(--lake "$lake" --bind "127.0.0.1:$api_port" --flight-bind "127.0.0.1:$flight_port")
if [[ -n "${LAKE_MONGO_URL:-}" ]]; then
  "$bin/lake" --lake "$lake" mongo load --mongo-url "$LAKE_MONGO_URL"
  api_args+=(--mongo-url "$LAKE_MONGO_URL")
fi
if [[ -n "${LAKE_API_KEY:-}" ]]; then
  api_args+=(--api-key "$LAKE_API_KEY")
fi

pids=()
stop() {
  trap - INT TERM EXIT
  if ((${#pids[@]})); then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap 'echo; echo "stopping…"; stop; exit 0' INT TERM
trap stop EXIT

# Waits (bounded) until URL answers, failing if process PID exits first.
wait_for() {
  local what="$1" url="$2" pid="$3"
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "$what exited at start" >&2; exit 1; fi
    sleep 0.2
  done
  echo "$what did not answer at $url within 60 s" >&2
  exit 1
}

RUST_LOG="${RUST_LOG:-warn}" "$bin/lake-api" "${api_args[@]}" >/dev/null &
pids+=($!)
wait_for "lake-api" "http://127.0.0.1:$api_port/health" "${pids[0]}"

LAKE_API_URL="http://127.0.0.1:$api_port" "$python" -m streamlit run "$root/dashboard/app.py" \
  --server.headless true --server.address 127.0.0.1 --server.port "$dashboard_port" \
  --browser.gatherUsageStats false --client.toolbarMode viewer >/dev/null 2>&1 &
pids+=($!)
wait_for "the dashboard" "http://127.0.0.1:$dashboard_port/_stcore/health" "${pids[1]}"

cat <<EOT

  Tableau de bord   http://127.0.0.1:$dashboard_port
  API HTTP          http://127.0.0.1:$api_port   (http://127.0.0.1:$api_port/openapi.json)
  Flight SQL        grpc://127.0.0.1:$flight_port

Ctrl-C stops both.
EOT
# Whichever stops first ends the other.
wait -n "${pids[@]}"
echo "a server stopped: stopping the other" >&2
exit 1
