"""The dashboard's refresh time, measured to the pixel, and each page's render time.

Refresh (per store: the lake store, then MongoDB): the dashboard's home page stays open in
headless Chromium while a new Gold is published with another CA, repeatedly; each round is split
into

- load: from the start of the rebuild to the switch (`lake silver` + `lake gold`; for MongoDB,
  then `lake mongo load`),
- switch: the moment readers can see it (the lake's `gold/_current.json` written; MongoDB's
  pointer replaced, as `lake mongo load` reports it),
- API: the first `/freshness` answer naming the new Gold version (polled every 10 ms),
- pixels: the first animation frame where the open page shows the new CA.

Each round alternates the Silver `--as-of` between the data's default and one day earlier, so
the purchases of the last day move in and out of quarantine (rule A9) and the CA changes.

Render: each page opened in a fresh tab of the same browser, timed from navigation to a complete
render (Streamlit's script finished, title drawn, no element still loading), on the lake store.

Usage (what `make bench-dashboard` runs):
    python benches/dashboard/bench_dashboard.py --refresh-scale 0.1 --render-scale 1 \
        --rounds 20 --out benches/results
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
sys.path.insert(0, str(DASHBOARD))

from lake_dashboard import fr
from lake_dashboard.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SETTLED,
    dashboard,
    free_port,
    wait_until,
)

PAGES = sorted(p.stem for p in (DASHBOARD / "views").glob("*.py"))
# Longest wait for one step of a round (a Gold build at SF 1 in a debug build takes ~15 s).
STEP_TIMEOUT = 300.0

SHOWS_CA = """(expected) => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
    .some((e) => e.innerText.trim() === expected)"""


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile, nearest rank (as the other benchmarks of benches/)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def spread(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p95": percentile(values, 95),
        "min": min(values),
        "max": max(values),
    }


@dataclass
class Lake:
    """`lake` on one lake folder."""

    bin_dir: Path
    folder: Path
    sources: Path
    # The `as_of` of the published Silver (YYYY-MM-DD).
    as_of: str = ""

    def run(self, *args: str) -> str:
        command = [str(self.bin_dir / "lake"), "--lake", str(self.folder), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def gold_run_id(self) -> str:
        pointer = json.loads((self.folder / "gold" / "_current.json").read_text())
        return str(pointer["run_id"])

    def gold_switched_at(self) -> float:
        """When the Gold pointer was last written (wall clock, seconds)."""
        return (self.folder / "gold" / "_current.json").stat().st_mtime

    def rebuild_gold(self, as_of: str) -> None:
        """A new Silver with another `as_of`, then a new Gold on it."""
        self.run("silver", "--sources", str(self.sources), "--as-of", as_of)
        self.run("gold")
        self.as_of = as_of


def prepare_lake(bin_dir: Path, work: Path, scale: float) -> tuple[Lake, str]:
    """Generated sources and a published lake at `scale` (reused when already there); returns
    the lake and its default `as_of` (the generator's)."""
    sources = work / f"sources-sf{scale:g}"
    if not (sources / "generation_manifest.json").exists():
        subprocess.run(
            [
                str(bin_dir / "lake"),
                "generate",
                "--scale",
                f"{scale:g}",
                "--out",
                str(sources),
            ],
            check=True,
            capture_output=True,
        )
    lake = Lake(bin_dir, work / f"lake-sf{scale:g}", sources)
    print(f"  lake at SF {scale:g}: {lake.folder}", flush=True)
    manifest = json.loads((sources / "generation_manifest.json").read_text())
    as_of = str(manifest["as_of"])[:10]
    lake.run("run", "--sources", str(sources), "--as-of", as_of)
    lake.as_of = as_of
    return lake, as_of


@contextmanager
def api_process(bin_dir: Path, lake: Lake, mongo_url: str | None) -> Iterator[str]:
    command = [
        str(bin_dir / "lake-api"),
        "--lake",
        str(lake.folder),
        "--bind",
        "127.0.0.1:0",
        "--flight-bind",
        "off",
        "--workers",
        "2",
    ]
    if mongo_url:
        command += ["--mongo-url", mongo_url]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"lake-api did not start: {line!r}")
        yield line.removeprefix("listening on ")
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def ferretdb(work: Path) -> Iterator[str]:
    """A FerretDB (MongoDB protocol, SQLite handler) as the tests start it."""
    binary = Path.home() / ".cache" / "lake-tools" / "bin" / "ferretdb"
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run scripts/ensure-test-servers.sh")
    state = Path(tempfile.mkdtemp(prefix="ferretdb-", dir=work))
    port = free_port()
    process = subprocess.Popen(
        [
            str(binary),
            "--handler=sqlite",
            f"--sqlite-url=file:{state}/",
            f"--listen-addr=127.0.0.1:{port}",
            f"--state-dir={state}",
            "--telemetry=disable",
            "--debug-addr=-",
            "--log-level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until("FerretDB", 30, lambda: can_connect(port))
        yield f"mongodb://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(state, ignore_errors=True)


def can_connect(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def mongo_load(lake: Lake, mongo_url: str) -> float:
    """`lake mongo load`; returns when its output says the pointer switched (wall clock)."""
    process = subprocess.Popen(
        [
            str(lake.bin_dir / "lake"),
            "--lake",
            str(lake.folder),
            "mongo",
            "load",
            "--mongo-url",
            mongo_url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    switched = None
    for line in process.stdout:
        if "switched the pointer" in line and switched is None:
            switched = time.time()
    _, errors = process.communicate()
    if process.returncode != 0 or switched is None:
        raise RuntimeError(f"lake mongo load failed:\n{errors}")
    return switched


class FreshnessWatch:
    """Polls `/freshness` every 10 ms and notes when each Gold version is first served."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.first_seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                version = get_json(f"{self.api_url}/freshness")["gold_version"]
                self.first_seen.setdefault(version, time.time())
            except (OSError, KeyError, ValueError):
                pass
            self._stop.wait(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class Round:
    load: float
    switch_to_api: float
    api_to_pixels: float

    @property
    def switch_to_pixels(self) -> float:
        return self.switch_to_api + self.api_to_pixels


@dataclass
class StoreResult:
    store: str
    scale: float
    rounds: list[Round] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "scale": self.scale,
            "rounds": len(self.rounds),
            "load_s": spread([r.load for r in self.rounds]),
            "switch_to_api_s": spread([r.switch_to_api for r in self.rounds]),
            "api_to_pixels_s": spread([r.api_to_pixels for r in self.rounds]),
            "switch_to_pixels_s": spread([r.switch_to_pixels for r in self.rounds]),
            "raw": [r.__dict__ for r in self.rounds],
        }


def refresh_rounds(
    browser: Any,
    lake: Lake,
    as_of: str,
    rounds: int,
    store: str,
    mongo_url: str | None,
) -> StoreResult:
    """Rounds of one store; `lake.as_of` says which Silver is published, each round publishes
    the other one (so the CA always changes)."""
    earlier = (dt.date.fromisoformat(as_of) - dt.timedelta(days=1)).isoformat()
    result = StoreResult(store, 0.0)
    if mongo_url:
        mongo_load(lake, mongo_url)
    with (
        api_process(lake.bin_dir, lake, mongo_url) as api_url,
        dashboard(api_url) as url,
    ):
        watch = FreshnessWatch(api_url)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{url}/")
            page.wait_for_function(SETTLED, timeout=60_000)
            for index in range(rounds):
                target = earlier if lake.as_of == as_of else as_of
                started = time.time()
                lake.rebuild_gold(target)
                version = lake.gold_run_id()
                switched = (
                    mongo_load(lake, mongo_url)
                    if mongo_url
                    else lake.gold_switched_at()
                )
                wait_until(
                    "the API",
                    STEP_TIMEOUT,
                    lambda v=version: v in watch.first_seen,
                    every=0.01,
                )
                seen = watch.first_seen[version]
                expected = fr.euros(get_json(f"{api_url}/kpis/globaux")["ca_total"])
                page.wait_for_function(
                    SHOWS_CA, arg=expected, polling="raf", timeout=STEP_TIMEOUT * 1000
                )
                drawn = time.time()
                done = Round(
                    load=switched - started,
                    switch_to_api=max(0.0, seen - switched),
                    api_to_pixels=max(0.0, drawn - seen),
                )
                result.rounds.append(done)
                print(
                    f"  {store} round {index + 1}/{rounds}: CA {expected}, load "
                    f"{done.load:.2f} s, switch → API {done.switch_to_api * 1000:.0f} ms, "
                    f"API → pixels {done.api_to_pixels * 1000:.0f} ms",
                    flush=True,
                )
        finally:
            watch.stop()
            page.close()
    return result


NAVIGATED = """(title) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const h1 = document.querySelector("h1");
    return app
        && app.dataset.testScriptState === "notRunning"
        && h1 && h1.innerText.trim() === title
        && !document.querySelector('[data-testid*="keleton"]');
}"""


def render_times(browser: Any, lake: Lake, repetitions: int) -> dict[str, Any]:
    """Each page's time to a complete render, two ways: opened by URL in a new tab of one
    browser profile (Streamlit's front end loads and connects first; the first visit of the
    first page starts with an empty browser cache, each page's first visit fills the dashboard's
    answer cache for its queries), and reached from the sidebar of an open dashboard, as an
    analyst moves between pages."""
    out: dict[str, Any] = {}
    browser = browser.new_context(viewport={"width": 1400, "height": 1000})
    with (
        api_process(lake.bin_dir, lake, None) as api_url,
        dashboard(api_url) as url,
    ):
        titles = {}
        for name in PAGES:
            times = []
            for _ in range(repetitions + 1):
                page = browser.new_page()
                started = time.perf_counter()
                page.goto(f"{url}/" if name == "accueil" else f"{url}/{name}")
                page.wait_for_function(SETTLED, polling="raf", timeout=120_000)
                times.append(time.perf_counter() - started)
                titles[name] = page.inner_text("h1").strip()
                page.close()
            out[name] = {
                "first_tab_s": times[0],
                "tab": spread(times[1:]),
                "raw_tab": times,
            }
        page = browser.new_page()
        page.goto(f"{url}/")
        page.wait_for_function(SETTLED, polling="raf", timeout=120_000)
        links = '[data-testid="stSidebarNavLink"]'
        for name in PAGES:
            base = "fraicheur" if name == "accueil" else "accueil"
            times = []
            for _ in range(repetitions):
                for target in (base, name):
                    link = (
                        page.locator(links).first
                        if target == "accueil"
                        else page.locator(f'{links}[href$="/{target}"]')
                    )
                    started = time.perf_counter()
                    link.click()
                    page.wait_for_function(
                        NAVIGATED, arg=titles[target], polling="raf", timeout=120_000
                    )
                    if target == name:
                        times.append(time.perf_counter() - started)
            out[name]["sidebar"] = spread(times)
            out[name]["raw_sidebar"] = times
            print(
                f"  {name:<14} new tab: first {out[name]['first_tab_s']:.2f} s, then p95 "
                f"{out[name]['tab']['p95']:.2f} s; from the sidebar: p50 "
                f"{out[name]['sidebar']['p50']:.2f} s, p95 {out[name]['sidebar']['p95']:.2f} s",
                flush=True,
            )
        page.close()
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"## Dashboard: refresh to the pixel and page render times ({report['date']})",
        "",
        f"Machine: {report['machine']}. Binaries: {report['binaries']}.",
        "",
        (
            f"### Refresh: a new Gold → the open home page shows the new CA "
            f"(SF {report['refresh_scale']:g}, {report['rounds']} rounds per store)"
        ),
        "",
        (
            "| store | load p50 / p95 (s) | switch → API p50 / p95 (ms) "
            "| API → pixels p50 / p95 (ms) | **switch → pixels p50 / p95 (ms)** |"
        ),
        "|---|---:|---:|---:|---:|",
    ]
    for s in report["refresh"]:

        def ms(key: str, s: dict[str, Any] = s) -> str:
            return f"{s[key]['p50'] * 1000:.0f} / {s[key]['p95'] * 1000:.0f}"

        lines.append(
            f"| {s['store']} | {s['load_s']['p50']:.2f} / {s['load_s']['p95']:.2f} "
            f"| {ms('switch_to_api_s')} | {ms('api_to_pixels_s')} "
            f"| **{ms('switch_to_pixels_s')}** |"
        )
    lines += [
        "",
        (
            "Goal: switch → pixels ≤ 2 s at p95. Load runs from the start of the rebuild to the "
            "switch: `lake silver` + `lake gold`, then `lake mongo load` for MongoDB."
        ),
        "",
        (
            f"### Page render time on the lake store (SF {report['render_scale']:g}, "
            f"{report['render_repetitions']} visits per page after a first one)"
        ),
        "",
        (
            "| page | from the sidebar p50 / p95 (s) | new tab p50 / p95 (s) "
            "| first visit, new tab (s) |"
        ),
        "|---|---:|---:|---:|",
    ]
    for name, t in report["render"].items():
        lines.append(
            f"| {name} | {t['sidebar']['p50']:.2f} / {t['sidebar']['p95']:.2f} "
            f"| {t['tab']['p50']:.2f} / {t['tab']['p95']:.2f} | {t['first_tab_s']:.2f} |"
        )
    lines += ["", "Goal: ≤ 1 s at p95.", "", f"Reproduce: `{report['command']}`", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = os.environ.get(
        "CARGO_TARGET_DIR", str(Path.home() / ".cache" / "lake-target")
    )
    parser.add_argument(
        "--lake-bin",
        type=Path,
        default=Path(target) / "debug",
        help="folder of lake and lake-api (default: the debug build)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "benches" / "work" / "dashboard",
        help="generated sources and lakes (kept between runs)",
    )
    parser.add_argument("--refresh-scale", type=float, default=0.1)
    parser.add_argument("--render-scale", type=float, default=1.0)
    parser.add_argument(
        "--rounds", type=int, default=20, help="refresh rounds per store"
    )
    parser.add_argument("--render-repetitions", type=int, default=10)
    parser.add_argument(
        "--stores", default="lake,mongodb", help="comma-separated: lake, mongodb"
    )
    parser.add_argument(
        "--mongo-url",
        help="a MongoDB to load into (default: a FerretDB "
        "started from the test servers' install)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benches" / "results")
    parser.add_argument("--label", default="", help="suffix of the result files")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.work.mkdir(parents=True, exist_ok=True)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores",
        "binaries": str(args.lake_bin),
        "refresh_scale": args.refresh_scale,
        "render_scale": args.render_scale,
        "rounds": args.rounds,
        "render_repetitions": args.render_repetitions,
        "command": "python benches/dashboard/bench_dashboard.py "
        + " ".join(sys.argv[1:]),
        "refresh": [],
        "render": {},
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            if args.rounds > 0:
                print(f"refresh at SF {args.refresh_scale:g}", flush=True)
                lake, as_of = prepare_lake(args.lake_bin, args.work, args.refresh_scale)
                for store in stores:
                    if store == "mongodb":
                        with (
                            ferretdb(args.work)
                            if args.mongo_url is None
                            else _given(args.mongo_url)
                        ) as url:
                            result = refresh_rounds(
                                browser, lake, as_of, args.rounds, store, url
                            )
                    else:
                        result = refresh_rounds(
                            browser, lake, as_of, args.rounds, store, None
                        )
                    result.scale = args.refresh_scale
                    report["refresh"].append(result.summary())
                    write(args.out, args.label, report)
            if args.render_repetitions > 0:
                print(f"render times at SF {args.render_scale:g}", flush=True)
                lake, _ = prepare_lake(args.lake_bin, args.work, args.render_scale)
                report["render"] = render_times(browser, lake, args.render_repetitions)
                write(args.out, args.label, report)
        finally:
            browser.close()
    print(markdown(report))


def write(out: Path, label: str, report: dict[str, Any]) -> None:
    """The report so far, as JSON and Markdown (rewritten after each part, so a failure in a
    later part keeps what was measured)."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"refresh-dashboard-{report['date']}" + (f"-{label}" if label else "")
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / f"{stem}.md").write_text(markdown(report))


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
