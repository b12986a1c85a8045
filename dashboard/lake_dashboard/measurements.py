"""The last measured refresh delays and page render times of the dashboard, read from the
benchmark's result files (`benches/results/refresh-dashboard-*.json`, written by
`make bench-dashboard`), for the "Fraîcheur des données" page. Not data of the lake: a file of
the repository, or of `LAKE_BENCH_RESULTS` when set."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[2] / "benches" / "results"


def results_folder() -> Path:
    return Path(os.environ.get("LAKE_BENCH_RESULTS", RESULTS))


def latest() -> tuple[str, dict[str, Any]] | None:
    """(file name, content) of the newest result, or None when there is none or it is
    unreadable."""
    files = sorted(results_folder().glob("refresh-dashboard-*.json"))
    for file in reversed(files):
        try:
            return file.name, json.loads(file.read_text())
        except (OSError, ValueError):
            continue
    return None
