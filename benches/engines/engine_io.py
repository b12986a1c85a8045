"""What every Python engine of the benchmark shares: where its inputs are, where its outputs go,
and the progress lines the harness reads.

Inputs come from a lake the `lake` binary ingested (`lake run` or `lake ingest`): Bronze Parquet
files listed in `bronze/_manifest.json`, the reference CSVs in `reference/`, and the settings
its Silver run recorded. Every engine thus starts from the same Bronze files and settings.

Outputs go to `OUT/<layer>/<table>/*.parquet`, one folder per published table, the layout
`lake compare OUT` reads; staging tables go to `OUT/_staging/<layer>/<table>/` when the engine
writes them at all.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

# The reference tables' schemas, as `core/src/catalog.rs` registers them.
REFERENCE_SCHEMAS = {
    "pays": pa.schema(
        [("code_iso", pa.string()), ("pays", pa.string()), ("nom_anglais", pa.string())]
    ),
    "produits": pa.schema(
        [
            ("produit", pa.string()),
            ("categorie", pa.string()),
            ("prix_reference", pa.float64()),
        ]
    ),
}


@dataclass
class Inputs:
    bronze: dict[str, list[Path]]
    reference: dict[str, Path]
    settings: dict[str, str]


def read_inputs(lake: Path) -> Inputs:
    manifest = json.loads((lake / "bronze" / "_manifest.json").read_text())
    bronze: dict[str, list[Path]] = {}
    for entry in manifest["files"]:
        bronze.setdefault(entry["entity"], []).append(lake / entry["bronze_key"])
    reference = {name: lake / "reference" / f"{name}.csv" for name in REFERENCE_SCHEMAS}
    current = lake / "silver" / "_current.json"
    if not current.is_file():
        raise SystemExit(
            f"{current} is missing: build the input lake with `lake run` first"
        )
    settings = dict(json.loads(current.read_text())["settings"])
    return Inputs(bronze, reference, settings)


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--input-lake",
        type=Path,
        required=True,
        help="a lake built by `lake run` (its Bronze, reference CSVs and Silver settings)",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="OUT/<layer>/<table>/ Parquet folders"
    )
    return parser


@contextmanager
def stage(layer: str) -> Iterator[list[int]]:
    """Times a layer and prints `<layer>: N tables in X s`, the line the harness reads."""
    started = time.perf_counter()
    tables: list[int] = []
    yield tables
    seconds = time.perf_counter() - started
    print(f"{layer}: {len(tables)} tables in {seconds:.3f} s", flush=True)
