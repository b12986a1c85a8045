//! Our scheduler and two executors as processes on loopback: the whole pipeline runs on the
//! cluster (UDFs registered on every hop), and gives the same Gold as Ballista standalone.

mod common;

use common::ok;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Binaries of the workspace, built beside `lake` by `cargo test --workspace`.
fn sibling_binary(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_lake")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (make test does)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Kills the cluster's processes when the test ends, whatever happens; prints their logs on
/// failure.
struct Cluster {
    children: Vec<(String, Child, PathBuf)>,
    scheduler_port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (name, child, log) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
            if std::thread::panicking() {
                eprintln!(
                    "--- {name} log ---\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
        }
    }
}

fn spawn(dir: &Path, name: &str, binary: &str, args: &[String]) -> (String, Child, PathBuf) {
    let log = dir.join(format!("{name}.log"));
    let file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(sibling_binary(binary))
        .args(args)
        .stdout(file.try_clone().expect("log handle"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    (name.to_string(), child, log)
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

fn start_cluster(dir: &Path) -> Cluster {
    let scheduler_port = free_port();
    let mut children = vec![spawn(
        dir,
        "scheduler",
        "lake-scheduler",
        &[
            "--bind-host".into(),
            "127.0.0.1".into(),
            "--external-host".into(),
            "127.0.0.1".into(),
            "--bind-port".into(),
            scheduler_port.to_string(),
        ],
    )];
    for i in 1..=2 {
        let work = dir.join(format!("executor-{i}"));
        std::fs::create_dir_all(&work).expect("work dir");
        children.push(spawn(
            dir,
            &format!("executor-{i}"),
            "lake-executor",
            &[
                "--bind-host".into(),
                "127.0.0.1".into(),
                "--external-host".into(),
                "127.0.0.1".into(),
                "--bind-port".into(),
                free_port().to_string(),
                "--bind-grpc-port".into(),
                free_port().to_string(),
                "--bind-health-port".into(),
                free_port().to_string(),
                "--scheduler-host".into(),
                "127.0.0.1".into(),
                "--scheduler-port".into(),
                scheduler_port.to_string(),
                "--scheduler-connect-timeout-seconds".into(),
                "30".into(),
                "--vcores".into(),
                "2".into(),
                "--work-dir".into(),
                work.to_string_lossy().into_owned(),
            ],
        ));
    }
    let cluster = Cluster {
        children,
        scheduler_port,
    };
    // Wait (bounded) until the scheduler lists both executors.
    let started = Instant::now();
    loop {
        let executors = http_get(scheduler_port, "/api/executors")
            .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
            .and_then(|v| v.as_array().map(|a| a.len()))
            .unwrap_or(0);
        if executors == 2 {
            return cluster;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the scheduler lists {executors} executor(s) after 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn pipeline_on_the_cluster_matches_standalone() {
    let dir = tempfile::tempdir().expect("tmp");
    let cluster = start_cluster(dir.path());
    let scheduler = format!("df://127.0.0.1:{}", cluster.scheduler_port);

    let remote = dir.path().join("remote");
    let local = dir.path().join("local");
    for d in [&remote, &local] {
        std::fs::create_dir_all(d).expect("dir");
        ok(d, &["generate", "--scale", "0.01", "--seed", "5"]);
    }
    let out = ok(&remote, &["--scheduler", &scheduler, "run"]);
    assert!(
        out.contains(&format!("on ballista-remote {scheduler}")),
        "{out}"
    );
    ok(&local, &["run"]);

    // A UDF evaluated by the cluster.
    let udf = ok(
        &remote,
        &[
            "--scheduler",
            &scheduler,
            "sql",
            "SELECT parse_amount('12,50 €') AS m",
            "--format",
            "csv",
        ],
    );
    assert_eq!(udf, "m\n12.50\n");

    for table in [
        "kpi_globaux",
        "concentration",
        "kpi_retention ORDER BY mois",
        "dim_rfm ORDER BY id_client",
    ] {
        let query = format!("SELECT * FROM gold.{table}");
        let on_cluster = ok(
            &remote,
            &["--scheduler", &scheduler, "sql", &query, "--format", "csv"],
        );
        let on_standalone = ok(&local, &["sql", &query, "--format", "csv"]);
        assert_same_csv(&on_cluster, &on_standalone, table);
    }
}

/// Same rows and cells; floating-point cells within a relative 1e-9 (sums of doubles depend on
/// the order partitions are added in), every other cell exactly.
fn assert_same_csv(left: &str, right: &str, table: &str) {
    let (l, r): (Vec<&str>, Vec<&str>) = (left.lines().collect(), right.lines().collect());
    assert_eq!(l.len(), r.len(), "gold.{table}: row counts differ");
    for (a, b) in l.iter().zip(&r) {
        let (ca, cb): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        assert_eq!(ca.len(), cb.len(), "gold.{table}: {a} / {b}");
        for (x, y) in ca.iter().zip(&cb) {
            let close = match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(p), Ok(q)) if x.contains('.') || y.contains('.') => {
                    (p - q).abs() <= 1e-9 * p.abs().max(q.abs()).max(1.0)
                }
                _ => x == y,
            };
            assert!(
                close,
                "gold.{table} differs between the cluster and standalone: {a} / {b}"
            );
        }
    }
}
