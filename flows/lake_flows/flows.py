"""The brief's Prefect flows on our engine: each task runs one `lake` command (standalone, or on a
cluster when LAKE_SCHEDULER is set) and each flow one stage of the pipeline.

- `bronze_ingestion`: new or changed CSV files of the sources folder → Bronze (`lake ingest`);
- `silver_transformation`: Bronze → Silver with its quality gate (`lake silver`);
- `gold_aggregation`: Silver → Gold KPIs (`lake gold`);
- `ml_scoring`: segments and churn scores on Gold (`lake ml`);
- `mongo_load`: Gold and ML into MongoDB for the API (`lake mongo load`);
- `pipeline`: the five in order, stopping after ingestion when no file was new and every layer is
  already published;
- `watch_sources`: runs `pipeline` when the sources folder changed since its last run.

Retries: a task is retried (`LAKE_FLOW_RETRIES`, 2, every `LAKE_FLOW_RETRY_DELAY` seconds, 30) on
failures a retry may get past (the store, the engine, another writer holding the lake's lease),
never on a usage error or a failed quality gate, which fail the flow at once with the CLI's
message. Each command is interrupted past `LAKE_FLOW_TASK_TIMEOUT` seconds (3600).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.events import emit_event
from prefect.runtime import task_run

from lake_flows.artifacts import publish_layer_artifacts
from lake_flows.lake_cli import FINAL_FAILURES, LakeConfig, run_lake


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


RETRIES = int(os.environ.get("LAKE_FLOW_RETRIES", "2"))
RETRY_DELAY_SECONDS = _seconds("LAKE_FLOW_RETRY_DELAY", 30)
TASK_TIMEOUT_SECONDS = _seconds("LAKE_FLOW_TASK_TIMEOUT", 3600)


def retry_unless_final(_task: Any, _task_run: Any, state: Any) -> bool:
    """Prefect's retry condition: every failure but a usage error or a failed quality gate."""
    return not isinstance(state.data, FINAL_FAILURES)


def config_of(lake: str | None, sources: str | None) -> LakeConfig:
    """The flow's `lake`: LAKE_BIN, LAKE_SCHEDULER, LAKE_WORKDIR from the environment, the lake
    and sources folder from the flow's parameters (else LAKE_ROOT, LAKE_SOURCES)."""
    workdir = os.environ.get("LAKE_WORKDIR")
    base = LakeConfig.from_env(Path(workdir) if workdir else None)
    return LakeConfig(
        lake_bin=base.lake_bin,
        lake=lake or base.lake,
        sources=sources or base.sources,
        workdir=base.workdir,
        scheduler=base.scheduler,
    )


def _run(config: LakeConfig, args: list[str]) -> dict[str, Any]:
    """Runs one command for the current task: its report, whether there was nothing to do, and
    the attempt it took."""
    result = run_lake(config, args, get_run_logger(), timeout=TASK_TIMEOUT_SECONDS)
    return {
        "report": result.report,
        "nothing_to_do": result.nothing_to_do,
        "attempts": task_run.run_count,
    }


LAKE_TASK = {
    "retries": RETRIES,
    "retry_delay_seconds": RETRY_DELAY_SECONDS,
    "retry_condition_fn": retry_unless_final,
}


@task(name="ingest_to_bronze", **LAKE_TASK)
def ingest_to_bronze(config: LakeConfig) -> dict[str, Any]:
    """`lake ingest`: the brief's upload_to_sources and copy_to_bronze_layer in one command (a raw
    copy under the lake's sources/, then Parquet in bronze/)."""
    return _run(config, ["ingest", "--sources", config.sources])


@task(name="build_silver", **LAKE_TASK)
def build_silver(config: LakeConfig, settings: list[str]) -> dict[str, Any]:
    outcome = _run(config, ["silver", "--sources", config.sources, *settings])
    publish_layer_artifacts("silver", outcome["report"], config.lake)
    return outcome


@task(name="build_gold", **LAKE_TASK)
def build_gold(config: LakeConfig) -> dict[str, Any]:
    outcome = _run(config, ["gold"])
    publish_layer_artifacts("gold", outcome["report"], config.lake)
    return outcome


@task(name="score_ml", **LAKE_TASK)
def score_ml(config: LakeConfig) -> dict[str, Any]:
    outcome = _run(config, ["ml"])
    publish_layer_artifacts("ml", outcome["report"], config.lake)
    return outcome


