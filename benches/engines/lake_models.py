"""The lake's SQL models (`sql/silver`, `sql/gold`) for the other engines, and the small
translation layer that lets Spark and DuckDB run the same files.

Models are read as the `lake` binary reads them (`core/src/models.rs`): one file per table, the
table named after the file, `-- materialized: view | staging | table` in the header (default
table), dependencies found from the `layer.table` names the SQL reads, `{{ name }}` placeholders
rendered from the run settings.

The translation is textual and deliberately small. Everything it changes is listed here:

Both engines
  - `{{ name }}` placeholders become SQL literals (`TIMESTAMP '…'` for `as_of`, numbers else).
Spark (`dialect="spark"`)
  - `layer.table` → `layer__table`: temporary views are not qualified by a database.
  - `"name"` → `` `name` ``: Spark quotes identifiers with back-ticks.
  - `unnest(generate_series(a, b[, step]))` → `explode(sequence(a, b[, step]))`.
  - `jours_entre(fin, debut)` → `datediff(fin, debut)` (whole days between two dates).
  - `VARCHAR` → `STRING`: Spark's VARCHAR needs a length.
  - `date_part('dow', d)` → `(date_part('dow', d) - 1)`: Spark counts Sunday as 1, the others
    (and PostgreSQL) as 0.
DuckDB (`dialect="duckdb"`)
  - `a / b` on two integers is a true division in DuckDB, integer division in DataFusion and
    Spark's `div`: the SQL spells integer division `FLOOR(a / b)`, which means the same in every
    engine, so nothing to translate.
  - `jours_entre` is a DuckDB macro (`date_diff('day', debut, fin)`), created by the runner.

The parsing UDFs (`parse_amount`, …) keep their names: each runner registers
`contract_rules.RULES` under them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "sql"
LAYERS = ("silver", "gold")
SCHEMAS = ("bronze", "silver", "gold", "reference")
TABLE_NAME = re.compile(r"\b(bronze|silver|gold|reference)\.([a-z_][a-z0-9_]*)\b")
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


@dataclass
class Model:
    layer: str
    table: str
    materialized: str  # table | staging | view
    file: Path
    sql: str
    depends_on: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}"


def _without_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def _materialization(file: Path, sql: str) -> str:
    for line in sql.splitlines():
        header = line.strip().removeprefix("--").strip()
        if header.startswith("materialized:"):
            kind = header.removeprefix("materialized:").strip()
            if kind not in ("table", "staging", "view"):
                raise ValueError(f"{file}: unknown materialization {kind!r}")
            return kind
    return "table"


def load(layer: str, sql_dir: Path = SQL_DIR) -> list[Model]:
    """The models of `layer` in dependency order (ties by name, as the Rust runner)."""
    models: dict[str, Model] = {}
    for file in sorted((sql_dir / layer).rglob("*.sql")):
        text = file.read_text()
        table = file.stem
        depends = {
            t
            for schema, t in TABLE_NAME.findall(_without_comments(text))
            if schema == layer
        } - {table}
        models[table] = Model(
            layer, table, _materialization(file, text), file, text, depends
        )
    ordered: list[Model] = []
    done: set[str] = set()
    while len(ordered) < len(models):
        ready = [
            m
            for name, m in sorted(models.items())
            if name not in done and m.depends_on <= done
        ]
        if not ready:
            stuck = sorted(set(models) - done)
            raise ValueError(
                f"{layer}: a dependency cycle or unknown table among {stuck}"
            )
        for model in ready[:1]:
            ordered.append(model)
            done.add(model.table)
    unknown = {d for m in models.values() for d in m.depends_on} - set(models)
    if unknown:
        raise ValueError(f"{layer}: models read unknown tables {sorted(unknown)}")
    return ordered


def settings_of(reference_lake: Path) -> dict[str, str]:
    """The settings the reference lake's Silver run recorded (as_of and the thresholds)."""
    current = json.loads((reference_lake / "silver" / "_current.json").read_text())
    return dict(current["settings"])


def literals(settings: dict[str, str]) -> dict[str, str]:
    """Placeholder values as SQL literals."""
    out = {}
    for name, value in settings.items():
        out[name] = f"TIMESTAMP '{value}'" if name == "as_of" else value
    return out


def render(model: Model, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(f"{model.file}: unknown placeholder {{{{ {name} }}}}")
        return values[name]

    return PLACEHOLDER.sub(value, _without_comments(model.sql))


def _closing_parenthesis(sql: str, opening: int) -> int:
    """Index of the parenthesis closing the one at `opening`."""
    depth = 0
    for i in range(opening, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced parentheses after: {sql[opening : opening + 60]!r}")


def _shift_calls(sql: str, call: re.Pattern[str], shift: str) -> str:
    """Every call matched by `call` (up to its opening parenthesis) becomes `(call + shift)`."""
    out, position = [], 0
    for match in call.finditer(sql):
        end = _closing_parenthesis(sql, match.end() - 1)
        out += [
            sql[position : match.start()],
            "(",
            sql[match.start() : end + 1],
            f" {shift})",
        ]
        position = end + 1
    return "".join(out) + sql[position:]


def _spark(sql: str) -> str:
    sql = TABLE_NAME.sub(r"\1__\2", sql)
    sql = re.sub(r'"([A-Za-z_][A-Za-z0-9_]*)"', r"`\1`", sql)
    sql = re.sub(
        r"\bunnest\s*\(\s*generate_series\s*\(",
        "explode(sequence(",
        sql,
        flags=re.IGNORECASE,
    )
    sql = re.sub(r"\bVARCHAR\b", "STRING", sql, flags=re.IGNORECASE)
    sql = _shift_calls(
        sql, re.compile(r"\bdate_part\s*\((?=\s*'dow')", re.IGNORECASE), "- 1"
    )
    return re.sub(r"\bjours_entre\s*\(", "datediff(", sql)


def translate(sql: str, dialect: str) -> str:
    """`sql` (rendered) in `dialect`: "spark" or "duckdb"."""
    if dialect == "spark":
        return _spark(sql)
    if dialect == "duckdb":
        return sql
    raise ValueError(f"unknown dialect {dialect!r}")


def view_name(qualified: str, dialect: str) -> str:
    """How `layer.table` is named in `dialect`."""
    return qualified.replace(".", "__") if dialect == "spark" else qualified
