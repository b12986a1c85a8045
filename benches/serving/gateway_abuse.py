"""The gateway under an abusive query: while one ADBC client runs QUERY through Flight SQL, a
second thread requests /kpis/globaux in a loop. Reports how the query ended and after how long,
the latency of /kpis/globaux meanwhile (p50, p99, max) and lake-api's peak RSS (VmHWM, read from
/proc, so run it on the machine that runs lake-api).

Usage: python benches/serving/gateway_abuse.py PID [HTTP] [FLIGHT] [QUERY]
       (defaults: http://127.0.0.1:8080, grpc://127.0.0.1:50060 and a cross join of
       gold.fact_achats with itself, filtered and counted; PID is lake-api's process id)
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import urllib.request

import adbc_driver_flightsql.dbapi as flight_sql

# A bare COUNT(*) of a cross join is answered from the Parquet statistics: filter the pairs.
CROSS_JOIN = (
    "SELECT COUNT(*) FROM gold.fact_achats a CROSS JOIN gold.fact_achats b "
    "WHERE a.montant < b.montant"
)


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def run_query(uri: str, query: str, outcome: dict[str, str | float]) -> None:
    started = time.perf_counter()
    try:
        with flight_sql.connect(uri) as conn, conn.cursor() as cur:
            cur.execute(query)
            outcome["result"] = f"{cur.fetch_arrow_table().num_rows} row(s)"
    except Exception as error:  # noqa: BLE001 - the refusal is what is measured
        outcome["result"] = str(error).splitlines()[0][:300]
    outcome["seconds"] = time.perf_counter() - started


def main(pid: int, http: str, flight: str, query: str) -> None:
    before = peak_rss_mib(pid)
    outcome: dict[str, str | float] = {}
    worker = threading.Thread(target=run_query, args=(flight, query, outcome))
    worker.start()
    latencies_ms: list[float] = []
    failures = 0
    while worker.is_alive():
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{http}/kpis/globaux", timeout=30) as response:
                response.read()
        except OSError:
            failures += 1
        latencies_ms.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    worker.join()
    latencies_ms.sort()
    p99 = latencies_ms[min(len(latencies_ms) - 1, int(len(latencies_ms) * 0.99))]
    print(f"query: {query}")
    print(f"ended after {outcome['seconds']:.1f} s: {outcome['result']}")
    print(
        f"/kpis/globaux meanwhile: {len(latencies_ms)} requests, {failures} failed, "
        f"p50 {statistics.median(latencies_ms):.1f} ms, p99 {p99:.1f} ms, "
        f"max {latencies_ms[-1]:.1f} ms"
    )
    print(
        f"lake-api peak RSS: {before:.0f} MiB before, {peak_rss_mib(pid):.0f} MiB after"
    )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(
        int(sys.argv[1]),
        sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8080",
        sys.argv[3] if len(sys.argv) > 3 else "grpc://127.0.0.1:50060",
        sys.argv[4] if len(sys.argv) > 4 else CROSS_JOIN,
    )
