//! The Flight SQL gateway driven by a real client: Python's ADBC Flight SQL driver (installed
//! by scripts/ensure-python.sh) lists the tables, fetches gold.fact_achats with pyarrow, and runs
//! a prepared statement; the row count and checksums must equal the lake's own.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Api, generated_lake};
use lake_core::{EngineKind, LakeOptions, LakeSession};
use serde_json::Value;

fn python() -> PathBuf {
    common::venv_python()
}

fn adbc_client(uri: &str, token: Option<&str>) -> std::process::Output {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/adbc_client.py");
    Command::new(python())
        .arg(script)
        .arg(uri)
        .args(token)
        .output()
        .expect("python runs")
}

/// Row count and checksums of a table, computed by DataFusion straight from the lake.
async fn lake_figures(lake: &std::path::Path) -> (i64, i64, String, i64) {
    let mut options = LakeOptions::local(lake.to_string_lossy().into_owned());
    options.engine = EngineKind::DataFusion;
    let session = LakeSession::open(&options).await.expect("session");
    let batches = session
        .query(
            "SELECT COUNT(*) AS n, SUM(id_achat) AS ids, CAST(SUM(montant) AS VARCHAR) AS total, \
             (SELECT COUNT(*) FROM silver.achats) AS silver_n FROM gold.fact_achats",
        )
        .await
        .expect("figures");
    let text = |i: usize| {
        datafusion::arrow::util::display::array_value_to_string(batches[0].column(i), 0)
            .expect("value")
    };
    (
        text(0).parse().expect("count"),
        text(1).parse().expect("sum"),
        text(2),
        text(3).parse().expect("count"),
    )
}

/// Purchases of each client in `gold.fact_achats`, counted by DataFusion from the lake.
async fn purchases_of_clients(lake: &std::path::Path, clients: &[i64]) -> Vec<i64> {
    let mut options = LakeOptions::local(lake.to_string_lossy().into_owned());
    options.engine = EngineKind::DataFusion;
    let session = LakeSession::open(&options).await.expect("session");
    let mut counts = Vec::new();
    for client in clients {
        let batches = session
            .query(&format!(
                "SELECT COUNT(*) AS n FROM gold.fact_achats WHERE id_client = {client}"
            ))
            .await
            .expect("count");
        let text = datafusion::arrow::util::display::array_value_to_string(batches[0].column(0), 0)
            .expect("value");
        counts.push(text.parse().expect("count"));
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_lists_tables_and_fetches_the_facts_like_the_lake() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = generated_lake(dir.path(), 0.01).await;
    let api = Api::start(&lake, &["--flight-token", "jeton"]);

    let out = adbc_client(&api.flight, Some("jeton"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ADBC client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).expect("client json");

    let tables: Vec<&str> = seen["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in [
        "gold.fact_achats",
        "gold.kpi_globaux",
        "gold.scores_churn",
        "silver.achats",
    ] {
        assert!(
            tables.contains(&expected),
            "{expected} not listed: {tables:?}"
        );
    }

    let (rows, id_sum, montant_sum, silver_rows) = lake_figures(&lake).await;
    assert!(rows > 9_000, "{rows} purchases at SF 0.01");
    assert_eq!(seen["rows"].as_i64(), Some(rows));
    assert_eq!(seen["id_achat_sum"].as_i64(), Some(id_sum));
    assert_eq!(seen["montant_sum"].as_str(), Some(montant_sum.as_str()));
    assert_eq!(seen["silver_achats_prepared"].as_i64(), Some(silver_rows));
    assert!(
        seen["columns"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "date_achat")),
        "{seen}"
    );
    // The prepared statement bound to 7, 8 and 9 counts what the lake counts for each.
    let counts = purchases_of_clients(&lake, &[7, 8, 9]).await;
    assert!(counts.iter().any(|&n| n > 0), "clients 7-9 bought nothing");
    for (client, expected) in [7, 8, 9].into_iter().zip(counts) {
        assert_eq!(
            seen["purchases_by_client"][client.to_string()].as_i64(),
            Some(expected),
            "client {client}: {seen}"
        );
    }
    let bad = seen["bad_parameter_error"].as_str().unwrap_or_default();
    assert!(
        bad.contains("INVALID_ARGUMENT") && bad.contains("'sept'") && bad.contains("Int64"),
        "a text bound to id_client should be refused naming the value and the type: {bad:?}"
    );

    // Without the token, or with a wrong one, the gateway refuses.
    for token in [None, Some("faux")] {
        let out = adbc_client(&api.flight, token);
        assert!(!out.status.success(), "token {token:?} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.to_lowercase().contains("unauthenticated"),
            "{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = common::golden_lake(dir.path()).await;
    let api = Api::start(&lake, &[]);
    let script = "import sys, adbc_driver_flightsql.dbapi as f\n\
        conn = f.connect(sys.argv[1])\n\
        cur = conn.cursor()\n\
        cur.execute('DROP TABLE gold.kpi_globaux')\n";
    let out = Command::new(python())
        .args(["-c", script, &api.flight])
        .output()
        .expect("python runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not supported") || stderr.contains("DDL"),
        "{stderr}"
    );
    // The table is still there.
    let (status, body) = common::get(&api, "/kpis/globaux").await;
    assert_eq!((status, body["nb_achats"].as_i64()), (200, Some(12)));
}
