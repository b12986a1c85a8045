"""Fixtures of the dashboard's tests: a lake built from the golden fixtures by the `lake`
binary, and a real `lake-api` serving it on a free loopback port.

The binaries are those `make` builds (`$CARGO_TARGET_DIR/debug`, default
~/.cache/lake-target/debug); `LAKE_BIN_DIR` points elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "core" / "tests" / "fixtures" / "golden"
GOLDEN_FILES = ("clients.csv", "achats.csv", "achats_2025-07.csv")


def binaries() -> Path:
    if "LAKE_BIN_DIR" in os.environ:
        return Path(os.environ["LAKE_BIN_DIR"])
    target = os.environ.get(
        "CARGO_TARGET_DIR", str(Path.home() / ".cache" / "lake-target")
    )
    return Path(target) / "debug"


def lake(*args: str, cwd: Path) -> str:
    """Runs `lake`, failing the test with its output when it fails."""
    run = subprocess.run(
        [str(binaries() / "lake"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"lake {args}:\n{run.stdout}\n{run.stderr}"
    return run.stdout


def publish_golden(folder: Path, extra_files: dict[str, str] | None = None) -> None:
    """Ingests the golden fixtures (and `extra_files`) into `folder/lake`, publishes every layer
    on DataFusion with the golden tests' settings."""
    sources = folder / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    for name in GOLDEN_FILES:
        shutil.copy(GOLDEN / name, sources / name)
    for name, text in (extra_files or {}).items():
        (sources / name).write_text(text)
    lake(
        "--engine",
        "datafusion",
        "run",
        "--sources",
        "sources",
        "--as-of",
        "2025-07-01",
        "--seuil-quarantaine",
        "0.5",
        cwd=folder,
    )


@dataclass
class Api:
    process: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_api(lake_folder: Path, bind: str = "127.0.0.1:0") -> Api:
    process = subprocess.Popen(
        [
            str(binaries() / "lake-api"),
            "--lake",
            str(lake_folder),
            "--bind",
            bind,
            "--flight-bind",
            "off",
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    prefix = "listening on "
    assert line.startswith(prefix), f"lake-api did not start: {line!r}"
    return Api(process, line[len(prefix) :])


@pytest.fixture(scope="session")
def golden_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("golden")
    publish_golden(folder)
    return folder


@pytest.fixture(scope="session")
def golden_api(golden_lake: Path) -> Iterator[Api]:
    api = start_api(golden_lake / "lake")
    yield api
    api.stop()
