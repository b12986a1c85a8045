"""Drives the lake's Flight SQL gateway with the ADBC driver, as a notebook or BI tool would,
and prints what it saw as one JSON object for the Rust test (tests/flight_sql.rs) to check.

Usage: adbc_client.py URI [TOKEN]
"""

from __future__ import annotations

import json
import sys
from typing import Any

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flight_sql
import pyarrow.compute as pc

# Clients whose purchases the parameterised statement counts (the Rust test counts them too).
CLIENTS = (7, 8, 9)


def listed_tables(conn: Any) -> list[str]:
    """`schema.table` of every table the gateway lists (ADBC GetObjects)."""
    objects = conn.adbc_get_objects(depth="tables").read_all().to_pylist()
    return sorted(
        f"{schema['db_schema_name']}.{table['table_name']}"
        for catalog in objects
        for schema in catalog["catalog_db_schemas"] or []
        for table in schema["db_schema_tables"] or []
    )


def main(uri: str, token: str | None) -> None:
    options: dict[str, str] = {}
    if token is not None:
        options[adbc_driver_flightsql.DatabaseOptions.AUTHORIZATION_HEADER.value] = (
            f"Bearer {token}"
        )
    with flight_sql.connect(uri, db_kwargs=options) as conn:
        tables = listed_tables(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM gold.fact_achats")
            facts = cur.fetch_arrow_table()
        with conn.cursor() as cur:
            query = "SELECT COUNT(*) AS n FROM silver.achats"
            cur.adbc_prepare(query)
            cur.execute(query)
            row = cur.fetchone()
            prepared_count = None if row is None else int(row[0])
        # One prepared statement, bound again for each client ($1 is the client's id).
        by_client: dict[str, int] = {}
        with conn.cursor() as cur:
            query = "SELECT COUNT(*) AS n FROM gold.fact_achats WHERE id_client = $1"
            for client in CLIENTS:
                cur.execute(query, (client,))
                row = cur.fetchone()
                by_client[str(client)] = -1 if row is None else int(row[0])
        bad_parameter = ""
        with conn.cursor() as cur:
            try:
                cur.execute(query, ("sept",))
                cur.fetchall()
            except Exception as error:  # noqa: BLE001 - the message is what the test checks
                bad_parameter = str(error)
    print(
        json.dumps(
            {
                "tables": tables,
                "rows": facts.num_rows,
                "columns": facts.column_names,
                "id_achat_sum": pc.sum(facts["id_achat"]).as_py(),
                "montant_sum": str(pc.sum(facts["montant"]).as_py()),
                "silver_achats_prepared": prepared_count,
                "purchases_by_client": by_client,
                "bad_parameter_error": bad_parameter,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
