//! What an orchestrator sees of `lake`: one exit status per way a command ends (README, "Driving
//! lake from an orchestrator") and, with `--format json`, one JSON document on standard output
//! whatever happened. Expected counts come from the generator's manifest and the lake's own
//! pointers, never from the document under test.

mod common;

use std::path::Path;
use std::process::Output;

use common::{lake_with, ok, read_json};
use serde_json::Value;

/// Runs `lake` and returns its exit status and its JSON document (standard output, whole).
fn json_of(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = lake_with(dir, args, &[]);
    (status(&out), document(&out))
}

fn status(out: &Output) -> i32 {
    out.status.code().expect("an exit status, not a signal")
}

fn document(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "standard output is not one JSON document ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The rows the generator wrote into `file` of `sources`.
fn generated_rows(sources: &Path, file: &str) -> u64 {
    read_json(&sources.join("generation_manifest.json"))["files"][file]
        .as_u64()
        .unwrap_or_else(|| panic!("{file} in the generation manifest"))
}

#[test]
fn a_missing_or_empty_sources_folder_is_a_usage_error_and_nothing_is_generated() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("typo");
    let out = lake_with(
        dir.path(),
        &["run", "--sources", &missing.to_string_lossy()],
        &[],
    );
    assert_eq!(status(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("typo"), "{}", stderr(&out));
    assert!(!missing.exists(), "the folder was not created");
    assert!(!dir.path().join("lake").exists(), "no lake was written");

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("folder");
    let (code, doc) = json_of(
        dir.path(),
        &[
            "run",
            "--sources",
            &empty.to_string_lossy(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 2, "{doc}");
    assert_eq!(doc["outcome"], "usage_error", "{doc}");
    assert_eq!(doc["ok"], false, "{doc}");
    assert!(
        doc["error"]
            .as_str()
            .is_some_and(|e| e.contains("--generate")),
        "{doc}"
    );
    assert_eq!(
        std::fs::read_dir(&empty).expect("folder").count(),
        0,
        "nothing was generated"
    );
    // Usage errors of the command line itself (clap's) exit 2 as well.
    let out = lake_with(dir.path(), &["run", "--no-such-flag"], &[]);
    assert_eq!(status(&out), 2, "{}", stderr(&out));
    let out = lake_with(dir.path(), &["ml", "--k-min", "6", "--k-max", "3"], &[]);
    assert_eq!(status(&out), 2, "{}", stderr(&out));
}

#[test]
fn run_reports_what_it_published_then_that_there_was_nothing_to_do() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    let sources = work.join("incoming");
    std::fs::create_dir_all(&sources).expect("folder");
    let sources_arg = sources.to_string_lossy().into_owned();
    let run = [
        "run",
        "--sources",
        &sources_arg,
        "--generate",
        "--scale",
        "0.01",
        "--format",
        "json",
    ];
    let (code, doc) = json_of(work, &run);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        (&doc["command"], &doc["ok"], &doc["outcome"]),
        (
            &Value::from("run"),
            &Value::from(true),
            &Value::from("success")
        )
    );
    assert_eq!(doc["error"], Value::Null);
    assert_eq!(doc["generated"]["scale"], 0.01);

    // What was ingested: the generator's files, row for row.
    let ingested = doc["ingest"]["ingested"].as_array().expect("ingested");
    let rows_of = |entity: &str| -> u64 {
        ingested
            .iter()
            .filter(|f| f["entity"] == entity)
            .filter_map(|f| f["rows"].as_u64())
            .sum()
    };
    assert_eq!(rows_of("clients"), generated_rows(&sources, "clients.csv"));
    assert_eq!(rows_of("achats"), generated_rows(&sources, "achats.csv"));

    // Each layer's section names the run its pointer names, with every published table.
    for (section, pointer) in [
        ("silver", "lake/silver/_current.json"),
        ("gold", "lake/gold/_current.json"),
        ("ml", "lake/gold/ml/_current.json"),
    ] {
        let published = read_json(&work.join(pointer));
        let reported = &doc[section];
        assert_eq!(reported["status"], "published", "{section}: {reported}");
        assert_eq!(reported["run_id"], published["run_id"], "{section}");
        let tables = reported["tables"].as_object().expect("tables");
        let expected = published["tables"].as_object().expect("published tables");
        assert_eq!(
            tables.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{section}"
        );
        for (name, table) in expected {
            assert_eq!(tables[name]["rows"], table["rows"], "{section}.{name}");
        }
    }
    // Silver's quality checks, every blocking one passed; the headline KPIs.
    let checks = doc["silver"]["quality"].as_array().expect("quality checks");
    assert!(!checks.is_empty());
    assert!(
        checks
            .iter()
            .filter(|c| c["bloquant"] == true)
            .all(|c| c["ok"] == true),
        "{checks:?}"
    );
    assert_eq!(doc["kpis"].as_array().map(Vec::len), Some(1), "{doc}");

    // Again, with nothing new: nothing to do (0, or 4 with --detailed-exit-codes).
    let (code, doc) = json_of(work, &run);
    assert_eq!((code, &doc["outcome"]), (0, &Value::from("nothing_to_do")));
    assert_eq!(doc["silver"]["status"], "up_to_date", "{doc}");
    assert_eq!(doc["ingest"]["ingested"], Value::Array(Vec::new()));
    let detailed = [&run[..], &["--detailed-exit-codes"]].concat();
    let (code, doc) = json_of(work, &detailed);
    assert_eq!((code, &doc["exit_code"]), (4, &Value::from(4)), "{doc}");
    let out = lake_with(
        work,
        &["ingest", "--sources", &sources_arg, "--detailed-exit-codes"],
        &[],
    );
    assert_eq!(status(&out), 4, "{}", stderr(&out));

    // status and compare report as JSON too.
    let (code, doc) = json_of(work, &["status", "--format", "json"]);
    assert_eq!(code, 0, "{doc}");
    let silver = read_json(&work.join("lake/silver/_current.json"));
    assert_eq!(doc["silver"]["run_id"], silver["run_id"]);
    assert_eq!(
        doc["bronze"]["files"].as_array().map(Vec::len),
        Some(ingested.len())
    );
    let (code, doc) = json_of(
        work,
        &["compare", "lake", "--layer", "gold", "--format", "json"],
    );
    assert_eq!(code, 0, "{doc}");
    let gold = read_json(&work.join("lake/gold/_current.json"));
    let verdicts = doc["tables"].as_array().expect("tables");
    assert_eq!(
        verdicts.len(),
        gold["tables"].as_object().map_or(0, |t| t.len())
    );
    assert!(verdicts.iter().all(|t| t["status"] == "same"), "{doc}");

    // mongo load: every Gold table loaded as documents, then nothing to do.
    let mongo = lake_testkit::FerretDb::start(work);
    let url = mongo.url();
    let load = ["mongo", "load", "--mongo-url", &url, "--format", "json"];
    let (code, doc) = json_of(work, &load);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["mongo"]["status"], "loaded", "{doc}");
    let loaded = doc["mongo"]["tables"].as_object().expect("tables");
    for (name, table) in gold["tables"].as_object().expect("gold tables") {
        if let Some(documents) = loaded.get(name).map(|t| &t["documents"]) {
            assert_eq!(documents, &table["rows"], "{name}");
        }
    }
    assert!(loaded.contains_key("kpi_globaux"), "{doc}");
    // FerretDB has no views: the load goes on without the stable names and says why.
    let views = &doc["mongo"]["views"];
    assert_eq!(views["status"], "unsupported", "{doc}");
    assert!(
        views["reason"]
            .as_str()
            .is_some_and(|r| r.contains("viewOn")),
        "{doc}"
    );
    let detailed = [&load[..], &["--detailed-exit-codes"]].concat();
    let (code, doc) = json_of(work, &detailed);
    assert_eq!(
        (code, &doc["mongo"]["status"]),
        (4, &Value::from("already_served"))
    );
}

