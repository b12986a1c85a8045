"""Silver + Gold on DuckDB, from the same `sql/` files as the lake (see lake_models.py for the
translation), the single-node engine a user would pick instead of a cluster.

Tables and staging tables are DuckDB tables in an in-memory database (DuckDB spills to a
temporary folder beyond its memory limit); published tables are then written with `COPY … TO`
Parquet. The contract's parsing rules run as vectorised Arrow functions (contract_rules.py).

Usage: python benches/engines/run_duckdb.py --input-lake LAKE --out OUT [--threads N]
"""

from __future__ import annotations

import os

import contract_rules
import duckdb
import engine_io
import lake_models

DUCKDB_TYPES = {
    "timestamp[us]": "TIMESTAMP",
    "date32[day]": "DATE",
    "decimal128(12, 2)": "DECIMAL(12, 2)",
    "int64": "BIGINT",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
}


def quoted(path: object) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect(inputs: engine_io.Inputs, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": threads})
    for schema in lake_models.SCHEMAS:
        con.execute(f"CREATE SCHEMA {schema}")
    for entity, files in inputs.bronze.items():
        listed = ", ".join(quoted(f) for f in files)
        con.execute(
            f"CREATE VIEW bronze.{entity} AS SELECT * FROM read_parquet([{listed}])"
        )
    for name, path in inputs.reference.items():
        schema = engine_io.REFERENCE_SCHEMAS[name]
        columns = ", ".join(
            f"'{f.name}': '{'DOUBLE' if f.type == 'double' else 'VARCHAR'}'"
            for f in schema
        )
        con.execute(
            f"CREATE TABLE reference.{name} AS SELECT * FROM "
            f"read_csv({quoted(path)}, header = true, columns = {{{columns}}})"
        )
    for name, (rule, result) in contract_rules.RULES.items():
        con.create_function(
            name,
            rule,
            ["VARCHAR"],
            DUCKDB_TYPES[str(result)],
            type="arrow",
            null_handling="special",
        )
    con.execute("CREATE MACRO jours_entre(fin, debut) AS date_diff('day', debut, fin)")
    return con


def main() -> None:
    parser = engine_io.arguments(__doc__ or "")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    inputs = engine_io.read_inputs(args.input_lake)
    con = connect(inputs, args.threads)
    values = lake_models.literals(inputs.settings)
    for layer in lake_models.LAYERS:
        with engine_io.stage(layer) as written:
            for model in lake_models.load(layer):
                sql = lake_models.translate(lake_models.render(model, values), "duckdb")
                kind = "VIEW" if model.materialized == "view" else "TABLE"
                try:
                    con.execute(f"CREATE {kind} {model.name} AS {sql}")
                    if model.materialized == "table":
                        folder = args.out / layer / model.table
                        folder.mkdir(parents=True, exist_ok=True)
                        con.execute(
                            f"COPY {model.name} TO {quoted(folder / 'data.parquet')} "
                            "(FORMAT parquet)"
                        )
                        written.append(1)
                except duckdb.Error as error:
                    raise SystemExit(f"{model.file}: {error}") from error


if __name__ == "__main__":
    main()
