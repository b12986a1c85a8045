"""The same Silver + Gold pipeline on several engines, timed side by side, results checked equal.

Engines:
  ballista-cluster     our scheduler + 2 executors as local processes (`lake cluster up`)
  ballista-standalone  Ballista's scheduler and executor inside the `lake` process
  datafusion           DataFusion alone in the `lake` process (no Ballista)
  duckdb               DuckDB running the same sql/ files (run_duckdb.py)
  spark-local          Spark `local[*]` running the same sql/ files through spark.sql (run_spark.py)
  spark-cluster        the same on a Spark standalone cluster: 1 master + 2 workers of 1 core,
                       started by this harness from the pyspark package's own `spark-class`
  pandas               the hand-written pandas baseline of the same logic (run_pandas.py)

The generated sources are made once, and an input lake is built from them once (`lake run`,
untimed): its Bronze files, reference CSVs and recorded settings feed the Python engines, so
every engine starts from the same Bronze. Our engines ingest the sources anew in each run (`lake
run --no-ml`); their ingest time is reported apart, and ratios compare Silver + Gold only.

After one warm-up run per engine, RUNS rounds run the engines in turn, so a slow minute of the
machine hits them all. `--runs-of ENGINE=N` gives an engine fewer timed runs (the first N rounds,
no warm-up): at SF 10 one Spark run takes a quarter of an hour on 2 cores. Per engine: wall time of Silver + Gold and of the whole process (median,
min, max), peak resident memory, and bytes spilled to disk. Memory is given twice: the sum over
the engine's processes, and the largest single process (what a per-process limit must bound).
For our engines: the `lake` process's peak, plus for the cluster the peaks of the scheduler and
executors (high-water marks reset before each run); for the Python engines the resident sets of
the engine's process tree (the JVM, Spark's master, workers and executors included), sampled
every 20 ms. Spill: what `lake run` reports, plus for the cluster what the executors log. Ratios
are each engine's median over ballista-cluster's, measured in this one invocation.

An engine that fails stops the harness, unless named by `--may-fail ENGINE`: its failure is then
recorded (time, peak memory, the last line of its error) and the others go on. `--memory-cap-of
ENGINE=SIZE` caps a Python engine's address space (e.g. pandas=16g), so that an engine that does
not fit fails with MemoryError instead of waking the kernel's OOM killer. `--cluster-arg ARG`
(repeatable) passes ARG to `lake cluster up`, e.g. `--cluster-arg=--executor-memory=1GiB`.

Parity: the last run of every engine is compared table by table with the reference engine's
(`lake compare`: same columns, same rows in any order, floats within a relative 1e-9, decimals
exact); a difference fails the harness and prints the first differing rows.

`--sources DIR` runs a folder of CSV files of your own instead of generated data (the edge-data
tests use it); `--run-arg ARG` (repeatable) passes ARG to every `lake run`, e.g.
`--run-arg=--as-of=2026-01-01` or `--run-arg=--memory-limit=1GiB`.

Usage:
  python benches/engines/bench_engines.py --scale 0.1 [--runs 3] [--engine NAME]...
      [--no-warm-up] [--runs-of ENGINE=N]... [--lake-bin DIR] [--out benches/results] [--label sf0.1] [--work DIR]
      [--sources DIR] [--run-arg ARG]... [--run-arg-of ENGINE=ARG]... [--cluster-arg ARG]...
      [--may-fail ENGINE]... [--memory-cap-of ENGINE=SIZE]...
Writes engines-<date>-<label>.json (raw figures), .md and .png (a chart) into OUT (a later run
the same day adds -2, -3, …).
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
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
OURS = ("ballista-cluster", "ballista-standalone", "datafusion")
PYTHON_RUNNERS = {
    "duckdb": "run_duckdb.py",
    "spark-local": "run_spark.py",
    "spark-cluster": "run_spark.py",
    "pandas": "run_pandas.py",
}
ENGINES = OURS + tuple(PYTHON_RUNNERS)
REFERENCE = "ballista-standalone"
BASE = "ballista-cluster"
STAGES = ("ingest", "silver", "gold")
STAGE_LINE = re.compile(r"^(ingest|silver|gold): .* in ([0-9.]+) s$", re.MULTILINE)
# Sizes as `lake` prints them (bytesize, IEC units): "535.2 MiB", "12 B".
SIZE = r"([0-9.]+ (?:[KMGTP]iB|B))"
RUN_SPILL = re.compile(r"^lake run: done in [0-9.]+ s, spilled " + SIZE, re.MULTILINE)
TASK_SPILL = re.compile(r"task \d+ spilled " + SIZE)
UNITS = {
    "B": 1,
    "KiB": 1 << 10,
    "MiB": 1 << 20,
    "GiB": 1 << 30,
    "TiB": 1 << 40,
    "PiB": 1 << 50,
}
# Every process of a Spark engine: the driver's JVM, the cluster's master, workers, executors.
SAMPLE_SECONDS = 0.02
# Spark standalone workers: 1 core each (2 in all, the machine's cores) and their executors' heap.
SPARK_WORKERS = 2
SPARK_EXECUTOR_MEMORY = "2g"


@dataclass
class Run:
    seconds: float
    stages: dict[str, float]
    # Peak resident set of each process of the engine (name -> MiB).
    peaks_mib: dict[str, float]
    spilled_mib: float = 0.0
    # Why the run failed (the last line of its error), for an engine allowed to fail.
    failure: str | None = None

    @property
    def silver_gold(self) -> float:
        return self.stages.get("silver", 0.0) + self.stages.get("gold", 0.0)

    @property
    def peak_rss_mib(self) -> float:
        """The engine's processes together."""
        return sum(self.peaks_mib.values())

    @property
    def largest_process_mib(self) -> float:
        return max(self.peaks_mib.values(), default=0.0)


