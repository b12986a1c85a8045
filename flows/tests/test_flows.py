"""The Prefect flows end to end: the same Gold as `lake run`, a task retried after a failure that
deserves it, a failed quality gate not retried, and a new source file triggering an incremental
run. Expected values come from the golden fixtures and the lake's own pointers."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)

from conftest import GOLDEN, GOLDEN_AS_OF, GOLDEN_SETTINGS, lake_binary
from lake_flows.flows import (
    bronze_ingestion,
    pipeline,
    silver_transformation,
    watch_sources,
)
from lake_flows.lake_cli import QualityGateFailed


def lake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(lake_binary()), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )


def pointer(workdir: Path, lake_root: str, layer: str) -> dict[str, Any]:
    folder = {"silver": "silver", "gold": "gold", "ml": "gold/ml"}[layer]
    return json.loads((workdir / lake_root / folder / "_current.json").read_text())


def task_runs_of(flow_run_id: UUID) -> dict[str, int]:
    """Each task of a flow run and how many times it ran."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {run.name.rsplit("-", 1)[0]: run.run_count for run in runs}


def test_the_pipeline_publishes_the_same_layers_as_lake_run(workdir: Path) -> None:
    shutil.copy(GOLDEN / "achats_2025-07.csv", workdir / "sources")
    result = pipeline(lake="lake-flows", settings=GOLDEN_SETTINGS)
    assert result["nothing_to_do"] is False
    stages = result["stages"]
    assert [
        f["file"] for f in stages["bronze_ingestion"]["report"]["ingest"]["ingested"]
    ] == [
        "achats.csv",
        "achats_2025-07.csv",
        "clients.csv",
    ]
    for stage, layer in [
        ("silver_transformation", "silver"),
        ("gold_aggregation", "gold"),
        ("ml_scoring", "ml"),
    ]:
        assert (
            stages[stage]["report"][layer]["run_id"]
            == pointer(workdir, "lake-flows", layer)["run_id"]
        )

    # The same pipeline through `lake run`, then every table compared.
    ran = lake(
        workdir, "--lake", "lake-cli", "run", "--sources", "sources", *GOLDEN_SETTINGS
    )
    assert ran.returncode == 0, ran.stderr
    compared = lake(
        workdir,
        "--lake",
        "lake-flows",
        "compare",
        "lake-cli",
        "--layer",
        "silver",
        "--layer",
        "gold",
        "--layer",
        "ml",
        "--skip",
        "model_report",
    )
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "the same rows in lake-cli" in compared.stdout

    # The quality report and the runs are Prefect artifacts.
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(like_="silver-lake-flows%")
            )
        )
    kinds = {artifact.key: artifact.type for artifact in artifacts}
    assert kinds.get("silver-lake-flows-quality") == "table", kinds
    assert kinds.get("silver-lake-flows-run") == "markdown", kinds

    # Nothing new: the pipeline stops after ingestion.
    again = pipeline(lake="lake-flows", settings=GOLDEN_SETTINGS)
    assert again["nothing_to_do"] is True
    assert list(again["stages"]) == ["bronze_ingestion"]


def test_a_task_that_fails_once_is_retried_and_the_flow_succeeds(workdir: Path) -> None:
    # Another writer holds the lake's lease for two more seconds: the first attempt exits 75,
    # the retry (3 s later) takes the expired lease over.
    (workdir / "lake").mkdir()
    now = datetime.now(UTC)
    stamp = "%Y-%m-%dT%H:%M:%S.%f"
    lease = {
        "id": "another-writer",
        "command": "lake run",
        "host": "elsewhere",
        "pid": 4242,
        "started_at": now.strftime(stamp)[:-3] + "Z",
        "renewed_at": now.strftime(stamp)[:-3] + "Z",
        "expires_at": (now + timedelta(seconds=2)).strftime(stamp)[:-3] + "Z",
    }
    (workdir / "lake" / "_lease.json").write_text(json.dumps(lease))
    result = bronze_ingestion()
    assert result["attempts"] == 2
    assert len(result["report"]["ingest"]["ingested"]) == 2


def test_a_failed_quality_gate_fails_the_flow_at_once_without_retry(
    workdir: Path,
) -> None:
    bronze_ingestion()
    # The default blocking threshold (5 %) against 10 quarantined purchases of 24.
    state = silver_transformation(settings=["--as-of", GOLDEN_AS_OF], return_state=True)
    assert state.is_failed()
    try:
        state.result()
    except QualityGateFailed as failure:
        assert failure.exit_code == 3
        assert "blocking quality checks failed" in str(failure)
    else:
        raise AssertionError("the flow did not fail with QualityGateFailed")
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    assert task_runs_of(flow_run_id) == {"build_silver": 1}
    assert not (workdir / "lake" / "silver" / "_current.json").exists()


def test_a_new_file_in_the_sources_folder_triggers_an_incremental_run(
    workdir: Path,
) -> None:
    first = watch_sources(settings=GOLDEN_SETTINGS)
    assert first["triggered"] is True
    ingested = first["pipeline"]["stages"]["bronze_ingestion"]["report"]["ingest"][
        "ingested"
    ]
    assert sorted(f["file"] for f in ingested) == ["achats.csv", "clients.csv"]
    silver_before = pointer(workdir, "lake", "silver")["run_id"]

    assert watch_sources(settings=GOLDEN_SETTINGS) == {"triggered": False}

    shutil.copy(GOLDEN / "achats_2025-07.csv", workdir / "sources")
    second = watch_sources(settings=GOLDEN_SETTINGS)
    assert second["triggered"] is True
    ingest = second["pipeline"]["stages"]["bronze_ingestion"]["report"]["ingest"]
    assert [f["file"] for f in ingest["ingested"]] == ["achats_2025-07.csv"]
    assert sorted(ingest["unchanged"]) == ["achats.csv", "clients.csv"]
    silver_after = pointer(workdir, "lake", "silver")
    assert silver_after["run_id"] != silver_before
    assert "achats_2025-07.csv" in json.dumps(silver_after["inputs"])
