//! `lake compare`: Ballista standalone and DataFusion alone build the same Silver and Gold; a
//! plain folder with a wrong and a missing table is refused, naming both.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{fails_with, ok};

fn manifest(lake: &Path, layer: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(lake.join(layer).join("_current.json")).expect("manifest");
    serde_json::from_str(&text).expect("json")
}

/// Copies the files of folder `from` into `to` (created).
fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for file in std::fs::read_dir(from).expect("table folder") {
        let file = file.expect("entry").path();
        std::fs::copy(&file, to.join(file.file_name().expect("name"))).expect("copy");
    }
}

/// Copies every published table of `layer` into `plain/<layer>/<table>/`; returns the folder of
/// each table in the lake.
fn copy_layer(lake: &Path, layer: &str, plain: &Path) -> BTreeMap<String, PathBuf> {
    let manifest = manifest(lake, layer);
    let tables = manifest["tables"].as_object().expect("tables");
    let mut folders = BTreeMap::new();
    for (table, published) in tables {
        let from = lake.join(published["path"].as_str().expect("path"));
        copy_files(&from, &plain.join(layer).join(table));
        folders.insert(table.clone(), from);
    }
    folders
}

#[test]
fn engines_agree_and_a_wrong_or_missing_table_is_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    ok(root, &["generate", "--scale", "0.01", "--seed", "11"]);
    ok(root, &["run", "--no-ml"]);
    ok(
        root,
        &[
            "--lake",
            "other",
            "--engine",
            "datafusion",
            "run",
            "--no-ml",
        ],
    );

    let lake = root.join("lake");
    let tables = manifest(&lake, "silver")["tables"]
        .as_object()
        .map_or(0, |t| t.len())
        + manifest(&lake, "gold")["tables"]
            .as_object()
            .map_or(0, |t| t.len());
    assert!(tables > 20, "{tables}");
    let out = ok(root, &["compare", "other"]);
    assert!(
        out.contains(&format!("{tables} tables: the same rows in other")),
        "{out}"
    );
    assert_eq!(out.matches("  same").count(), tables, "{out}");

    // A plain folder of Parquet, as other engines write it: the same, then damaged.
    let plain = root.join("plain");
    copy_layer(&lake, "silver", &plain);
    let gold = copy_layer(&lake, "gold", &plain);
    ok(root, &["compare", "plain"]);
    // kpi_globaux gets the files of kpi_croissance; lorenz disappears.
    let globaux = plain.join("gold/kpi_globaux");
    std::fs::remove_dir_all(&globaux).expect("remove");
    copy_files(&gold["kpi_croissance"], &globaux);
    std::fs::remove_dir_all(plain.join("gold/lorenz")).expect("remove");
    let error = fails_with(root, &["compare", "plain", "--layer", "gold"], &[]);
    assert!(error.contains("2 of "), "{error}");
    assert!(
        error.contains("gold.kpi_globaux: the columns differ"),
        "{error}"
    );
    assert!(error.contains("gold.lorenz: unreadable"), "{error}");
}
