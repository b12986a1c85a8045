//! The `lake` binary end to end, in a temporary working folder with the default paths
//! (`data/sources`, `lake/`).

mod common;

use common::{lake, ok};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn run_prints_kpis_and_sql_formats_results() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = ok(dir.path(), &["run", "--scale", "0.01"]);
    assert!(out.contains("== generate: no sources"), "{out}");
    assert!(out.contains("== KPIs"), "{out}");
    assert!(out.contains("gini"), "{out}");
    assert!(out.contains("largest RFM segments"), "{out}");
    assert!(dir.path().join("lake/gold/_current.json").exists());

    // The generator's manifest gives the expected number of Silver purchases.
    let manifest: serde_json::Value = serde_json::from_str(&read(
        &dir.path().join("data/sources/generation_manifest.json"),
    ))
    .expect("manifest json");
    let expected = manifest["expected"]["achats"]
        .as_u64()
        .expect("expected achats");

    let csv = ok(
        dir.path(),
        &[
            "sql",
            "SELECT nb_achats FROM gold.kpi_globaux",
            "--format",
            "csv",
        ],
    );
    assert_eq!(csv, format!("nb_achats\n{expected}\n"));
    let json = ok(
        dir.path(),
        &[
            "sql",
            "SELECT COUNT(*) AS n FROM silver.achats",
            "--format",
            "json",
        ],
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("json output");
    assert_eq!(parsed[0]["n"].as_u64(), Some(expected));

    let query_file = dir.path().join("q.sql");
    std::fs::write(&query_file, "SELECT COUNT(*) AS n FROM gold.dim_temps").expect("write");
    let table = ok(dir.path(), &["sql", "-f", "q.sql"]);
    assert!(table.contains("| n "), "{table}");

    let status = ok(dir.path(), &["status"]);
    assert!(status.contains("silver: run"), "{status}");
    assert!(status.contains("kpi_globaux"), "{status}");
    assert!(status.contains("ml: run"), "{status}");
    assert!(status.contains("scores_churn"), "{status}");

    // The ML stage scored every buyer and reported its models.
    assert!(out.contains("== ml"), "{out}");
    assert!(out.contains("segmentation k = "), "{out}");
    assert!(out.contains("ROC-AUC"), "{out}");
    let unscored = ok(
        dir.path(),
        &[
            "sql",
            "SELECT COUNT(*) AS n FROM gold.dim_rfm r LEFT JOIN gold.scores_churn s \
             ON s.id_client = r.id_client WHERE s.score_churn IS NULL",
            "--format",
            "csv",
        ],
    );
    assert_eq!(unscored, "n\n0\n");

    // A second run ingests nothing new and builds nothing again: every layer is up to date.
    let again = ok(dir.path(), &["run"]);
    assert!(again.contains("0 file(s) ingested, 2 unchanged"), "{again}");
    for layer in ["silver", "gold", "ml"] {
        assert!(
            again.contains(&format!("== {layer}: up to date")),
            "{again}"
        );
    }

    // A bad query fails with the engine's message.
    let bad = lake(dir.path(), &["sql", "SELECT nope FROM gold.kpi_globaux"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nope"));
}

#[test]
fn ml_needs_gold_and_a_valid_k_range() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = lake(dir.path(), &["ml"]);
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.contains("gold layer has not been published"),
        "{error}"
    );

    let out = lake(dir.path(), &["ml", "--k-min", "6", "--k-max", "3"]);
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("--k-min 6 is above --k-max 3"), "{error}");
}

#[test]
fn failed_quality_gate_publishes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    ok(
        dir.path(),
        &["generate", "--scale", "0.01", "--defect-rate", "0.004"],
    );
    let out = lake(dir.path(), &["run", "--seuil-quarantaine", "0.001"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("blocking quality checks failed"),
        "{stderr}"
    );
    assert!(stderr.contains("achats.taux_quarantaine"), "{stderr}");
    assert!(!dir.path().join("lake/silver/_current.json").exists());
    assert!(!dir.path().join("lake/gold/_current.json").exists());
}

