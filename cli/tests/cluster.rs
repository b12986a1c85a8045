//! Our scheduler and two executors as processes on loopback, started with `lake cluster up`:
//! the whole pipeline over a real S3 server gives the same Silver and Gold as standalone over a
//! local folder; both executors share the work; a killed executor publishes nothing partial;
//! a stopped scheduler fails fast.

mod common;

use common::{
    Cluster, S3Server, compare_every_layer, env_refs, fails_with, free_port, lake_command, ok,
    ok_with, published_tables, read_json, wait_for,
};

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn pipeline_on_the_cluster_over_s3_matches_standalone_on_a_local_folder() {
    let dir = tempfile::tempdir().expect("tmp");
    let s3 = S3Server::start(dir.path());
    let cluster = Cluster::up(dir.path(), &[]);
    let s3_env = s3.env();
    let env = env_refs(&s3_env);

    let remote = dir.path().join("remote");
    let local = dir.path().join("local");
    for d in [&remote, &local] {
        std::fs::create_dir_all(d).expect("dir");
        ok(d, &["generate", "--scale", "0.01", "--seed", "5"]);
    }
    let on_cluster = [
        "--scheduler",
        cluster.scheduler.as_str(),
        "--lake",
        "s3://lake/pipeline",
    ];
    let out = ok_with(&remote, &[&on_cluster[..], &["run"]].concat(), &env);
    assert!(
        out.contains(&format!("on ballista-remote {}", cluster.scheduler)),
        "{out}"
    );
    assert!(
        s3.path("pipeline/gold/_current.json").is_file(),
        "Gold is published on the S3 server"
    );
    // On a cluster, Silver and Gold size their partitions from the purchases in Bronze (one per
    // million, never fewer than one per core): at SF 0.01, one per core.
    let generated = read_json(&remote.join("data/sources/generation_manifest.json"));
    let purchases = generated["files"]["achats.csv"]
        .as_u64()
        .expect("achats rows");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for layer in ["silver", "gold"] {
        let sized = format!(
            "{layer}: {cores} partitions per query, sized from {purchases} purchases in Bronze"
        );
        assert!(out.contains(&sized), "{sized}\n{out}");
    }
    ok(&local, &["run"]);

    // Every Silver, Gold and ML table: same columns, same row count, same rows in any order,
    // floats within lake-parity's relative tolerance (the ML model report holds timings and run
    // ids, so it is left out). `lake compare` reads the S3 lake with the server's credentials.
    for layer in ["silver", "gold", "gold/ml"] {
        let tables = published_tables(&local.join("lake"), layer);
        assert!(tables.len() >= 4, "{layer}: {tables:?}");
    }
    let compared = compare_every_layer(&local, "lake", "s3://lake/pipeline", &env);
    assert!(
        compared.contains("tables: the same rows in s3://lake/pipeline"),
        "{compared}"
    );

    // Each table is written by the tasks that compute it, one file per partition
    // (lake_core::table_write): silver.achats, hash-partitioned in one per core, is that many
    // files on both.
    for lake_dir in [s3.path("pipeline"), local.join("lake")] {
        let files = table_files(&lake_dir, "silver", "achats");
        assert!(
            files.len() == cores
                && files
                    .iter()
                    .all(|f| f.starts_with("part-") && f.ends_with(".parquet")),
            "{}: {files:?}",
            lake_dir.display()
        );
    }

    // Both executors ran tasks of the Silver jobs (the scheduler's per-job event logs).
    let mut tasks: BTreeMap<String, u64> = BTreeMap::new();
    let jobs = cluster.jobs();
    for job in jobs.iter().filter(|j| {
        j["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("lake silver."))
    }) {
        assert_eq!(job["status"], "Completed", "{job}");
        for entry in job["tasks"].as_str().unwrap_or_default().split_whitespace() {
            let (executor, n) = entry.split_once(':').expect("executor:count");
            *tasks.entry(executor.to_string()).or_default() += n.parse::<u64>().expect("count");
        }
    }
    assert!(
        tasks.get("executor-1").copied().unwrap_or(0) > 0
            && tasks.get("executor-2").copied().unwrap_or(0) > 0,
        "Silver tasks per executor: {tasks:?}"
    );

    // A UDF evaluated by the cluster.
    let udf = ok(
        &remote,
        &[
            "--scheduler",
            &cluster.scheduler,
            "sql",
            "SELECT parse_amount('12,50 €') AS m",
            "--format",
            "csv",
        ],
    );
    assert_eq!(udf, "m\n12.50\n");

    // A failing job: the scheduler's error, a non-zero exit.
    let error = fails_with(
        &remote,
        &[
            "--scheduler",
            &cluster.scheduler,
            "sql",
            "SELECT CAST('x' AS INT)",
        ],
        &[],
    );
    assert!(error.contains("Cannot cast string 'x'"), "{error}");

    // A job that outlives --job-timeout-seconds fails clearly and is cancelled on the cluster.
    let endless = "SELECT MAX(a.id_client + b.id_client + c.id_client) \
                   FROM silver.achats a, silver.achats b, silver.clients c";
    let error = fails_with(
        &remote,
        &[
            &on_cluster[..],
            &["--job-timeout-seconds", "1", "sql", endless],
        ]
        .concat(),
        &env,
    );
    assert!(error.contains("did not finish within 1 s"), "{error}");
    assert!(error.contains("cancelled lake sql"), "{error}");
    wait_for("the cancelled job to stop", Duration::from_secs(60), || {
        !cluster.jobs().iter().any(|j| j["status"] == "Running")
    });

    // The scheduler's Prometheus metrics count the jobs above: completed and cancelled. (The
    // failing cast fails as it is planned, before it counts as a failed job: the counter is
    // only required to be there.)
    let metrics = scheduler_metrics(&cluster.scheduler);
    for (counter, at_least) in [
        ("job_submitted_total", 3.0),
        ("job_completed_total", 1.0),
        ("job_failed_total", 0.0),
        ("job_cancelled_total", 1.0),
    ] {
        let value = metrics
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{counter} ")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {counter} in:\n{metrics}"));
        assert!(value >= at_least, "{counter} = {value}\n{metrics}");
    }

    // Status sees both executors; down stops every process.
    let status = ok(
        dir.path(),
        &["cluster", "status", "--state-dir", &cluster.state_dir],
    );
    assert!(status.contains("2 executor(s), 4 task slot(s)"), "{status}");
    assert_eq!(status.matches("/healthz ok").count(), 2, "{status}");
    ok(
        dir.path(),
        &["cluster", "down", "--state-dir", &cluster.state_dir],
    );
    let error = fails_with(
        dir.path(),
        &["cluster", "status", "--state-dir", &cluster.state_dir],
        &[],
    );
    assert!(error.contains("no cluster started from"), "{error}");
}

