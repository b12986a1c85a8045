"""The flows against the real `lake` binary (LAKE_BIN_DIR, built by `make test`) on the golden
fixtures, in Prefect's test harness (a temporary local server, nothing to install)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Read when lake_flows.flows is imported: short retries for the tests.
os.environ.setdefault("LAKE_FLOW_RETRY_DELAY", "3")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from prefect.testing.utilities import prefect_test_harness

REPOSITORY = Path(__file__).resolve().parents[2]
GOLDEN = REPOSITORY / "core" / "tests" / "fixtures" / "golden"
# The settings the golden figures were worked out with (lake_testkit::golden): 10 of the 24
# purchase rows are quarantined on purpose, so the blocking threshold is lifted to 50 %.
GOLDEN_AS_OF = "2025-07-01 00:00:00"
GOLDEN_SETTINGS = ["--as-of", GOLDEN_AS_OF, "--seuil-quarantaine", "0.5"]


def lake_binary() -> Path:
    folder = Path(
        os.environ.get("LAKE_BIN_DIR", Path.home() / ".cache/lake-target/debug")
    )
    binary = folder / "lake"
    if not binary.is_file():
        pytest.fail(
            f"no lake binary in {folder}: run `make build` (or set LAKE_BIN_DIR)"
        )
    return binary


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory whose `sources/` holds the golden clients.csv and achats.csv (not
    achats_2025-07.csv, which a test adds); the flows' `lake` runs there."""
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("clients.csv", "achats.csv"):
        shutil.copy(GOLDEN / name, sources / name)
    monkeypatch.setenv("LAKE_WORKDIR", str(tmp_path))
    monkeypatch.setenv("LAKE_BIN", str(lake_binary()))
    monkeypatch.setenv("LAKE_SOURCES", "sources")
    for name in ("LAKE_ROOT", "LAKE_SCHEDULER", "LAKE_DETAILED_EXIT_CODES"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