@task(name="load_mongo", **LAKE_TASK)
def load_mongo(config: LakeConfig, mongo_url: str) -> dict[str, Any]:
    return _run(config, ["mongo", "load", "--mongo-url", mongo_url])


@task(name="read_status")
def read_status(config: LakeConfig) -> dict[str, Any]:
    return run_lake(config, ["status"], get_run_logger()).report


@flow(name="bronze_ingestion")
def bronze_ingestion(
    lake: str | None = None, sources: str | None = None
) -> dict[str, Any]:
    return ingest_to_bronze(config_of(lake, sources))


@flow(name="silver_transformation")
def silver_transformation(
    lake: str | None = None,
    sources: str | None = None,
    settings: list[str] | None = None,
) -> dict[str, Any]:
    """`settings`: `lake silver` options, e.g. ["--as-of", "2025-07-01", "--seuil-quarantaine",
    "0.5"]."""
    return build_silver(config_of(lake, sources), settings or [])


@flow(name="gold_aggregation")
def gold_aggregation(lake: str | None = None) -> dict[str, Any]:
    return build_gold(config_of(lake, None))


@flow(name="ml_scoring")
def ml_scoring(lake: str | None = None) -> dict[str, Any]:
    return score_ml(config_of(lake, None))


@flow(name="mongo_load")
def mongo_load(mongo_url: str, lake: str | None = None) -> dict[str, Any]:
    return load_mongo(config_of(lake, None), mongo_url)


@flow(name="pipeline")
def pipeline(
    lake: str | None = None,
    sources: str | None = None,
    settings: list[str] | None = None,
    mongo_url: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Ingestion, Silver, Gold, ML and (with `mongo_url`) MongoDB. When no file was new and every
    layer is published, it stops after ingestion (`force` builds every layer again)."""
    logger = get_run_logger()
    config = config_of(lake, sources)
    stages: dict[str, Any] = {"bronze_ingestion": ingest_to_bronze(config)}
    if stages["bronze_ingestion"]["nothing_to_do"] and not force:
        status = read_status(config)
        if all(
            status.get(layer, {}).get("status") == "published"
            for layer in ("silver", "gold", "ml")
        ):
            logger.info(
                "no new source file and every layer is published: nothing to do"
            )
            return {"stages": stages, "nothing_to_do": True}
    stages["silver_transformation"] = build_silver(config, settings or [])
    stages["gold_aggregation"] = build_gold(config)
    stages["ml_scoring"] = score_ml(config)
    if mongo_url:
        stages["mongo_load"] = load_mongo(config, mongo_url)
    return {"stages": stages, "nothing_to_do": False}


def sources_fingerprint(sources: Path) -> list[list[Any]]:
    """The CSV files of the sources folder: name, size and modification time."""
    if not sources.is_dir():
        return []
    return sorted(
        [path.name, path.stat().st_size, path.stat().st_mtime_ns]
        for path in sources.iterdir()
        if path.is_file() and path.suffix.lower() == ".csv"
    )


@flow(name="watch_sources")
def watch_sources(
    lake: str | None = None,
    sources: str | None = None,
    settings: list[str] | None = None,
    mongo_url: str | None = None,
    state_file: str = ".lake-flows/watch_sources.json",
) -> dict[str, Any]:
    """Runs `pipeline` when the CSV files of the sources folder changed since the last run that
    succeeded (their names, sizes and times are kept in `state_file`, relative to the working
    directory); emits the Prefect event `lake.sources.changed` for automations. Deployed on a
    short interval, it is the trigger on new files."""
    logger = get_run_logger()
    config = config_of(lake, sources)
    folder = config.workdir / config.sources
    state = config.workdir / state_file
    seen = sources_fingerprint(folder)
    previous = json.loads(state.read_text()) if state.is_file() else None
    if seen == previous:
        logger.info("no change in %s", folder)
        return {"triggered": False}
    emit_event(
        event="lake.sources.changed",
        resource={"prefect.resource.id": f"lake.sources.{folder}"},
        payload={"files": [name for name, _, _ in seen]},
    )
    logger.info("%s changed: running the pipeline", folder)
    result = pipeline(
        lake=lake, sources=sources, settings=settings, mongo_url=mongo_url
    )
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(seen))
    return {"triggered": True, "pipeline": result}
