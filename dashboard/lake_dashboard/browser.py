"""Serving the dashboard as a user runs it and driving it in headless Chromium, for its browser
tests (`tests/test_browser.py`) and the refresh benchmark (`benches/dashboard/`). Not used by the
app itself."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[1]
# Debian's Chromium (installed by scripts/ensure-dashboard.sh --browser).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]

# True once Streamlit has run the page's script to its end, drawn its title, and loaded every
# element (a component still loading shows as a skeleton).
SETTLED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app
        && app.dataset.testScriptState === "notRunning"
        && app.dataset.testConnectionState === "CONNECTED"
        && document.querySelector("h1")
        && !document.querySelector('[data-testid*="keleton"]');
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    what: str, seconds: float, done: Callable[[], bool], every: float = 0.2
) -> None:
    """Polls `done` every `every` seconds; TimeoutError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {seconds:.0f} s")
        time.sleep(every)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def serve_dashboard(api_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """`streamlit run dashboard/app.py` on a free port against `api_url`, once it answers;
    returns the process (the caller stops it) and the dashboard's URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(DASHBOARD / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        env={**os.environ, "LAKE_API_URL": api_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until("Streamlit to answer", 60, lambda: answers(f"{url}/_stcore/health"))
    return process, url


@contextmanager
def dashboard(api_url: str) -> Iterator[str]:
    """The dashboard's URL while it is served (see `serve_dashboard`)."""
    process, url = serve_dashboard(api_url)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