@dataclass
class EngineResult:
    runs: list[Run] = field(default_factory=list)
    failures: list[Run] = field(default_factory=list)
    lake: Path | None = None
    parity: str = "not compared"
    tables: dict[str, dict[str, str]] = field(default_factory=dict)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    what: str,
    ready: object,
    seconds: float,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Polls `ready()` until it is true, failing after `seconds` or when `process` exits."""
    deadline = time.monotonic() + seconds
    while not ready():  # type: ignore[operator]
        if process is not None and process.poll() is not None:
            sys.exit(f"{what}: the process exited with {process.returncode}")
        if time.monotonic() > deadline:
            sys.exit(f"{what}: not ready after {seconds:.0f} s")
        time.sleep(0.1)


def children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: the parent pid is the 2nd field after its ")".
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_rss_kib(roots: list[int]) -> dict[int, int]:
    """The resident set of every process in some process trees (pid -> KiB)."""
    tree = children()
    seen: set[int] = set()
    stack = list(roots)
    sizes: dict[int, int] = {}
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        stack += tree.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[pid] = int(line.split()[1])
        except OSError:
            continue
    return sizes


class TreeSampler:
    """Peak resident sets in some process trees, sampled on a thread: of the whole (the sum at
    one instant) and of each process."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.peak_kib = 0
        self.process_peaks_kib: dict[int, int] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.is_set():
            sizes = tree_rss_kib(self.roots)
            self.peak_kib = max(self.peak_kib, sum(sizes.values()))
            for pid, kib in sizes.items():
                self.process_peaks_kib[pid] = max(
                    self.process_peaks_kib.get(pid, 0), kib
                )
            self.done.wait(SAMPLE_SECONDS)

    def stop(self) -> tuple[float, float]:
        """(peak of the sum, peak of the largest process), in MiB."""
        self.done.set()
        self.thread.join()
        largest = max(self.process_peaks_kib.values(), default=0)
        return self.peak_kib / 1024, largest / 1024


