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
        // Every process of the engine has its peak memory: for the cluster, each one by name.
        let peaks = runs[0]["peaks_mib"].as_object().expect("peaks_mib");
        if engine == "ballista-cluster" {
            let mut processes: Vec<&String> = peaks.keys().collect();
            processes.sort();
            assert_eq!(
                processes,
                ["executor-1", "executor-2", "lake", "scheduler"],
                "{engine}"
            );
        }
        assert!(
            peaks
                .values()
                .all(|mib| mib.as_f64().is_some_and(|m| m > 0.0)),
            "{engine}: {peaks:?}"
        );
        assert!(runs[0]["spilled_mib"].as_f64().is_some(), "{engine}");
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

/// An engine allowed to fail (`--may-fail`) has its failure recorded with the reason, and the
/// harness goes on: pandas capped at 64 MiB of address space cannot even load numpy's BLAS
/// ("OpenBLAS error: Memory allocation still failed").
#[test]
fn an_engine_allowed_to_fail_is_recorded_as_failed() {
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
            "capped",
            "--engine",
            "pandas",
            "--may-fail",
            "pandas",
            "--memory-cap-of",
            "pandas=64m",
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
    let json = std::fs::read_dir(&out)
        .expect("results folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("the JSON results");
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("read")).expect("json");
    let pandas = &raw["engines"]["pandas"];
    assert_eq!(pandas["runs"].as_array().map(Vec::len), Some(0), "{pandas}");
    let failures = pandas["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1, "{pandas}");
    let reason = failures[0]["failure"].as_str().expect("a reason");
    assert!(reason.to_lowercase().contains("memory"), "{reason}");
    // The reference engine still ran, and the report says pandas failed.
    assert_eq!(
        raw["engines"]["ballista-standalone"]["runs"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert!(stdout.contains("| pandas | failed after"), "{stdout}");
}
