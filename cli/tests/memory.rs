//! Bounded memory: the pool of `--memory-limit` (standalone) and of each executor
//! (`lake cluster up --executor-memory`). A sort past its share spills to disk and returns the
//! same rows as an unbounded run; a job that cannot fit fails with an error naming the setting
//! to raise, and publishes nothing.

mod common;

use std::path::Path;

use common::{Cluster, compare_every_layer, fails_with, lake_with, ok};

/// Every purchase 24 times, in a total order: 2.4 million rows of 32 bytes at SF 0.1, so each
/// of two partitions sorts about 37 MiB of values, past a 32 MiB task slot however the batches
/// are counted (with 8 copies a slot's share sometimes fit and nothing spilled); bounded and
/// unbounded runs must print the same text.
const SORT: &str = "SELECT a.id_achat, a.montant, copie.value AS copie \
    FROM silver.achats AS a \
    CROSS JOIN (VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12), \
        (13), (14), (15), (16), (17), (18), (19), (20), (21), (22), (23), (24)) AS copie (value) \
    ORDER BY a.montant, a.id_achat, copie.value";
const COPIES: usize = 24;

/// A lake of SF 0.1 with Silver published (100 000 purchases, a few MiB to sort).
fn lake_with_silver(dir: &Path) {
    ok(dir, &["generate", "--scale", "0.1"]);
    ok(dir, &["run", "--no-ml"]);
}

