//! `lake gold --select`: a rebuild of some Gold models (with what they read, and with `name+`
//! their readers) publishes a new Gold run whose other tables are copied from the published
//! one: the same tables as before, each in the new run's folder. It is refused when the
//! published Gold was built from another Silver. The expected models come from the SQL files'
//! `Reads:` headers (kpi_clv reads gold.parametres; kpi_clv_deciles and kpi_globaux read
//! kpi_clv).

mod common;

use std::path::Path;

use common::{lake_with, ok, read_json};
use serde_json::Value;

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn names(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn gold_select(work: &Path, select: &str) -> Value {
    let out = lake_with(work, &["gold", "--select", select, "--format", "json"], &[]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert!(out.status.success(), "{doc}");
    doc
}

#[test]
fn a_selected_model_is_rebuilt_and_the_other_tables_are_carried_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    ok(work, &["run", "--no-ml"]);
    let before = read_json(&work.join("lake/gold/_current.json"));
    copy_folder(&work.join("lake"), &work.join("before"));

    let doc = gold_select(work, "kpi_clv");
    let gold = &doc["gold"];
    assert_eq!(names(&gold["rebuilt"]), ["kpi_clv"]);
    let mut others: Vec<String> = before["tables"]
        .as_object()
        .expect("tables")
        .keys()
        .filter(|t| *t != "kpi_clv")
        .cloned()
        .collect();
    others.sort();
    assert_eq!(names(&gold["carried"]), others);

    // A new run, every table of which lies in its own folder, the same rows as before.
    let after = read_json(&work.join("lake/gold/_current.json"));
    assert_ne!(after["run_id"], before["run_id"]);
    assert_eq!(after["run_id"], gold["run_id"]);
    let prefix = format!("gold/runs/{}/", after["run_id"].as_str().expect("run id"));
    for (name, table) in after["tables"].as_object().expect("tables") {
        let path = table["path"].as_str().expect("path");
        assert!(path.starts_with(&prefix), "{name}: {path}");
        assert_eq!(table["rows"], before["tables"][name]["rows"], "{name}");
    }
    let compared = ok(work, &["compare", "before", "--layer", "gold"]);
    assert!(compared.contains("the same rows in before"), "{compared}");

    // With its readers.
    let doc = gold_select(work, "kpi_clv+");
    let rebuilt = names(&doc["gold"]["rebuilt"]);
    for name in ["kpi_clv", "kpi_clv_deciles", "kpi_globaux"] {
        assert!(rebuilt.iter().any(|r| r == name), "{name} in {rebuilt:?}");
    }
    assert!(
        names(&doc["gold"]["carried"]).contains(&"dim_temps".to_string()),
        "{doc}"
    );

    // An unknown model, and a Gold built from another Silver, are refused.
    let out = lake_with(work, &["gold", "--select", "kpi_clvv"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("kpi_clv,"),
        "{stderr}"
    );
    ok(work, &["silver"]);
    let out = lake_with(work, &["gold", "--select", "kpi_clv"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("rebuild all of Gold"),
        "{stderr}"
    );
}