class Cluster:
    """`lake cluster up` in WORK/cluster on free ports; `down` on exit."""

    def __init__(self, lake: Path, work: Path, args: list[str]) -> None:
        self.lake = lake
        self.state = work / "cluster"
        subprocess.run(
            [str(lake), "cluster", "up", "--state-dir", str(self.state)]
            + ["--bin-dir", str(lake.parent), "--scheduler-port", "0"]
            + ["--executor-base-port", "0"]
            + args,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        state = json.loads((self.state / "cluster.json").read_text())
        self.scheduler: str = state["scheduler_url"]
        self.processes: dict[str, int] = {
            p["name"]: p["pid"] for p in state["processes"]
        }
        self.logs: dict[str, Path] = {
            p["name"]: Path(p["log"]) for p in state["processes"] if "log" in p
        }
        self.log_offsets: dict[str, int] = {}

    def before_run(self) -> None:
        """Resets the processes' peak memory and notes where their logs end."""
        for pid in self.processes.values():
            # 5: reset the peak resident set size (VmHWM) to the current one.
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        self.log_offsets = {
            name: log.stat().st_size if log.is_file() else 0
            for name, log in self.logs.items()
        }

    def peaks_mib(self) -> dict[str, float]:
        peaks: dict[str, float] = {}
        for name, pid in self.processes.items():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[name] = int(line.split()[1]) / 1024
        return peaks

    def spilled_mib(self) -> float:
        """What the executors logged as spilled since `before_run`."""
        total = 0.0
        for name, log in self.logs.items():
            if not log.is_file():
                continue
            with log.open("rb") as file:
                file.seek(self.log_offsets.get(name, 0))
                text = file.read().decode("utf-8", "replace")
            total += sum(to_mib(m) for m in TASK_SPILL.findall(text))
        return total

    def down(self) -> None:
        subprocess.run(
            [str(self.lake), "cluster", "down", "--state-dir", str(self.state)],
            check=False,
            stdout=subprocess.DEVNULL,
        )


class SparkCluster:
    """A Spark standalone cluster, 1 master + SPARK_WORKERS workers of 1 core, started with the
    pyspark package's own `bin/spark-class` on free loopback ports; stopped on exit."""

    def __init__(self, work: Path) -> None:
        import pyspark

        spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
        env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", SPARK_NO_DAEMONIZE="1")
        logs = work / "spark-cluster"
        logs.mkdir(parents=True, exist_ok=True)
        port, ui = free_port(), free_port()
        self.url = f"spark://127.0.0.1:{port}"
        self.processes: list[subprocess.Popen[bytes]] = []

        def start(name: str, *args: str) -> subprocess.Popen[bytes]:
            log = (logs / f"{name}.log").open("wb")
            process = subprocess.Popen(
                [str(spark_class), *args], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            self.processes.append(process)
            return process

        master = start(
            "master",
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)),
        )
        status = f"http://127.0.0.1:{ui}/json/"
        wait_until(
            "the Spark master", lambda: self._alive_workers(status) >= 0, 120, master
        )
        for n in range(SPARK_WORKERS):
            start(
                f"worker-{n + 1}",
                "org.apache.spark.deploy.worker.Worker",
                *(
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    "1",
                    "--memory",
                    SPARK_EXECUTOR_MEMORY,
                ),
                *(
                    "--webui-port",
                    str(free_port()),
                    "--work-dir",
                    str(logs / f"work-{n + 1}"),
                ),
                self.url,
            )
        wait_until(
            f"{SPARK_WORKERS} Spark workers",
            lambda: self._alive_workers(status) >= SPARK_WORKERS,
            120,
        )

    @staticmethod
    def _alive_workers(status: str) -> int:
        """Workers the master counts as alive; -1 while it cannot say (not listening yet, or
        its web UI answering before its status is ready: an empty body was seen)."""
        try:
            with urllib.request.urlopen(status, timeout=2) as answer:
                return int(json.load(answer).get("aliveworkers", 0))
        except (OSError, ValueError):
            return -1

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@dataclass
class Context:
    lake: Path
    work: Path
    sources: Path
    input_lake: Path
    cluster: Cluster | None
    spark: SparkCluster | None
    run_args: list[str] = field(default_factory=list)
    # Options for one of our engines' `lake run` only, after run_args.
    run_args_of: dict[str, list[str]] = field(default_factory=dict)
    may_fail: set[str] = field(default_factory=set)
    # Address-space caps of Python engines, in bytes.
    memory_caps: dict[str, int] = field(default_factory=dict)


def to_mib(size: str) -> float:
    value, unit = size.split()
    return float(value) * UNITS[unit] / (1 << 20)