/// Runs the sort and returns (stdout, stderr); fails the test when the command fails.
fn sort(dir: &Path, extra: &[&str]) -> (String, String) {
    let args = [extra, &["sql", SORT, "--format", "csv"][..]].concat();
    let out = lake_with(dir, &args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "lake {args:?} failed:\n{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

#[test]
fn a_sort_past_the_memory_limit_spills_and_returns_the_same_rows_on_standalone() {
    let dir = tempfile::tempdir().expect("tmp");
    lake_with_silver(dir.path());

    let (unbounded, quiet) = sort(dir.path(), &["--memory-limit", "0"]);
    assert!(!quiet.contains("spilled"), "{quiet}");
    assert_eq!(
        unbounded.lines().count(),
        1 + COPIES * expected_purchases(dir.path()),
        "the header and every Silver purchase, COPIES times"
    );

    let spill_dir = dir.path().join("spill");
    let spill_arg = spill_dir.to_string_lossy().into_owned();
    let (bounded, report) = sort(
        dir.path(),
        &["--memory-limit", "32MiB", "--spill-dir", &spill_arg],
    );
    assert!(report.contains("lake sql: spilled"), "{report}");
    assert!(report.contains("--memory-limit"), "{report}");
    assert!(bounded == unbounded, "the spilled sort printed other rows");
    assert!(spill_dir.is_dir(), "the spill folder was not used");
}

#[test]
fn lake_compare_sorts_within_the_memory_limit_and_spills() {
    let dir = tempfile::tempdir().expect("tmp");
    lake_with_silver(dir.path());
    ok(
        dir.path(),
        &[
            "--lake",
            "other",
            "--engine",
            "datafusion",
            "run",
            "--no-ml",
        ],
    );
    // silver.achats and gold.fact_achats (100 000 rows) do not fit 24 MiB with both sides
    // sorted at once: they spill, and every table is still found the same.
    let out = lake_with(
        dir.path(),
        &[
            "--memory-limit",
            "24MiB",
            "compare",
            "other",
            "--skip",
            "model_report",
        ],
        &[],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("tables: the same rows in other"),
        "{stdout}"
    );
    assert!(stderr.contains("lake compare: spilled"), "{stderr}");
}

#[test]
fn a_run_that_cannot_fit_its_memory_limit_names_the_setting_and_publishes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    ok(dir.path(), &["generate", "--scale", "0.01"]);
    let stderr = fails_with(dir.path(), &["--memory-limit", "1MiB", "run"], &[]);
    assert!(stderr.contains("silver failed"), "{stderr}");
    assert!(
        stderr.contains("needed more memory than its limit allows"),
        "{stderr}"
    );
    assert!(stderr.contains("for the total memory pool"), "{stderr}");
    assert!(
        stderr.contains("Raise --memory-limit (LAKE_MEMORY_LIMIT)"),
        "{stderr}"
    );
    assert!(!dir.path().join("lake/silver/_current.json").exists());
    assert!(!dir.path().join("lake/gold/_current.json").exists());
}

#[test]
fn executors_bound_their_memory_spill_and_refuse_what_cannot_fit() {
    let dir = tempfile::tempdir().expect("tmp");
    lake_with_silver(dir.path());
    let (unbounded, _) = sort(dir.path(), &["--memory-limit", "0"]);

    // 32 MiB per executor, one task slot each: the sort spills, on the executors. (With two
    // slots sharing a pool, a sort merging its spilled runs competes with the other slot's
    // sort for the memory it freed to merge, and may fail with the error that names
    // --executor-memory: how often depends on timing, so the test gives each sort a pool.)
    let cluster = Cluster::up(dir.path(), &["--executor-memory", "32MiB", "--vcores", "1"]);
    let (on_cluster, _) = sort(dir.path(), &["--scheduler", &cluster.scheduler]);
    assert!(
        on_cluster == unbounded,
        "the spilled sort printed other rows"
    );
    let logs = executor_logs(Path::new(&cluster.state_dir));
    assert!(
        logs.contains("Executor memory pool: 32.0 MiB (configured via --memory-pool-size)"),
        "{logs}"
    );
    assert!(logs.contains("spilled"), "no executor spilled:\n{logs}");

    drop(cluster);

    // Writing Silver's Parquet needs more than 1 MiB per task: a clear error, nothing
    // published over the lake built before.
    let cluster = Cluster::up(dir.path(), &["--executor-memory", "2MiB"]);
    let current = std::fs::read(dir.path().join("lake/silver/_current.json")).expect("pointer");
    let stderr = fails_with(
        dir.path(),
        &[
            "--scheduler",
            &cluster.scheduler,
            "run",
            "--force",
            "--no-ml",
        ],
        &[],
    );
    assert!(
        stderr.contains("needed more memory than its limit allows"),
        "{stderr}"
    );
    assert!(stderr.contains("--executor-memory"), "{stderr}");
    let after = std::fs::read(dir.path().join("lake/silver/_current.json")).expect("pointer");
    assert_eq!(current, after, "the failed run moved Silver's pointer");
}

/// What a small pool needs beside its size: sort-merge joins, whose sorts spill (a hash join's
/// build side cannot), and Parquet row groups of 8 192 rows (each column writer holds a whole
/// row group until it is written: about 1.8 MiB per column at SF 0.1 with the default size).
const SMALL_POOL_SETTINGS: [&str; 4] = [
    "--set",
    "datafusion.optimizer.prefer_hash_join=false",
    "--set",
    "datafusion.execution.parquet.max_row_group_size=8192",
];

#[test]
fn the_whole_pipeline_spills_in_64_mib_and_publishes_the_same_tables() {
    let dir = tempfile::tempdir().expect("tmp");
    ok(dir.path(), &["generate", "--scale", "0.1"]);
    // The reference: no pool, the default hash joins and row groups.
    let reference = lake_with(dir.path(), &["--memory-limit", "0", "run"], &[]);
    assert!(reference.status.success(), "{reference:?}");
    assert!(!String::from_utf8_lossy(&reference.stdout).contains("spilled"));

    // Standalone: one pool of 64 MiB for the whole process, ML included.
    let standalone = [
        &["--lake", "bounded", "--memory-limit", "64MiB"][..],
        &SMALL_POOL_SETTINGS[..],
        &["run"][..],
    ]
    .concat();
    let report = ok(dir.path(), &standalone);
    assert!(report.contains("lake run: done in"), "{report}");
    assert!(report.contains("spilled"), "nothing spilled:\n{report}");
    compare_every_layer(dir.path(), "lake", "bounded", &[]);

    // A cluster whose executors have 64 MiB each (32 MiB per task slot).
    let cluster = Cluster::up(dir.path(), &["--executor-memory", "64MiB"]);
    let on_cluster = [
        &["--lake", "on-cluster", "--scheduler", &cluster.scheduler][..],
        &SMALL_POOL_SETTINGS[..],
        &["run"][..],
    ]
    .concat();
    ok(dir.path(), &on_cluster);
    let logs = executor_logs(Path::new(&cluster.state_dir));
    assert!(logs.contains("Executor memory pool: 64.0 MiB"), "{logs}");
    assert!(logs.contains("spilled"), "no executor spilled:\n{logs}");
    compare_every_layer(dir.path(), "lake", "on-cluster", &[]);
}

/// Silver's purchases, as the generator's manifest expects them.
fn expected_purchases(dir: &Path) -> usize {
    let manifest = common::read_json(&dir.join("data/sources/generation_manifest.json"));
    let achats = manifest["expected"]["achats"]
        .as_u64()
        .expect("expected.achats");
    usize::try_from(achats).expect("a count")
}

/// Every executor log of the cluster, concatenated.
fn executor_logs(state_dir: &Path) -> String {
    let logs = state_dir.join("logs");
    let mut text = String::new();
    for entry in std::fs::read_dir(&logs).expect("logs folder").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("executor") {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    text
}
