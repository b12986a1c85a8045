//! The engines benchmark harness (`benches/engines/bench_engines.py`) at SF 0.01, one run of
//! every engine (our three, DuckDB, Spark local and on a standalone cluster of 1 master + 2
//! workers, pandas), parity on: a change that makes any engine build a different Silver or Gold
//! fails here. Timings are printed, never asserted.

mod common;

use common::engines_harness;

#[test]
fn every_engine_builds_the_same_silver_and_gold() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("results");
    let run = engines_harness()
        .args([
            "--scale",
            "0.01",
            "--runs",
            "1",
            "--no-warm-up",
            "--label",
            "test",
        ])
        .arg("--out")
        .arg(&out)
        .arg("--work")
        .arg(dir.path().join("work"))
        .output()
        .expect("the harness runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    println!("{stdout}");

    let written: Vec<String> = std::fs::read_dir(&out)
        .expect("results folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    let named = |suffix: &str| {
        written
            .iter()
            .find(|n| n.starts_with("engines-") && n.ends_with(suffix))
            .unwrap_or_else(|| panic!("no engines-<date>{suffix} in {written:?}"))
            .clone()
    };
    let raw = std::fs::read_to_string(out.join(named("-test.json"))).expect("the JSON results");
    let raw: serde_json::Value = serde_json::from_str(&raw).expect("json");
    let engines = raw["engines"].as_object().expect("engines");
    let mut names: Vec<&String> = engines.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ballista-cluster",
            "ballista-standalone",
            "datafusion",
            "duckdb",
            "pandas",
            "spark-cluster",
            "spark-local"
        ]
    );
    for (engine, result) in engines {
        let runs = result["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 1, "{engine}");
        for stage in ["silver", "gold"] {
            assert!(
                runs[0]["stages"][stage].as_f64().is_some(),
                "{engine} {stage}"
            );
        }
        if engine != "ballista-standalone" {
            assert_eq!(result["parity"], "same", "{engine}");
            let tables = result["tables"].as_object().expect("tables");
            // Every published Silver and Gold table, each the same as the reference's.
            assert_eq!(tables.len(), published_tables(), "{engine}: {tables:?}");
        }
    }
    named("-test.md");
    let chart = std::fs::read(out.join(named("-test.png"))).expect("the chart");
    assert!(chart.starts_with(b"\x89PNG"), "not a PNG");
}

/// How many tables the SQL project publishes in Silver and Gold (4 and 22 today).
fn published_tables() -> usize {
    let project = lake_core::models::SqlProject::embedded().expect("the embedded SQL project");
    project
        .models()
        .iter()
        .filter(|m| matches!(m.layer, lake_core::Layer::Silver | lake_core::Layer::Gold))
        .filter(|m| m.materialized == lake_core::models::Materialized::Table)
        .count()
}
