"""Flight SQL fetch throughput: `SELECT * FROM gold.fact_achats` through the ADBC driver into a
pyarrow table, one warm-up then RUNS timed runs; prints each run and the median.

Usage: python benches/serving/flight_sql_fetch.py [URI] [RUNS]
       (defaults: grpc://127.0.0.1:50060 and 3; start `lake-api --lake ./lake` first)
"""

from __future__ import annotations

import statistics
import sys
import time

import adbc_driver_flightsql.dbapi as flight_sql


def main(uri: str, runs: int) -> None:
    seconds: list[float] = []
    size_mb = 0.0
    rows = 0
    with flight_sql.connect(uri) as conn:
        for _ in range(runs + 1):
            with conn.cursor() as cur:
                started = time.perf_counter()
                cur.execute("SELECT * FROM gold.fact_achats")
                table = cur.fetch_arrow_table()
                seconds.append(time.perf_counter() - started)
                size_mb = table.nbytes / 1e6
                rows = table.num_rows
    timed = seconds[1:]
    median = statistics.median(timed)
    print(f"gold.fact_achats: {rows} rows, {size_mb:.1f} MB as Arrow")
    print("runs (s): " + ", ".join(f"{s:.3f}" for s in timed))
    print(f"median {median:.3f} s = {size_mb / median:.0f} MB/s")


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "grpc://127.0.0.1:50060",
        int(sys.argv[2]) if len(sys.argv) > 2 else 3,
    )