/// `lake gold` run on its own, later and without the sources folder, measures from the same
/// instant as the Silver it reads (the generator's as_of), not from the time of the rebuild;
/// `--as-of` still overrides it.
#[test]
fn gold_alone_keeps_the_as_of_of_its_silver() {
    let dir = tempfile::tempdir().expect("tmp");
    let sources = "elsewhere";
    ok(
        dir.path(),
        &[
            "generate",
            "--scale",
            "0.01",
            "--as-of",
            "2025-06-30",
            "--out",
            sources,
        ],
    );
    ok(dir.path(), &["ingest", "--sources", sources]);
    ok(dir.path(), &["silver", "--sources", sources]);

    let out = ok(dir.path(), &["gold"]);
    assert!(out.contains("(as_of 2025-06-30 00:00:00)"), "{out}");
    let current: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("lake/gold/_current.json"))).expect("json");
    assert_eq!(current["as_of"].as_str(), Some("2025-06-30 00:00:00"));

    let out = ok(dir.path(), &["gold", "--as-of", "2025-07-01"]);
    assert!(out.contains("(as_of 2025-07-01 00:00:00)"), "{out}");
}

/// Kills `lake run` while Silver is writing; the previous Silver and Gold stay published and
/// readable, and the next run succeeds and removes the dead run's folder.
#[test]
fn killed_run_leaves_previous_layers_intact() {
    let dir = tempfile::tempdir().expect("tmp");
    ok(dir.path(), &["run", "--scale", "0.1"]);
    let silver_pointer = read(&dir.path().join("lake/silver/_current.json"));
    let gold_pointer = read(&dir.path().join("lake/gold/_current.json"));
    let kpis = ok(
        dir.path(),
        &["sql", "SELECT * FROM gold.kpi_globaux", "--format", "csv"],
    );
    let silver_runs = dir.path().join("lake/silver/runs");
    let runs_before: Vec<_> = std::fs::read_dir(&silver_runs)
        .expect("runs")
        .flatten()
        .map(|e| e.file_name())
        .collect();

    let mut child = Command::new(env!("CARGO_BIN_EXE_lake"))
        .current_dir(dir.path())
        // A short lease, so that the run after the kill need not wait a minute for it.
        .args(["--lease-ttl", "3", "run", "--force"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait (bounded) for a new Silver run folder with data in it: Silver is writing.
    let started = Instant::now();
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines
            .next()
            .expect("lake run ended before Silver")
            .expect("line");
        if line.starts_with("== silver") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no Silver stage"
        );
    }
    let new_run_has_files = || {
        std::fs::read_dir(&silver_runs)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| !runs_before.contains(&e.file_name()) && walk_has_file(&e.path()))
            })
            .unwrap_or(false)
    };
    while !new_run_has_files() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "Silver never wrote"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");

    assert_eq!(
        read(&dir.path().join("lake/silver/_current.json")),
        silver_pointer
    );
    assert_eq!(
        read(&dir.path().join("lake/gold/_current.json")),
        gold_pointer
    );
    assert_eq!(
        ok(
            dir.path(),
            &["sql", "SELECT * FROM gold.kpi_globaux", "--format", "csv"]
        ),
        kpis
    );

    // The killed run's lease is taken over once expired (readers above needed none).
    ok(
        dir.path(),
        &["--lease-ttl", "3", "--lease-wait", "60", "run", "--force"],
    );
    assert_ne!(
        read(&dir.path().join("lake/gold/_current.json")),
        gold_pointer
    );
    let runs_after = std::fs::read_dir(&silver_runs).expect("runs").count();
    assert_eq!(
        runs_after, 2,
        "the current run and the one before; the dead run is removed"
    );
}

fn walk_has_file(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().any(|e| {
                let p = e.path();
                if p.is_dir() { walk_has_file(&p) } else { true }
            })
        })
        .unwrap_or(false)
}