#[test]
fn killing_an_executor_during_silver_publishes_nothing_partial() {
    let dir = tempfile::tempdir().expect("tmp");
    // Heartbeat every second, declared dead after 4 s (Ballista's defaults: 60 s and 180 s).
    let cluster = Cluster::up(
        dir.path(),
        &[
            "--heartbeat-seconds",
            "1",
            "--executor-timeout-seconds",
            "4",
        ],
    );
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.1", "--seed", "11"]);
    let manifest = read_json(&work.join("data/sources/generation_manifest.json"));
    let scheduler = ["--scheduler", cluster.scheduler.as_str()];
    ok(work, &[&scheduler[..], &["ingest"]].concat());

    // Bounded: Ballista can leave a job hanging after an executor loss; the job timeout turns
    // that into a clear error and cancels the job on the scheduler.
    let silver_args = ["--job-timeout-seconds", "120", "silver"];
    let mut silver = lake_command(work, &[&scheduler[..], &silver_args].concat(), &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lake silver starts");
    wait_for("a running Silver job", Duration::from_secs(120), || {
        cluster.jobs().iter().any(|j| {
            j["status"] == "Running"
                && j["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("lake silver."))
        })
    });
    let victim = cluster.pid("executor-1");
    // SAFETY: kill(2) on the pid of a process this test started.
    unsafe {
        libc::kill(victim as libc::pid_t, libc::SIGKILL);
    }
    let mut finished = None;
    wait_for("lake silver to end", Duration::from_secs(300), || {
        finished = silver.try_wait().expect("wait");
        finished.is_some()
    });
    let output = silver.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let current = work.join("lake/silver/_current.json");
    eprintln!(
        "lake silver after executor-1 was killed: {}\n{stderr}",
        output.status
    );
    if output.status.success() {
        // Completed on the survivor: the published Silver is whole.
        assert_silver_matches_manifest(&work.join("lake"), &manifest);
    } else {
        assert!(
            stderr
                .contains("silver failed; the previously published Silver and Gold are unchanged"),
            "a clear error: {stderr}"
        );
        assert!(!current.exists(), "nothing published after a failed run");
    }

    // Restart the lost executor; the next run succeeds on both.
    let restarted = ok(work, &["cluster", "up", "--state-dir", &cluster.state_dir]);
    assert!(restarted.contains("restarted executor-1"), "{restarted}");
    ok(work, &[&scheduler[..], &["silver"]].concat());
    assert_silver_matches_manifest(&work.join("lake"), &manifest);
}

/// The files of a published table, by name.
/// `GET /api/metrics` of the scheduler at `df://host:port` (plain HTTP/1.1 on its port): the
/// body, after checking the answer is 200 in Prometheus's text format.
fn scheduler_metrics(scheduler: &str) -> String {
    use std::io::{Read, Write};
    let address = scheduler.trim_start_matches("df://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the scheduler");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET /api/metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_lowercase().contains("content-type: text/plain"),
        "{head}"
    );
    body.to_string()
}

fn table_files(lake_dir: &Path, layer: &str, table: &str) -> Vec<String> {
    let manifest = read_json(&lake_dir.join(format!("{layer}/_current.json")));
    let folder = manifest["tables"][table]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("{layer}.{table} in {manifest}"));
    let mut files: Vec<String> = std::fs::read_dir(lake_dir.join(folder))
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    files
}

fn assert_silver_matches_manifest(lake_dir: &Path, generation: &serde_json::Value) {
    let silver = read_json(&lake_dir.join("silver/_current.json"));
    for table in ["clients", "achats"] {
        assert_eq!(
            silver["tables"][table]["rows"], generation["expected"][table],
            "silver.{table} rows"
        );
    }
}

#[test]
fn a_stopped_scheduler_fails_fast_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tmp");
    let url = format!("df://127.0.0.1:{}", free_port());
    let mut query = lake_command(dir.path(), &["--scheduler", &url, "sql", "SELECT 1"], &[])
        .stderr(Stdio::piped())
        .spawn()
        .expect("lake starts");
    let mut ended = false;
    wait_for("lake to give up", Duration::from_secs(60), || {
        ended = query.try_wait().expect("wait").is_some();
        ended
    });
    let output = query.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("Is the scheduler running?"), "{stderr}");

    let error = fails_with(dir.path(), &["--scheduler", &url, "jobs"], &[]);
    assert!(error.contains("is the scheduler running?"), "{error}");
}
