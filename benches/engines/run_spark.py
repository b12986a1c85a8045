"""Silver + Gold on Apache Spark (PySpark), from the same `sql/` files as the lake through
`spark.sql` (see lake_models.py for the translation), with the contract's parsing rules as Arrow
UDFs (contract_rules.py, the twins of the lake's Rust UDFs).

Each model runs as the lake runs it: a view is a temporary view; a table or a staging table is
written as Parquet and read back under its name, so every later model scans it rather than
recomputing it. Published tables go to OUT/<layer>/<table>/, staging ones to OUT/_staging/.

Timestamps are TIMESTAMP_NTZ (wall-clock, like the lake's) and the session time zone is UTC.

Usage:
  python benches/engines/run_spark.py --input-lake LAKE --out OUT [--master local[*]]
      [--driver-memory 4g] [--executor-memory 2g]
--master spark://HOST:PORT runs on a standalone cluster (the harness starts one).
"""

from __future__ import annotations

import os
import sys

import engine_io
import lake_models


def spark_type(arrow_type: object) -> object:
    from pyspark.sql import types as T

    return {
        "timestamp[us]": T.TimestampNTZType(),
        "date32[day]": T.DateType(),
        "decimal128(12, 2)": T.DecimalType(12, 2),
        "int64": T.LongType(),
        "string": T.StringType(),
        "bool": T.BooleanType(),
    }[str(arrow_type)]


def session(master: str, driver_memory: str, executor_memory: str) -> object:
    # The workers run this interpreter, which has pyarrow and the rules on its path.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH")) if p
    )
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("lake-bench")
        .master(master)
        .config("spark.driver.memory", driver_memory)
        .config("spark.executor.memory", executor_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.executorEnv.PYTHONPATH", os.environ["PYTHONPATH"])
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def register_rules(spark: object) -> None:
    import contract_rules
    from pyspark.sql.functions import arrow_udf

    for name, (rule, result) in contract_rules.RULES.items():
        spark.udf.register(name, arrow_udf(rule, spark_type(result)))  # type: ignore[attr-defined]


def register_inputs(spark: object, inputs: engine_io.Inputs) -> None:
    from pyspark.sql import types as T

    for entity, files in inputs.bronze.items():
        frame = spark.read.parquet(*[str(f) for f in files])  # type: ignore[attr-defined]
        frame.createOrReplaceTempView(f"bronze__{entity}")
    for name, path in inputs.reference.items():
        schema = T.StructType(
            [
                T.StructField(
                    f.name,
                    T.DoubleType() if f.type == "double" else T.StringType(),
                    False,
                )
                for f in engine_io.REFERENCE_SCHEMAS[name]
            ]
        )
        frame = spark.read.csv(str(path), header=True, schema=schema)  # type: ignore[attr-defined]
        frame.createOrReplaceTempView(f"reference__{name}")


def main() -> None:
    parser = engine_io.arguments(__doc__ or "")
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--executor-memory", default="2g")
    args = parser.parse_args()
    inputs = engine_io.read_inputs(args.input_lake)
    spark = session(args.master, args.driver_memory, args.executor_memory)
    register_rules(spark)
    register_inputs(spark, inputs)
    values = lake_models.literals(inputs.settings)
    out = args.out.resolve()
    for layer in lake_models.LAYERS:
        with engine_io.stage(layer) as written:
            for model in lake_models.load(layer):
                sql = lake_models.translate(lake_models.render(model, values), "spark")
                name = lake_models.view_name(model.name, "spark")
                try:
                    frame = spark.sql(sql)  # type: ignore[attr-defined]
                    if model.materialized == "view":
                        frame.createOrReplaceTempView(name)
                        continue
                    if model.materialized == "table":
                        folder = out / layer / model.table
                    else:
                        folder = out / "_staging" / layer / model.table
                    frame.write.mode("overwrite").parquet(str(folder))
                    spark.read.parquet(str(folder)).createOrReplaceTempView(name)  # type: ignore[attr-defined]
                    if model.materialized == "table":
                        written.append(1)
                except (
                    Exception
                ) as error:  # Spark raises Py4J and analysis errors alike
                    # The first lines name the cause; the JVM stack trace follows them.
                    cause = "\n".join(str(error).strip().splitlines()[:6])
                    raise SystemExit(f"{model.file}: {cause}") from error
    spark.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
