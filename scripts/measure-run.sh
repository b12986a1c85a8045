#!/usr/bin/env bash
# Measures the generator and `lake run` at one scale with the release build:
#   scripts/measure-run.sh [SCALE] [RUNS]      (defaults: 1 and 3; LAKE_BIN=path skips the build;
#                                               LAKE_RUN_ARGS="--no-ml" adds options to lake run)
# Each run starts from an empty lake (the generated sources are reused). Prints every run and
# the medians: generator purchase rows per second, `lake run` wall time and peak memory (RSS).
set -euo pipefail

scale="${1:-1}"
runs="${2:-3}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/lake-target}"
export CARGO_TARGET_DIR="$target"
if [ -z "${LAKE_BIN:-}" ]; then
  cargo build --release --quiet --workspace --bins
fi
lake="${LAKE_BIN:-$target/release/lake}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "scale $scale, $runs runs, in $work"
for i in $(seq "$runs"); do
  rm -rf data/sources
  "$lake" generate --scale "$scale" --out data/sources | tee -a generate.log
done
grep -o '[0-9 ]* purchase rows/s' generate.log | tr -d ' ' | sed 's/purchaserows\/s//' > gen_rates.txt

for i in $(seq "$runs"); do
  rm -rf lake
  /usr/bin/time -f "%e %M" -o "time_$i.txt" "$lake" run ${LAKE_RUN_ARGS:-} > "run_$i.log"
  read -r seconds kib < "time_$i.txt"
  echo "lake run #$i: ${seconds} s, peak RSS $((kib / 1024)) MiB"
  cat "time_$i.txt" >> times.txt
done

echo "median generator rate: $(median < gen_rates.txt) purchase rows/s"
echo "median lake run wall time: $(cut -d' ' -f1 times.txt | median) s"
echo "median lake run peak RSS: $(( $(cut -d' ' -f2 times.txt | median | cut -d. -f1) / 1024 )) MiB"
echo "last run's stages:"
grep -E '^(==|  (silver|gold)\.|ingest:|silver:|gold:|lake run)' "run_$runs.log"
