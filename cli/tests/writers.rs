//! One writer at a time: commands that write a lake take its lease (`_lease.json`), a second
//! writer fails naming the holder or waits for it, a writer killed with `kill -9` leaves a lease
//! that is taken over once expired, and two `lake run` started together on a local lake and on
//! a real S3 server (s3s-fs on loopback) both succeed with the published Gold built from the
//! published Silver.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use common::{S3Server, env_refs, fails_with, lake_command, ok, ok_with, read_json, wait_for};

/// A lease as a live writer elsewhere holds it: expires long after the test.
const LIVE_HOLDER: &str = r#"{
  "id": "20261203T120000000Z-0a1b2c3d",
  "command": "lake run",
  "host": "analytics-02",
  "pid": 31337,
  "started_at": "2026-12-03T12:00:00.000Z",
  "renewed_at": "2099-01-01T00:00:00.000Z",
  "expires_at": "2099-01-01T00:01:00.000Z"
}"#;

#[test]
fn a_second_writer_fails_naming_the_holder_and_readers_are_not_held() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    ok(work, &["run", "--no-ml"]);
    std::fs::write(work.join("lake/_lease.json"), LIVE_HOLDER).expect("lease");
    let pointer = std::fs::read(work.join("lake/gold/_current.json")).expect("pointer");

    let refused = fails_with(work, &["gold"], &[]);
    for part in [
        "another writer holds the lake",
        "lake run (run 20261203T120000000Z-0a1b2c3d, pid 31337 on analytics-02",
        "--lease-wait",
    ] {
        assert!(refused.contains(part), "{part:?} missing from:\n{refused}");
    }
    let waited = fails_with(work, &["--lease-wait", "1", "silver"], &[]);
    assert!(
        waited.contains("waiting up to 1 s for the lake's writer"),
        "{waited}"
    );
    assert!(waited.contains("waited 1 s"), "{waited}");
    assert_eq!(
        std::fs::read(work.join("lake/gold/_current.json")).expect("pointer"),
        pointer,
        "a refused writer moved Gold's pointer"
    );

    // Readers take no lease.
    let status = ok(work, &["status"]);
    assert!(status.contains("gold"), "{status}");
    ok(work, &["sql", "SELECT COUNT(*) FROM gold.fact_achats"]);

    // The holder gone, writers write again; the lease is released after them.
    std::fs::remove_file(work.join("lake/_lease.json")).expect("release by hand");
    ok(work, &["gold"]);
    assert!(
        !work.join("lake/_lease.json").exists(),
        "the lease was not released"
    );
}

#[test]
fn the_lease_of_a_killed_writer_is_taken_over_once_expired() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    let mut writer = lake_command(work, &["--lease-ttl", "3", "run", "--no-ml"], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lake run starts");
    let lease = work.join("lake/_lease.json");
    wait_for("the first writer's lease", Duration::from_secs(60), || {
        lease.is_file()
    });
    // SAFETY: kill(2) on a child process of this test.
    unsafe { libc::kill(writer.id() as i32, libc::SIGKILL) };
    let status = writer.wait().expect("killed writer");
    assert!(
        !status.success(),
        "the writer finished before it was killed"
    );
    assert!(lease.is_file(), "a killed writer cannot release its lease");

    let out = lake_command(
        work,
        &["--lease-ttl", "3", "--lease-wait", "60", "run", "--no-ml"],
        &[],
    )
    .output()
    .expect("lake run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("took over the lease of a writer that died"),
        "{stderr}"
    );
    assert!(work.join("lake/gold/_current.json").is_file());
    assert!(!lease.exists(), "the lease was not released");
}

/// Starts two `lake run --force --no-ml` on `lake`, each waiting for the other's lease, and
/// returns their outputs once both ended. With `lease` (the lease object's file), the second
/// starts once the first holds the lease, else both start at once.
fn two_runs_together(
    work: &Path,
    lake: &str,
    env: &[(&str, &str)],
    lease: Option<&Path>,
) -> [Output; 2] {
    let args = [
        "--lake",
        lake,
        "--lease-wait",
        "600",
        "run",
        "--force",
        "--no-ml",
    ];
    let start = || {
        lake_command(work, &args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lake run starts")
    };
    let first = start();
    if let Some(lease) = lease {
        wait_for("the first writer's lease", Duration::from_secs(60), || {
            lease.is_file()
        });
    }
    let second = start();
    [first, second].map(|child| child.wait_with_output().expect("lake run ends"))
}

/// Both runs succeeded and the Gold readers see was built from the Silver they see.
fn both_succeeded_and_layers_belong_together(
    outputs: &[Output; 2],
    silver: serde_json::Value,
    gold: serde_json::Value,
) {
    for out in outputs {
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let built_on = gold["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .find(|input| input["name"] == "silver")
        .map(|input| input["version"].clone())
        .expect("gold names its silver");
    assert_eq!(built_on, silver["run_id"], "gold: {gold}\nsilver: {silver}");
}

#[test]
fn two_runs_started_together_on_a_local_lake_take_turns() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    let outputs = two_runs_together(work, "lake", &[], None);
    both_succeeded_and_layers_belong_together(
        &outputs,
        read_json(&work.join("lake/silver/_current.json")),
        read_json(&work.join("lake/gold/_current.json")),
    );
    assert!(!work.join("lake/_lease.json").exists());
}

#[test]
fn two_runs_started_together_on_s3_take_turns() {
    let dir = tempfile::tempdir().expect("tmp");
    let s3 = S3Server::start(dir.path());
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    let env = s3.env();
    // s3s-fs checks `If-None-Match: *` and then writes, not atomically (AWS S3 and MinIO
    // decide it atomically): two creates in the same instant may both pass there. The second
    // run therefore starts once the first holds the lease; it still overlaps the whole run.
    let lease = s3.path("shared/_lease.json");
    let outputs = two_runs_together(work, "s3://lake/shared", &env_refs(&env), Some(&lease));
    both_succeeded_and_layers_belong_together(
        &outputs,
        read_json(&s3.path("shared/silver/_current.json")),
        read_json(&s3.path("shared/gold/_current.json")),
    );
    assert!(!s3.path("shared/_lease.json").exists());
    // And a status read afterwards sees them.
    let status = ok_with(
        work,
        &["--lake", "s3://lake/shared", "status"],
        &env_refs(&env),
    );
    assert!(status.contains("gold"), "{status}");
}