#[test]
fn a_failed_quality_gate_exits_3_with_the_failed_checks() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    ok(work, &["ingest"]);
    // The generated purchases have defects that are quarantined: no quarantine is allowed.
    let (code, doc) = json_of(
        work,
        &["silver", "--seuil-quarantaine", "0", "--format", "json"],
    );
    assert_eq!(code, 3, "{doc}");
    assert_eq!(doc["outcome"], "quality_gate_failed");
    assert_eq!(doc["silver"]["status"], "quality_gate_failed");
    let failed = doc["silver"]["failed_checks"].as_array().expect("checks");
    assert!(
        !failed.is_empty()
            && failed
                .iter()
                .all(|c| c.as_str().is_some_and(|c| c.contains("quarantaine"))),
        "{doc}"
    );
    assert!(!work.join("lake/silver/_current.json").exists());
}

#[test]
fn another_writer_s_lease_exits_75_and_a_query_on_an_unpublished_layer_names_its_command() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    ok(work, &["ingest"]);

    let out = lake_with(work, &["sql", "SELECT * FROM gold.kpi_globaux"], &[]);
    assert_eq!(status(&out), 1);
    assert!(
        stderr(&out).contains("gold layer has not been published")
            && stderr(&out).contains("`lake gold`"),
        "{}",
        stderr(&out)
    );
    let out = lake_with(work, &["sql", "SELECT * FROM silver.clientz"], &[]);
    assert!(stderr(&out).contains("`lake silver`"), "{}", stderr(&out));

    // A live writer elsewhere holds the lease.
    let lease = serde_json::json!({
        "id": "another-writer",
        "command": "lake run",
        "host": "elsewhere",
        "pid": 4242,
        "started_at": "2026-01-01T00:00:00.000Z",
        "renewed_at": "2026-01-01T00:00:00.000Z",
        "expires_at": "2999-01-01T00:00:00.000Z",
    });
    std::fs::write(work.join("lake/_lease.json"), lease.to_string()).expect("lease");
    let (code, doc) = json_of(work, &["silver", "--format", "json"]);
    assert_eq!((code, &doc["outcome"]), (75, &Value::from("lease_held")));
    assert!(
        doc["error"]
            .as_str()
            .is_some_and(|e| e.contains("elsewhere")),
        "{doc}"
    );
}
