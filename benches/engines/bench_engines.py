"""The same Silver + Gold pipeline on several engines, timed side by side, results checked equal.

Engines so far (issue 4 adds Spark, pandas and DuckDB to this harness):
  ballista-cluster     our scheduler + 2 executors as local processes (`lake cluster up`)
  ballista-standalone  Ballista's scheduler and executor inside the `lake` process
  datafusion           DataFusion alone in the `lake` process (no Ballista)

The generated sources are made once; each run ingests them into a new lake and builds Silver and
Gold (`lake run --no-ml`). After one warm-up run per engine, RUNS rounds run the engines in turn,
so a slow minute of the machine hits them all. Per engine: wall time of the whole run and of
ingest, Silver and Gold (median, min, max), and peak resident memory: the `lake` process's, plus
for the cluster the peaks of the scheduler and executors over the run (their high-water marks are
reset before each run; the sum of peaks bounds the total from above). Ratios are each engine's
median over the reference engine's, all measured in this one invocation.

Parity: the last run of every engine is compared table by table with the reference engine's
(`lake compare`: same columns, same rows in any order, floats within a relative 1e-9, decimals
exact); a difference fails the harness and prints the first differing rows.

Usage:
  python benches/engines/bench_engines.py --scale 0.1 [--runs 3] [--engine NAME]...
      [--lake-bin DIR] [--out benches/results] [--label sf0.1] [--work DIR]
Writes engines-<date>-<label>.json (raw figures), .md and .png (a chart) into OUT.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ENGINES = ("ballista-cluster", "ballista-standalone", "datafusion")
REFERENCE = "ballista-standalone"
STAGES = ("ingest", "silver", "gold")
STAGE_LINE = re.compile(r"^(ingest|silver|gold): .* in ([0-9.]+) s$", re.MULTILINE)


@dataclass
class Run:
    seconds: float
    stages: dict[str, float]
    peak_rss_mib: float


@dataclass
class EngineResult:
    runs: list[Run] = field(default_factory=list)
    lake: Path | None = None
    parity: str = "not compared"
    tables: dict[str, dict[str, str]] = field(default_factory=dict)


class Cluster:
    """`lake cluster up` in WORK/cluster on free ports; `down` on exit."""

    def __init__(self, lake: Path, work: Path) -> None:
        self.lake = lake
        self.state = work / "cluster"
        subprocess.run(
            [str(lake), "cluster", "up", "--state-dir", str(self.state)]
            + ["--bin-dir", str(lake.parent), "--scheduler-port", "0"]
            + ["--executor-base-port", "0"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        state = json.loads((self.state / "cluster.json").read_text())
        self.scheduler: str = state["scheduler_url"]
        self.pids: list[int] = [p["pid"] for p in state["processes"]]

    def reset_peaks(self) -> None:
        for pid in self.pids:
            # 5: reset the peak resident set size (VmHWM) to the current one.
            Path(f"/proc/{pid}/clear_refs").write_text("5")

    def peaks_mib(self) -> float:
        total_kib = 0
        for pid in self.pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kib += int(line.split()[1])
        return total_kib / 1024

    def down(self) -> None:
        subprocess.run(
            [str(self.lake), "cluster", "down", "--state-dir", str(self.state)],
            check=False,
            stdout=subprocess.DEVNULL,
        )


def run_engine(
    engine: str, lake: Path, work: Path, sources: Path, cluster: Cluster | None, n: str
) -> tuple[Run, Path]:
    folder = work / "lakes" / f"{engine}-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    args = ["--lake", str(folder)]
    if engine == "ballista-cluster":
        assert cluster is not None
        args += ["--scheduler", cluster.scheduler]
        cluster.reset_peaks()
    else:
        args += [
            "--engine",
            "standalone" if engine == "ballista-standalone" else "datafusion",
        ]
    args += ["run", "--no-ml", "--sources", str(sources)]
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(lake), *args],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = process.stdout.read(), process.stderr.read()
    if status != 0:
        sys.exit(f"{engine}: lake {' '.join(args)} failed:\n{stdout}\n{stderr}")
    stages = {name: float(value) for name, value in STAGE_LINE.findall(stdout)}
    missing = [s for s in STAGES if s not in stages]
    if missing:
        sys.exit(f"{engine}: no timing for {missing} in:\n{stdout}")
    peak = usage.ru_maxrss / 1024
    if cluster is not None and engine == "ballista-cluster":
        peak += cluster.peaks_mib()
    return Run(seconds, stages, peak), folder


def compare(
    lake: Path, reference: Path, other: Path, work: Path
) -> tuple[str, dict[str, dict[str, str]]]:
    """`lake compare`: ("same" or the failure text, per-table rows and checksums)."""
    result = subprocess.run(
        [str(lake), "--lake", str(reference), "compare", str(other)],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    tables: dict[str, dict[str, str]] = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1] == "same":
            tables[parts[0]] = {"rows": "".join(parts[1:-4]), "checksum": parts[-2]}
    if result.returncode != 0:
        return result.stdout + result.stderr, tables
    return "same", tables


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def markdown(args: argparse.Namespace, results: dict[str, EngineResult]) -> str:
    base = "ballista-cluster" if "ballista-cluster" in results else REFERENCE
    base_total = statistics.median(r.seconds for r in results[base].runs)
    lines = [
        f"## Engines at SF {args.scale} ({args.runs} runs each after a warm-up, alternating)",
        "",
        (
            "| engine | total (s) median [min, max] | ingest (s) | Silver (s) | Gold (s) "
            f"| peak RSS (MiB) | total ÷ {base} | parity with {REFERENCE} |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for engine, result in results.items():
        total = spread([r.seconds for r in result.runs])
        stage = {s: statistics.median(r.stages[s] for r in result.runs) for s in STAGES}
        rss = statistics.median(r.peak_rss_mib for r in result.runs)
        parity = "reference" if engine == REFERENCE else result.parity.splitlines()[0]
        lines.append(
            f"| {engine} | {total['median']:.2f} [{total['min']:.2f}, {total['max']:.2f}] "
            f"| {stage['ingest']:.2f} | {stage['silver']:.2f} | {stage['gold']:.2f} "
            f"| {rss:.0f} | {total['median'] / base_total:.2f} | {parity} |"
        )
    lines += [
        "",
        (
            "Reproduce: `python benches/engines/bench_engines.py "
            f"--scale {args.scale} --runs {args.runs}` (release binaries; `make bench SCALE=…`)."
        ),
        "",
    ]
    return "\n".join(lines)


def chart(
    args: argparse.Namespace, results: dict[str, EngineResult], path: Path
) -> None:
    """Median time per stage of each engine, stacked, one bar per engine."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit(
            "matplotlib is missing: run scripts/ensure-python.sh and use its venv's python"
        )
    engines = list(results)
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.7 * len(engines)))
    left = [0.0] * len(engines)
    for stage in STAGES:
        widths = [
            statistics.median(r.stages[stage] for r in results[e].runs) for e in engines
        ]
        axes.barh(engines, widths, left=left, label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for row, engine in enumerate(engines):
        total = statistics.median(r.seconds for r in results[engine].runs)
        axes.text(left[row], row, f"  {total:.2f} s", va="center")
    axes.set_xlabel("seconds (median; total = whole lake run)")
    axes.set_title(f"Silver + Gold at SF {args.scale:g}, {args.runs} runs per engine")
    axes.invert_yaxis()
    axes.set_xlim(0, max(left) * 1.25)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", action="append", choices=ENGINES, dest="engines")
    target = Path(
        os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "lake-target")
    )
    parser.add_argument("--lake-bin", type=Path, default=target / "release")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--label", default=None)
    parser.add_argument(
        "--work", type=Path, help="keep the lakes here (default: a temporary folder)"
    )
    args = parser.parse_args()
    engines: list[str] = args.engines or list(ENGINES)
    if REFERENCE not in engines:
        engines.append(REFERENCE)
    lake = (args.lake_bin / "lake").resolve()
    if not lake.is_file():
        sys.exit(
            f"{lake} is missing: build it (make bench builds the release binaries)"
        )
    if args.work is None:
        # The lakes of every run add up (SF 1: about 2 GB): remove them at the end.
        with tempfile.TemporaryDirectory(prefix="bench-engines-") as temporary:
            bench(args, engines, lake, Path(temporary))
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        bench(args, engines, lake, args.work)


