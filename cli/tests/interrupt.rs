//! Ctrl-C (SIGINT): an interrupted `lake run` publishes nothing, removes the run folders it had
//! started and its lease, and exits with status 130; on a cluster the jobs it was running are
//! cancelled on the scheduler, which would otherwise run them to the end.

mod common;

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use common::{Cluster, lake_command, ok, wait_for};

fn start(work: &Path, args: &[&str]) -> Child {
    lake_command(work, args, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lake starts")
}

/// Sends SIGINT, as Ctrl-C in a terminal does, and waits for the end.
fn interrupt(child: Child) -> Output {
    // SAFETY: kill(2) on a child process of this test.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    child.wait_with_output().expect("lake ends")
}

fn run_folders(lake: &Path, layer: &str) -> Vec<String> {
    std::fs::read_dir(lake.join(layer).join("runs"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Status 130, says so, and left no lease and no run folder but the published ones.
fn stopped_cleanly(out: &Output, lake: &Path) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: nothing was published"),
        "{stderr}"
    );
    assert!(!lake.join("_lease.json").exists(), "the lease was left");
    for layer in ["silver", "gold"] {
        let pointer = lake.join(layer).join("_current.json");
        let published = pointer
            .is_file()
            .then(|| {
                common::read_json(&pointer)["run_id"]
                    .as_str()
                    .map(str::to_string)
            })
            .flatten();
        for run in run_folders(lake, layer) {
            assert!(
                published.as_ref().is_some_and(|current| run <= *current),
                "{layer} run {run} was left behind (published: {published:?})\n{stderr}"
            );
        }
    }
    stderr
}

#[test]
fn an_interrupted_run_on_standalone_publishes_nothing_and_cleans_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.1"]);
    let run = start(work, &["run", "--no-ml"]);
    let lake = work.join("lake");
    wait_for("Silver's run folder", Duration::from_secs(120), || {
        !run_folders(&lake, "silver").is_empty()
    });
    let out = interrupt(run);
    let stderr = stopped_cleanly(&out, &lake);
    assert!(
        !lake.join("gold/_current.json").exists(),
        "gold was published by an interrupted run\n{stderr}"
    );
}

#[test]
fn interrupting_a_query_or_a_run_on_a_cluster_cancels_its_jobs_there() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    ok(work, &["run", "--no-ml"]);
    let cluster = Cluster::up(work, &[]);
    let running = |cluster: &Cluster| cluster.jobs().iter().any(|job| job["status"] == "Running");

    // A query that would run for hours.
    let endless = "SELECT MAX(a.id_client + b.id_client + c.id_client) \
                   FROM silver.achats a, silver.achats b, silver.clients c";
    let query = start(work, &["--scheduler", &cluster.scheduler, "sql", endless]);
    wait_for("the query's job", Duration::from_secs(60), || {
        running(&cluster)
    });
    let out = interrupt(query);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancelled lake sql on"), "{stderr}");
    wait_for("the cancelled job to stop", Duration::from_secs(60), || {
        !running(&cluster)
    });

    // A run: whatever model it was at, its job stops and nothing new is published.
    let pointers = ["silver", "gold"].map(|layer| {
        std::fs::read(work.join("lake").join(layer).join("_current.json")).expect("pointer")
    });
    let run = start(
        work,
        &[
            "--scheduler",
            &cluster.scheduler,
            "run",
            "--force",
            "--no-ml",
        ],
    );
    wait_for("the run's first job", Duration::from_secs(60), || {
        running(&cluster)
    });
    let out = interrupt(run);
    stopped_cleanly(&out, &work.join("lake"));
    wait_for("the run's jobs to stop", Duration::from_secs(60), || {
        !running(&cluster)
    });
    for (layer, before) in ["silver", "gold"].iter().zip(pointers) {
        let after =
            std::fs::read(work.join("lake").join(layer).join("_current.json")).expect("pointer");
        assert_eq!(before, after, "{layer}'s pointer moved");
    }
}
