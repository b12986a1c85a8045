"""HTTP API latency at a constant request rate, with vegeta (open loop: a slow answer does not
slow the sender down, so queueing shows in the percentiles).

For each store (the lake's Parquet, and MongoDB when --mongo-url is given) it starts `lake-api`,
then for each target (`/kpis/globaux`, and the second page of `/achats`, reached through the first
page's `next` cursor) runs a warm-up and RUNS timed attacks of DURATION seconds at RATE requests/s.
It prints p50 / p99 / max per run and the median over runs, and writes the raw figures
(JSON) and a table (Markdown) into OUT.

Usage:
  python benches/serving/api_latency.py --lake ./lake [--mongo-url mongodb://127.0.0.1:27017]
      [--store lake|mongodb]... [--target kpis|achats]... [--rate 2000] [--duration 10]
      [--runs 3] [--api-bin target/release/lake-api] [--out benches/results] [--label sf1]
vegeta comes from scripts/ensure-bench-tools.sh.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Self

TOOLS = Path(os.environ.get("LAKE_TOOLS_DIR", Path.home() / ".cache" / "lake-tools"))
VEGETA = TOOLS / "bin" / "vegeta"
WARM_UP_SECONDS = 3


@dataclass
class Attack:
    p50_ms: float
    p99_ms: float
    max_ms: float
    success: float
    throughput: float


class ApiProcess:
    """`lake-api` on a free loopback port, stopped on exit."""

    def __init__(self, binary: Path, lake: str, mongo_url: str | None) -> None:
        args = [
            str(binary),
            "--lake",
            lake,
            "--bind",
            "127.0.0.1:0",
            "--flight-bind",
            "off",
        ]
        if mongo_url:
            args += ["--mongo-url", mongo_url]
        env = dict(os.environ, RUST_LOG="warn")
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            self.process.kill()
            raise SystemExit(f"lake-api did not start (first line {line!r})")
        self.base = line[len(prefix) :]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.process.kill()
        self.process.wait()


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=120) as response:
        body: dict[str, object] = json.load(response)
        return body


def attack(url: str, rate: int, seconds: int) -> Attack:
    """One constant-rate attack on `url`; latencies from vegeta's JSON report."""
    attacked = subprocess.run(
        [
            str(VEGETA),
            "attack",
            f"-rate={rate}/s",
            f"-duration={seconds}s",
            "-timeout=10s",
        ],
        input=f"GET {url}\n".encode(),
        capture_output=True,
        check=True,
        text=False,
    ).stdout
    report = json.loads(
        subprocess.run(
            [str(VEGETA), "report", "-type=json"],
            input=attacked,
            capture_output=True,
            check=True,
        ).stdout
    )
    latencies = report["latencies"]
    return Attack(
        p50_ms=latencies["50th"] / 1e6,
        p99_ms=latencies["99th"] / 1e6,
        max_ms=latencies["max"] / 1e6,
        success=report["success"],
        throughput=report["throughput"],
    )


def targets(base: str, wanted: list[str]) -> dict[str, str]:
    """The URL of each wanted target: `kpis` (`/kpis/globaux`) and `achats` (the second page of
    `/achats`, so the keyset cursor is part of the query)."""
    urls: dict[str, str] = {}
    if "kpis" in wanted:
        urls["/kpis/globaux"] = f"{base}/kpis/globaux"
    if "achats" in wanted:
        first = get_json(f"{base}/achats?limit=50")
        cursor = first.get("next")
        if not isinstance(cursor, str):
            raise SystemExit("/achats has a single page: generate a bigger lake")
        page = f"{base}/achats?limit=50&apres={urllib.parse.quote(cursor)}"
        urls["/achats page 2 (limit 50)"] = page
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", default="lake")
    parser.add_argument("--mongo-url")
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    target_dir = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument(
        "--api-bin", type=Path, default=Path(target_dir) / "release" / "lake-api"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--label", default="api")
    parser.add_argument(
        "--target",
        action="append",
        choices=["kpis", "achats"],
        help="what to attack (repeatable; default both)",
    )
    parser.add_argument(
        "--store",
        action="append",
        choices=["lake", "mongodb"],
        help="which store to serve from (repeatable; default lake, and mongodb with --mongo-url)",
    )
    args = parser.parse_args()
    if not VEGETA.exists():
        raise SystemExit(f"{VEGETA} is missing: run scripts/ensure-bench-tools.sh")

    wanted_stores = args.store or (["lake", "mongodb"] if args.mongo_url else ["lake"])
    if "mongodb" in wanted_stores and not args.mongo_url:
        raise SystemExit("--store mongodb needs --mongo-url")
    stores = [
        (name, args.mongo_url if name == "mongodb" else None) for name in wanted_stores
    ]
    results: list[dict[str, object]] = []
    for store, mongo_url in stores:
        with ApiProcess(args.api_bin, args.lake, mongo_url) as api:
            for name, url in targets(
                api.base, args.target or ["kpis", "achats"]
            ).items():
                attack(url, args.rate, WARM_UP_SECONDS)
                runs = [attack(url, args.rate, args.duration) for _ in range(args.runs)]
                for i, run in enumerate(runs, 1):
                    print(
                        f"{store:8} {name:28} run {i}: p50 {run.p50_ms:7.2f} ms  "
                        f"p99 {run.p99_ms:8.2f} ms  max {run.max_ms:8.2f} ms  "
                        f"ok {run.success:.3f}  {run.throughput:.0f}/s",
                        flush=True,
                    )
                results.append(
                    {
                        "store": store,
                        "target": name,
                        "rate": args.rate,
                        "duration_s": args.duration,
                        "p50_ms_median": statistics.median(r.p50_ms for r in runs),
                        "p99_ms_median": statistics.median(r.p99_ms for r in runs),
                        "max_ms_median": statistics.median(r.max_ms for r in runs),
                        "success_min": min(r.success for r in runs),
                        "runs": [r.__dict__ for r in runs],
                    }
                )

    lines = [
        (
            f"## HTTP API latency at {args.rate} requests/s ({args.runs} runs of {args.duration} s, "
            "medians over runs)"
        ),
        "",
        "| store | target | p50 (ms) | p99 (ms) | max (ms) | success |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['store']} | {r['target']} | {r['p50_ms_median']:.2f} | "
            f"{r['p99_ms_median']:.2f} | {r['max_ms_median']:.2f} | {r['success_min']:.3f} |"
        )
    command = " ".join(["python", *sys.argv])
    lines += ["", f"Reproduce: `{command}`", ""]
    print("\n".join(lines))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = args.out / f"api-latency-{dt.date.today().isoformat()}-{args.label}"
        stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        stem.with_suffix(".md").write_text("\n".join(lines))
        print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
