#!/usr/bin/env bash
# Where the cluster's memory goes: one `lake run --no-ml` on a fresh local cluster (release
# build), the resident memory of the scheduler and of each executor sampled every half second,
# and each sample charged to the Ballista jobs running at that moment (one job per model).
#
#   scripts/measure-cluster-memory.sh SOURCES [LAKE ARG...]
#
# SOURCES is a folder of CSV files (e.g. from `lake generate --scale 10 --out SOURCES`); the
# LAKE ARGs go before `run`, e.g. `--partitions 8` or
# `--set datafusion.optimizer.prefer_hash_join=false`. Environment: LAKE_BIN_DIR=dir skips the
# build; EXECUTOR_MEMORY (default 1GiB) is each executor's pool; KEEP=dir keeps the run folder
# (the lake, the cluster's logs, rss.tsv and jobs.json) in dir instead of removing it.
#
# Prints the wall time, Silver and Gold times, each process's peak RSS (VmHWM), the bytes the
# executors spilled, and the ten jobs with the highest RSS of a single process while they ran.
set -euo pipefail

if [ $# -lt 1 ]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
sources="$(cd "$1" && pwd)"
shift
target="${CARGO_TARGET_DIR:-$HOME/.cache/lake-target}"
export CARGO_TARGET_DIR="$target"
if [ -z "${LAKE_BIN_DIR:-}" ]; then
  cargo build --release --quiet --workspace --bins
fi
bin="$(cd "${LAKE_BIN_DIR:-$target/release}" && pwd)"
lake="$bin/lake"

if [ -n "${KEEP:-}" ]; then
  work="$KEEP"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
fi
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  "$lake" cluster down --state-dir "$work/cluster" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

"$lake" cluster up --state-dir cluster --bin-dir "$bin" --scheduler-port 0 \
  --executor-base-port 0 --executor-memory "${EXECUTOR_MEMORY:-1GiB}" >/dev/null
scheduler="$(jq -r .scheduler_url cluster/cluster.json)"
mapfile -t processes < <(jq -r '.processes[] | "\(.pid) \(.name)"' cluster/cluster.json)

# One line per sample: epoch seconds, then "name rss_mib" for each process.
(
  while sleep 0.5; do
    line="$(date +%s.%N)"
    for entry in "${processes[@]}"; do
      pid="${entry%% *}"
      kib="$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)"
      line="$line	${entry#* }	$((${kib:-0} / 1024))"
    done
    echo "$line"
  done
) > rss.tsv &
sampler=$!

started="$(date +%s.%N)"
"$lake" --scheduler "$scheduler" "$@" run --no-ml --sources "$sources" > run.log 2>&1 || {
  echo "lake run failed; its log:" >&2
  tail -20 run.log >&2
  exit 1
}
ended="$(date +%s.%N)"
kill "$sampler"
sampler=""

"$lake" jobs --state-dir cluster --limit 10000 --format json > jobs.json
layer_seconds() { grep -o "^$1: published run .* in [0-9.]* s" run.log | awk '{ print $(NF - 1) }'; }
printf 'lake run --no-ml: %.1f s (Silver %s s, Gold %s s)\n' \
  "$(echo "$ended - $started" | bc)" "$(layer_seconds silver)" "$(layer_seconds gold)"

echo "peak RSS (VmHWM) per process:"
for entry in "${processes[@]}"; do
  pid="${entry%% *}"
  kib="$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)"
  printf '  %-12s %6d MiB\n' "${entry#* }" "$((${kib:-0} / 1024))"
done
spilled="$(cat cluster/logs/*.log 2>/dev/null | grep -o 'spilled [0-9.]* MiB' |
  awk '{ s += $2 } END { printf "%.0f", s }' || true)"
echo "spilled by the executors: ${spilled:-0} MiB"

# Each job's window [start, start + seconds + 1] (the start is to the second, as the scheduler
# reports it), then the highest sample of any process inside it. Jobs under a second are left
# out: at that resolution their windows are mostly their neighbours'.
jq -r '.[] | select(.seconds != null and .seconds >= 1) | "\(.started_utc)\t\(.seconds)\t\(.name)"' jobs.json |
  while IFS=$'\t' read -r start seconds name; do
    from="$(date -u -d "$start" +%s)"
    printf '%s\t%s\t%s\n' "$from" "$(echo "$from + $seconds + 1" | bc)" "$name"
  done > windows.tsv
echo "jobs of a second or more, by the highest RSS of one process while they ran (MiB, process, seconds):"
awk -F'\t' '
  NR == FNR { from[NR] = $1; to[NR] = $2; name[NR] = $3; jobs = NR; next }
  {
    for (j = 1; j <= jobs; j++) {
      if ($1 < from[j] || $1 > to[j]) continue
      for (i = 2; i < NF; i += 2) {
        if ($(i + 1) > peak[j]) { peak[j] = $(i + 1); who[j] = $i }
      }
    }
  }
  END {
    for (j = 1; j <= jobs; j++) if (peak[j] > 0)
      printf "%d\t%s\t%s\t%.1f\n", peak[j], name[j], who[j], to[j] - from[j] - 1
  }
' windows.tsv rss.tsv | sort -t$'\t' -k1,1nr | head -10 |
  awk -F'\t' '{ printf "  %6d  %-34s %-12s %7.1f s\n", $1, $2, $3, $4 }'
