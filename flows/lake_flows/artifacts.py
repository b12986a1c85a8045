"""What a flow run shows in Prefect's UI: the quality report as a table, and a markdown summary of
each published run (its id, inputs, rows and seconds per table), from the JSON reports of `lake`."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

# The columns of Silver's quality report shown in the table artifact (silver.quality).
QUALITY_COLUMNS = (
    "table",
    "dimension",
    "controle",
    "observe",
    "nb_echecs",
    "pct_echecs",
    "seuil",
    "bloquant",
    "ok",
)


def artifact_key(text: str) -> str:
    """Prefect's artifact keys: lower case letters, digits and dashes."""
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def layer_markdown(layer: str, section: dict[str, Any]) -> str:
    """A layer's section of a report as markdown: its run and a line per table."""
    status = section.get("status", "?")
    lines = [f"# {layer}: {status}", ""]
    if "run_id" in section:
        lines += [
            (
                f"- run `{section['run_id']}` (as_of {section.get('as_of', '?')}, "
                f"engine {section.get('engine', '?')})"
            ),
            f"- inputs: {', '.join(i['name'] + ' ' + i['version'][:12] for i in section.get('inputs', []))}",
            f"- {section.get('seconds', 0)} s, spilled {section.get('spilled_bytes', 0)} bytes",
            "",
            "| table | rows | seconds |",
            "|---|---:|---:|",
        ]
        for name, table in sorted(section.get("tables", {}).items()):
            lines.append(
                f"| {name} | {table.get('rows', '')} | {table.get('seconds', '')} |"
            )
    for check in section.get("failed_checks", []):
        lines.append(f"- failed: {check}")
    return "\n".join(lines) + "\n"


def publish_layer_artifacts(layer: str, report: dict[str, Any], lake: str) -> None:
    """The markdown summary of `layer`'s section of `report`, and Silver's quality table."""
    section = report.get(layer)
    if not isinstance(section, dict):
        return
    key = artifact_key(f"{layer}-{lake}")
    create_markdown_artifact(
        key=f"{key}-run",
        markdown=layer_markdown(layer, section),
        description=f"The {layer} run of {lake}",
    )
    checks = section.get("quality")
    if isinstance(checks, list) and checks:
        create_table_artifact(
            key=f"{key}-quality",
            table=[
                {column: check.get(column) for column in QUALITY_COLUMNS}
                for check in checks
            ],
            description=f"Silver's quality report of {lake}",
        )
