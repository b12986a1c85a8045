#!/usr/bin/env bash
# Ballista standalone vs our 3-process cluster (1 scheduler + 2 executors, local processes) on
# the same data, release build, runs alternating between the two:
#   scripts/measure-cluster.sh [SCALE] [RUNS]   (defaults: 1 and 3; LAKE_BIN_DIR=dir skips the build)
# Each run starts from an empty local-folder lake; the generated sources are reused. Prints every
# run and the medians of: `lake run --no-ml` wall time, Silver and Gold times, and, on the cluster, the
# write path of Silver: the summed wall time of the last stage of each Silver table job (the
# single task that reads the final shuffle, encodes Parquet and writes it).
set -euo pipefail

scale="${1:-1}"
runs="${2:-3}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/lake-target}"
export CARGO_TARGET_DIR="$target"
if [ -z "${LAKE_BIN_DIR:-}" ]; then
  cargo build --release --quiet --workspace --bins
fi
bin="${LAKE_BIN_DIR:-$target/release}"
lake="$bin/lake"

work="$(mktemp -d)"
cleanup() { "$lake" cluster down --state-dir "$work/cluster" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
layer_seconds() { grep -o "^$1: published run .* in [0-9.]* s" "$2" | awk '{ print $(NF - 1) }'; }

echo "scale $scale, $runs runs per engine, in $work"
"$lake" generate --scale "$scale" --out data/sources
"$lake" cluster up --state-dir cluster --bin-dir "$bin" --scheduler-port 0 --executor-base-port 0 \
  --vcores "$(nproc)"
scheduler="$(jq -r .scheduler_url cluster/cluster.json)"

for i in $(seq "$runs"); do
  for engine in standalone cluster; do
    rm -rf lake
    args=()
    [ "$engine" = cluster ] && args=(--scheduler "$scheduler")
    started="$(date -u '+%Y-%m-%d %H:%M:%S')"
    /usr/bin/time -f "%e" -o time.txt "$lake" "${args[@]}" run --no-ml > "run_${engine}_$i.log"
    total="$(cat time.txt)"
    silver="$(layer_seconds silver "run_${engine}_$i.log")"
    gold="$(layer_seconds gold "run_${engine}_$i.log")"
    echo "$total" >> "total_$engine.txt"
    echo "$silver" >> "silver_$engine.txt"
    echo "$gold" >> "gold_$engine.txt"
    line="$engine #$i: lake run ${total} s (Silver ${silver} s, Gold ${gold} s)"
    if [ "$engine" = cluster ]; then
      write="$("$lake" jobs --state-dir cluster --limit 1000 --format json |
        jq --arg since "$started" '[.[] | select(.started_utc >= $since)
          | select(.name | startswith("lake silver."))
          | select(.name != "lake silver quality gate")
          | .last_stage_seconds // 0] | add')"
      echo "$write" >> write_cluster.txt
      line="$line, Silver write stages ${write} s"
    fi
    echo "$line"
  done
done

for engine in standalone cluster; do
  echo "median $engine: lake run $(median < "total_$engine.txt") s," \
    "Silver $(median < "silver_$engine.txt") s, Gold $(median < "gold_$engine.txt") s"
done
echo "median Silver write stages on the cluster: $(median < write_cluster.txt) s"
echo "last cluster run, Silver jobs (last stage = the single-task write):"
"$lake" jobs --state-dir cluster --limit 40 --format csv | grep -E '^job_id|lake silver\.' | cut -d, -f2,4,6,7,8
