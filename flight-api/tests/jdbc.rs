//! The Flight SQL gateway driven by Java's Arrow Flight SQL JDBC driver (fetched from Maven
//! Central by scripts/ensure-test-servers.sh), as a JDBC tool connects: metadata listings, a
//! query, and prepared statements with `?` parameters, over the golden fixtures. Every expected
//! figure is worked out by hand from the fixture rows (see core/tests/golden.rs):
//!
//! - 12 purchases survive Silver, 810.00 in total;
//! - client 1 bought purchases 1, 2, 3 (100 + 50 + 150 = 300.00), client 4 bought 8 and 9
//!   (60 + 40 = 100.00);
//! - "Livre" purchases are 1 (100), 2 (50), 5 (30, its newer version), 9 (40) and 11 (25): from
//!   30.00 up, 1, 2, 5 and 9.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Api, golden_lake};

const JDBC_DRIVER: &str = "jdbc/flight-sql-jdbc-driver-18.3.0.jar";

/// Runs tests/jdbc/JdbcClient.java against `flight` (`grpc://HOST:PORT`) and returns its
/// output.
fn jdbc_client(flight: &str, token: Option<&str>) -> std::process::Output {
    let driver = common::installed_tool(
        "LAKE_TOOLS_DIR",
        "lake-tools",
        JDBC_DRIVER,
        "scripts/ensure-test-servers.sh",
    );
    let client = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/jdbc/JdbcClient.java");
    let address = flight.trim_start_matches("grpc://");
    Command::new("java")
        // The driver's Arrow memory reads java.nio buffers' internals.
        .arg("--add-opens=java.base/java.nio=ALL-UNNAMED")
        .arg("-cp")
        .arg(driver)
        .arg(client)
        .arg(address)
        .args(token)
        .output()
        .expect("java runs")
}

/// The `key: value` lines the client printed, in order.
fn answers(output: &std::process::Output) -> Vec<(String, String)> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the JDBC client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn answer<'a>(answers: &'a [(String, String)], key: &str) -> &'a str {
    answers
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no answer for {key:?} in {answers:?}"))
}

async fn served_golden_lake(dir: &Path, extra: &[&str]) -> Api {
    let lake = golden_lake(dir).await;
    Api::start(&lake, extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jdbc_tool_lists_the_lake_queries_it_and_binds_question_marks() {
    let dir = tempfile::tempdir().expect("tmp");
    // The token from a file, as a secret is mounted.
    let token_file = dir.path().join("flight-token");
    std::fs::write(&token_file, "jeton\n").expect("token file");
    let token_file = token_file.to_string_lossy().into_owned();
    let api = served_golden_lake(dir.path(), &["--flight-token-file", &token_file]).await;

    let answers = answers(&jdbc_client(&api.flight, Some("jeton")));
    assert_eq!(answer(&answers, "catalogs"), "datafusion");
    assert_eq!(answer(&answers, "schemas"), "gold, silver");
    assert_eq!(answer(&answers, "table types"), "TABLE");
    // The pattern is applied: Gold's fact tables only, each listed as a table.
    let facts = answer(&answers, "gold tables like fact%");
    assert!(facts.contains("gold.fact_achats TABLE"), "{facts}");
    assert!(facts.contains("gold.fact_ca_mois TABLE"), "{facts}");
    assert!(
        facts
            .split(", ")
            .all(|t| t.starts_with("gold.fact_") && t.ends_with(" TABLE")),
        "{facts}"
    );
    let columns = answer(&answers, "columns of gold.fact_achats");
    for column in ["id_achat", "id_client", "montant", "produit", "pays"] {
        assert!(
            columns.split(", ").any(|c| c == column),
            "{column} missing from {columns}"
        );
    }
    // The lake declares no keys: empty listings, not errors.
    assert_eq!(answer(&answers, "primary keys of gold.fact_achats"), "0");
    assert_eq!(answer(&answers, "imported keys of gold.fact_achats"), "0");

    assert_eq!(answer(&answers, "all purchases"), "12 810.00");
    assert_eq!(answer(&answers, "purchases of client 1"), "3 300.00");
    assert_eq!(answer(&answers, "purchases of client 4"), "2 100.00");
    assert_eq!(answer(&answers, "Livre from 30.00"), "1, 2, 5, 9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jdbc_tool_without_the_token_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let api = served_golden_lake(dir.path(), &["--flight-token", "jeton"]).await;

    let output = jdbc_client(&api.flight, Some("pas-le-jeton"));
    assert!(!output.status.success(), "a wrong token was accepted");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SQLException") && stderr.to_lowercase().contains("unauthenticated"),
        "{stderr}"
    );
}