def parse_size(text: str) -> int:
    """`16g`, `512m` or a number of bytes."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower()
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def failure_reason(status: int, stderr: str) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    return (
        lines[-1].strip()
        if lines
        else f"exit status {os.waitstatus_to_exitcode(status)}"
    )


def run_engine(engine: str, context: Context, n: str) -> tuple[Run, Path]:
    folder = context.work / "lakes" / f"{engine}-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    roots: list[int] = []
    if engine in OURS:
        command = [str(context.lake), "--lake", str(folder)]
        if engine == "ballista-cluster":
            assert context.cluster is not None
            command += ["--scheduler", context.cluster.scheduler]
            context.cluster.before_run()
        else:
            command += [
                "--engine",
                "standalone" if engine == "ballista-standalone" else "datafusion",
            ]
        command += ["run", "--no-ml", "--sources", str(context.sources)]
        command += context.run_args + context.run_args_of.get(engine, [])
    else:
        command = [sys.executable, str(HERE / PYTHON_RUNNERS[engine])]
        command += ["--input-lake", str(context.input_lake), "--out", str(folder)]
        if engine == "spark-cluster":
            assert context.spark is not None
            command += ["--master", context.spark.url]
            command += ["--executor-memory", SPARK_EXECUTOR_MEMORY]
            roots += context.spark.pids
    cap = context.memory_caps.get(engine)
    if cap is not None:
        # util-linux's prlimit sets RLIMIT_AS, then execs the engine in the same process.
        command = ["prlimit", f"--as={cap}", "--", *command]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=context.work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = None if engine in OURS else TreeSampler([process.pid, *roots])
    output = Output(process)
    # wait4: the child's own peak resident set comes with its exit status.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stdout, stderr = output.join()
    own_peak = usage.ru_maxrss / 1024
    if sampler is not None:
        tree_peak, largest = sampler.stop()
        # The tree as one figure, split as the largest process and the rest.
        largest = max(largest, own_peak)
        peaks = {"largest process": largest}
        if tree_peak > largest:
            peaks["the others"] = tree_peak - largest
    else:
        peaks = {"lake": own_peak}
    spilled = 0.0
    if engine == "ballista-cluster":
        assert context.cluster is not None
        peaks.update(context.cluster.peaks_mib())
        spilled += context.cluster.spilled_mib()
    spilled += sum(to_mib(m) for m in RUN_SPILL.findall(stdout))
    stages = {name: float(value) for name, value in STAGE_LINE.findall(stdout)}
    if os.waitstatus_to_exitcode(status) != 0:
        if engine in context.may_fail:
            return Run(
                seconds, stages, peaks, spilled, failure_reason(status, stderr)
            ), folder
        sys.exit(f"{engine}: {' '.join(command)} failed:\n{stdout}\n{stderr}")
    expected = STAGES if engine in OURS else ("silver", "gold")
    missing = [s for s in expected if s not in stages]
    if missing:
        sys.exit(f"{engine}: no timing for {missing} in:\n{stdout}")
    stages.setdefault("ingest", 0.0)
    return Run(seconds, stages, peaks, spilled), folder


class Output:
    """Reads a child's stdout and stderr on threads, so a chatty child never blocks on a pipe."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.parts: dict[str, str] = {}
        self.threads = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("out", process.stdout), ("err", process.stderr))
        ]
        for thread in self.threads:
            thread.start()

    def _read(self, name: str, stream: object) -> None:
        self.parts[name] = stream.read()  # type: ignore[attr-defined]

    def join(self) -> tuple[str, str]:
        for thread in self.threads:
            thread.join()
        return self.parts.get("out", ""), self.parts.get("err", "")


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
    base = BASE if BASE in results and results[BASE].runs else REFERENCE
    base_work = statistics.median(r.silver_gold for r in results[base].runs)
    warm_up = "after a warm-up" if args.warm_up else "no warm-up"
    fewer = ", ".join(f"{e} {n} run(s), no warm-up" for e, n in args.runs_of.items())
    lines = [
        f"## Engines at SF {args.scale:g} ({args.runs} runs each {warm_up}, alternating"
        + (f"; {fewer}" if fewer else "")
        + ")",
        "",
        (
            "| engine | Silver + Gold (s) median [min, max] | Silver (s) | Gold (s) "
            f"| ÷ {base} | process (s) | our ingest (s) | peak RSS, all processes (MiB) "
            f"| largest process (MiB) | spilled (MiB) | parity with {REFERENCE} |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for engine, result in results.items():
        if not result.runs:
            failed = result.failures[-1]
            lines.append(
                f"| {engine} | failed after {failed.seconds:.0f} s | | | | "
                f"{failed.seconds:.2f} | | {failed.peak_rss_mib:.0f} "
                f"| {failed.largest_process_mib:.0f} | {failed.spilled_mib:.0f} "
                f"| {failed.failure} |"
            )
            continue
        work = spread([r.silver_gold for r in result.runs])
        stage = {s: statistics.median(r.stages[s] for r in result.runs) for s in STAGES}
        process = statistics.median(r.seconds for r in result.runs)
        rss = statistics.median(r.peak_rss_mib for r in result.runs)
        largest = statistics.median(r.largest_process_mib for r in result.runs)
        spilled = statistics.median(r.spilled_mib for r in result.runs)
        ingest = f"{stage['ingest']:.2f}" if engine in OURS else "—"
        parity = "reference" if engine == REFERENCE else result.parity.splitlines()[0]
        lines.append(
            f"| {engine} | {work['median']:.2f} [{work['min']:.2f}, {work['max']:.2f}] "
            f"| {stage['silver']:.2f} | {stage['gold']:.2f} "
            f"| {work['median'] / base_work:.2f} | {process:.2f} | {ingest} "
            f"| {rss:.0f} | {largest:.0f} | {spilled:.0f} | {parity} |"
        )
    processes = {
        engine: {
            name: statistics.median(r.peaks_mib.get(name, 0.0) for r in result.runs)
            for name in result.runs[0].peaks_mib
        }
        for engine, result in results.items()
        if result.runs and len(result.runs[0].peaks_mib) > 1
    }
    if processes:
        lines += ["", "Peak RSS per process (MiB, medians):", ""]
        for engine, peaks in processes.items():
            lines.append(
                f"- {engine}: "
                + ", ".join(f"{name} {mib:.0f}" for name, mib in peaks.items())
            )
    lines += [
        "",
        (
            "Silver + Gold: the engine's own timing of the two layers (reading Bronze, writing "
            "every table as Parquet). Process: the whole run as launched (our engines also "
            "ingest the CSV sources into Bronze; Spark also starts its JVM)."
        ),
        "",
        (
            "Reproduce: `python benches/engines/bench_engines.py "
            f"--scale {args.scale:g} --runs {args.runs}"
            + ("" if args.warm_up else " --no-warm-up")
            + "".join(f" --runs-of {e}={n}" for e, n in args.runs_of.items())
            + "".join(f" --run-arg={a}" for a in args.run_args)
            + "".join(
                f" --run-arg-of={e}={a}"
                for e, values in args.run_args_of.items()
                for a in values
            )
            + "".join(f" --cluster-arg={a}" for a in args.cluster_args)
            + "".join(f" --may-fail {e}" for e in sorted(args.may_fail))
            + "".join(f" --memory-cap-of {e}={c}" for e, c in args.memory_cap_specs)
            + "` (release binaries; "
            "`make bench SCALE=… RUNS=…`)."
        ),
        "",
    ]
    return "\n".join(lines)


def chart(
    args: argparse.Namespace, results: dict[str, EngineResult], path: Path
) -> None:
    """Median Silver and Gold time of each engine, stacked, one bar per engine."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit(
            "matplotlib is missing: run scripts/ensure-python.sh and use its venv's python"
        )
    engines = [e for e, result in results.items() if result.runs]
    figure, axes = plt.subplots(figsize=(8, 0.8 + 0.6 * len(engines)))
    left = [0.0] * len(engines)
    for stage in ("silver", "gold"):
        widths = [
            statistics.median(r.stages[stage] for r in results[e].runs) for e in engines
        ]
        axes.barh(engines, widths, left=left, label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for row, engine in enumerate(engines):
        axes.text(left[row], row, f"  {left[row]:.2f} s", va="center")
    axes.set_xlabel("seconds, median (Silver + Gold from the same Bronze)")
    axes.set_title(f"Silver + Gold at SF {args.scale:g}, median of each engine's runs")
    axes.invert_yaxis()
    axes.set_xlim(0, max(left) * 1.3)
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
    parser.add_argument(
        "--engine",
        action="append",
        choices=ENGINES,
        dest="engines",
        help="run only these engines (repeat; default: all)",
    )
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="skip the untimed first run of each engine (tests)",
    )
    parser.add_argument(
        "--runs-of",
        action="append",
        default=[],
        metavar="ENGINE=N",
        help="fewer timed runs for a slow engine (no warm-up), e.g. spark-cluster=1",
    )
    target = Path(
        os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "lake-target")
    )
    parser.add_argument("--lake-bin", type=Path, default=target / "release")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--label", default=None)
    parser.add_argument(
        "--work", type=Path, help="keep the lakes here (default: a temporary folder)"
    )
    parser.add_argument(
        "--sources",
        type=Path,
        help="a folder of clients*.csv and achats*.csv to run instead of generated data",
    )
    parser.add_argument(
        "--run-arg",
        action="append",
        default=[],
        dest="run_args",
        metavar="ARG",
        help="an option for every `lake run` (repeat), e.g. --run-arg=--as-of=2026-01-01",
    )
    parser.add_argument(
        "--run-arg-of",
        action="append",
        default=[],
        dest="run_arg_specs",
        metavar="ENGINE=ARG",
        help=(
            "an option for one of our engines' `lake run` (repeat), e.g. "
            "--run-arg-of=datafusion=--memory-limit=4GiB"
        ),
    )
    parser.add_argument(
        "--cluster-arg",
        action="append",
        default=[],
        dest="cluster_args",
        metavar="ARG",
        help="an option for `lake cluster up` (repeat), e.g. --cluster-arg=--executor-memory=1GiB",
    )
    parser.add_argument(
        "--may-fail",
        action="append",
        default=[],
        choices=ENGINES,
        metavar="ENGINE",
        help="record this engine's failures instead of stopping (repeat), e.g. pandas at SF 100",
    )
    parser.add_argument(
        "--memory-cap-of",
        action="append",
        default=[],
        metavar="ENGINE=SIZE",
        help="cap a Python engine's address space, e.g. pandas=16g: MemoryError, not the OOM killer",
    )
    args = parser.parse_args()
    args.may_fail = set(args.may_fail)
    caps: dict[str, int] = {}
    specs: list[tuple[str, str]] = []
    for spec in args.memory_cap_of:
        engine, _, size = spec.partition("=")
        try:
            caps[engine] = parse_size(size)
        except ValueError:
            caps[engine] = -1
        if engine not in PYTHON_RUNNERS or caps[engine] <= 0:
            parser.error(
                f"--memory-cap-of {spec}: expected ENGINE=SIZE with one of "
                f"{tuple(PYTHON_RUNNERS)} and a size such as 16g"
            )
        specs.append((engine, size))
    args.memory_caps = caps
    args.memory_cap_specs = specs
    runs_of: dict[str, int] = {}
    for spec in args.runs_of:
        engine, _, count = spec.partition("=")
        if engine not in ENGINES or not count.isdigit() or int(count) < 1:
            parser.error(
                f"--runs-of {spec}: expected ENGINE=N with one of {ENGINES}, N >= 1"
            )
        runs_of[engine] = int(count)
    args.runs_of = runs_of
    run_args_of: dict[str, list[str]] = {}
    for spec in args.run_arg_specs:
        engine, _, value = spec.partition("=")
        if engine not in OURS or not value:
            parser.error(
                f"--run-arg-of {spec}: expected ENGINE=ARG with one of {tuple(OURS)}"
            )
        run_args_of.setdefault(engine, []).append(value)
    args.run_args_of = run_args_of
    chosen = set(args.engines or ENGINES) | {REFERENCE}
    engines = [e for e in ENGINES if e in chosen]
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


def prepare(args: argparse.Namespace, lake: Path, work: Path) -> tuple[Path, Path]:
    """The generated sources and the input lake of the Python engines (built once, untimed)."""
    sources = args.sources.resolve() if args.sources else work / "data" / "sources"
    if args.sources is None and not sources.is_dir():
        subprocess.run(
            [str(lake), "generate", "--scale", str(args.scale), "--out", str(sources)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    input_lake = work / "input-lake"
    if not (input_lake / "silver" / "_current.json").is_file():
        shutil.rmtree(input_lake, ignore_errors=True)
        subprocess.run(
            [str(lake), "--lake", str(input_lake), "--engine", "standalone"]
            + ["run", "--no-ml", "--sources", str(sources)]
            + args.run_args,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return sources, input_lake


def bench(args: argparse.Namespace, engines: list[str], lake: Path, work: Path) -> None:
    """Runs the engines in `work` (sources, lakes, clusters' state) and reports."""
    sources, input_lake = prepare(args, lake, work)
    results = {engine: EngineResult() for engine in engines}
    context = Context(
        lake,
        work,
        sources,
        input_lake,
        None,
        None,
        args.run_args,
        args.run_args_of,
        args.may_fail,
        args.memory_caps,
    )
    try:
        if "ballista-cluster" in engines:
            context.cluster = Cluster(lake, work, args.cluster_args)
        if "spark-cluster" in engines:
            context.spark = SparkCluster(work)
        rounds = (["warm-up"] if args.warm_up else []) + [
            str(n) for n in range(1, args.runs + 1)
        ]
        for n in rounds:
            for engine in engines:
                limit = args.runs_of.get(engine)
                if limit is not None and (n == "warm-up" or int(n) > limit):
                    continue
                run, folder = run_engine(engine, context, n)
                if run.failure is not None:
                    shutil.rmtree(folder, ignore_errors=True)
                    results[engine].failures.append(run)
                    print(
                        f"{engine:<20} run {n}: failed after {run.seconds:.2f} s "
                        f"(peak RSS {run.peak_rss_mib:.0f} MiB): {run.failure}",
                        flush=True,
                    )
                    continue
                if n == "warm-up":
                    shutil.rmtree(folder, ignore_errors=True)
                    continue
                results[engine].runs.append(run)
                if results[engine].lake is not None:
                    shutil.rmtree(results[engine].lake, ignore_errors=True)
                results[engine].lake = folder
                print(
                    f"{engine:<20} run {n}: Silver + Gold {run.silver_gold:7.2f} s "
                    f"(silver {run.stages['silver']:.2f}, gold {run.stages['gold']:.2f}), "
                    f"process {run.seconds:.2f} s, peak RSS {run.peak_rss_mib:.0f} MiB "
                    f"(largest process {run.largest_process_mib:.0f}), "
                    f"spilled {run.spilled_mib:.0f} MiB",
                    flush=True,
                )
    finally:
        if context.cluster is not None:
            context.cluster.down()
        if context.spark is not None:
            context.spark.stop()

    reference = results[REFERENCE].lake
    if reference is None:
        sys.exit(
            f"the reference engine {REFERENCE} has no successful run to compare with"
        )
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
        # A second run the same day must not overwrite the first (the README cites both).
        taken = 1
        while base.parent.joinpath(base.name + ".json").exists():
            taken += 1
            base = args.out / f"engines-{dt.date.today().isoformat()}-{label}-{taken}"
        raw = {
            "scale": args.scale,
            "runs": args.runs,
            "warm_up": args.warm_up,
            "runs_of": args.runs_of,
            "reference": REFERENCE,
            "ratios_over": BASE,
            "cores": os.cpu_count(),
            "engines": {
                engine: {
                    "runs": [
                        {
                            "seconds": r.seconds,
                            "silver_gold": r.silver_gold,
                            "stages": r.stages,
                            "peak_rss_mib": r.peak_rss_mib,
                            "peaks_mib": r.peaks_mib,
                            "spilled_mib": r.spilled_mib,
                        }
                        for r in result.runs
                    ],
                    "failures": [
                        {
                            "seconds": r.seconds,
                            "stages": r.stages,
                            "peaks_mib": r.peaks_mib,
                            "failure": r.failure,
                        }
                        for r in result.failures
                    ],
                    "silver_gold": spread([r.silver_gold for r in result.runs])
                    if result.runs
                    else None,
                    "total": spread([r.seconds for r in result.runs])
                    if result.runs
                    else None,
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