def bench(args: argparse.Namespace, engines: list[str], lake: Path, work: Path) -> None:
    """Runs the engines in `work` (sources, lakes, cluster state) and reports."""
    sources = work / "data" / "sources"
    if not sources.is_dir():
        subprocess.run(
            [str(lake), "generate", "--scale", str(args.scale), "--out", str(sources)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    cluster = Cluster(lake, work) if "ballista-cluster" in engines else None
    results = {engine: EngineResult() for engine in engines}
    try:
        for engine in engines:
            run_engine(engine, lake, work, sources, cluster, "warm-up")
        for n in range(1, args.runs + 1):
            for engine in engines:
                run, folder = run_engine(engine, lake, work, sources, cluster, str(n))
                results[engine].runs.append(run)
                results[engine].lake = folder
                print(
                    f"{engine:<20} run {n}: {run.seconds:6.2f} s "
                    + " ".join(f"{s} {run.stages[s]:.2f} s" for s in STAGES)
                    + f", peak RSS {run.peak_rss_mib:.0f} MiB",
                    flush=True,
                )
    finally:
        if cluster is not None:
            cluster.down()

    reference = results[REFERENCE].lake
    assert reference is not None
    failed = []
    for engine, result in results.items():
        if engine == REFERENCE or result.lake is None:
            continue
        result.parity, result.tables = compare(lake, reference, result.lake, work)
        if result.parity != "same":
            failed.append(engine)
            print(
                f"{engine}: results differ from {REFERENCE}:\n{result.parity}",
                file=sys.stderr,
            )

    report = markdown(args, results)
    print(report)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        label = args.label or f"sf{args.scale:g}"
        base = args.out / f"engines-{dt.date.today().isoformat()}-{label}"
        raw = {
            "scale": args.scale,
            "runs": args.runs,
            "reference": REFERENCE,
            "cores": os.cpu_count(),
            "engines": {
                engine: {
                    "runs": [
                        {
                            "seconds": r.seconds,
                            "stages": r.stages,
                            "peak_rss_mib": r.peak_rss_mib,
                        }
                        for r in result.runs
                    ],
                    "total": spread([r.seconds for r in result.runs]),
                    "parity": "reference" if engine == REFERENCE else result.parity,
                    "tables": result.tables,
                }
                for engine, result in results.items()
            },
        }
        # Not with_suffix: the label may hold a dot (sf0.1).
        base.parent.joinpath(base.name + ".json").write_text(json.dumps(raw, indent=2))
        base.parent.joinpath(base.name + ".md").write_text(report)
        chart(args, results, base.parent / (base.name + ".png"))
        print(f"wrote {base}.json, .md and .png")
    if failed:
        sys.exit(f"parity failed for {', '.join(failed)}")


if __name__ == "__main__":
    main()
