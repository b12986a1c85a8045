//! The cluster across hosts. Every other cluster test runs on loopback, where a wrong bind or
//! advertised address still works. Here the scheduler, each executor, and the client with the S3
//! server each get a network namespace of their own (a host with its own interfaces, addresses
//! and ports), joined by a bridge in a fifth namespace on a private subnet: nothing the test
//! starts is reachable from the machine's own network, and nothing it sends leaves those
//! namespaces. The scheduler and executors are started as `compose/` starts them (bind
//! `0.0.0.0`, advertise the host's address, the same ports on every host); the whole pipeline is
//! run from the client's namespace over S3, and must publish the same tables as standalone on a
//! local folder. The namespaces are removed when the test ends, failed or not; those of a test
//! run that was killed are removed by the next.
//!
//! Creating namespaces needs root (CI runs as root here).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{ok, wait_for, without_lake_settings};
use lake_testkit::{S3_ACCESS_KEY, S3_SECRET_KEY, s3s_fs_binary};

/// Every namespace of this test is named `lake-hosts-<pid>-<host>`.
const PREFIX: &str = "lake-hosts-";
/// The private subnet of the bridge, /24.
const SUBNET: &str = "10.77.0";
/// Each host and the last byte of its address.
const HOSTS: [(&str, u8); 4] = [("sched", 1), ("exec1", 2), ("exec2", 3), ("client", 10)];

const SCHEDULER_PORT: u16 = 50050;
const S3_PORT: u16 = 9000;
/// How long a server may take to answer after it started (a bound, not a measure).
const PATIENCE: Duration = Duration::from_secs(60);

fn address(host: &str) -> String {
    let last = HOSTS
        .iter()
        .find(|(name, _)| *name == host)
        .map(|(_, last)| *last)
        .unwrap_or_else(|| panic!("no host {host}"));
    format!("{SUBNET}.{last}")
}

/// Runs `ip` and fails the test with its error.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {}: {}(this test creates network namespaces: it must run as root)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespaces of the test, removed when dropped.
struct Network {
    id: String,
    created: Vec<String>,
}

impl Network {
    fn create() -> Self {
        remove_stale_namespaces();
        let mut network = Self {
            id: format!("{PREFIX}{}", std::process::id()),
            created: Vec::new(),
        };
        // The switch: a bridge, in a namespace of its own, with one port per host.
        let switch = network.add("switch");
        ip(&["-n", &switch, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &switch, "link", "set", "br0", "up"]);
        for (host, _) in HOSTS {
            let namespace = network.add(host);
            let port = format!("to-{host}");
            ip(&[
                "-n", &switch, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
                "netns", &namespace,
            ]);
            ip(&["-n", &switch, "link", "set", &port, "master", "br0", "up"]);
            let cidr = format!("{}/24", address(host));
            ip(&["-n", &namespace, "addr", "add", &cidr, "dev", "eth0"]);
            ip(&["-n", &namespace, "link", "set", "eth0", "up"]);
            ip(&["-n", &namespace, "link", "set", "lo", "up"]);
        }
        network
    }

    fn namespace(&self, host: &str) -> String {
        format!("{}-{host}", self.id)
    }

    fn add(&mut self, host: &str) -> String {
        let namespace = self.namespace(host);
        ip(&["netns", "add", &namespace]);
        self.created.push(namespace.clone());
        namespace
    }

    /// `program` run on `host`.
    fn command(&self, host: &str, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.namespace(host)])
            .arg(program);
        command
    }

    /// `lake` run on `host` in `dir`, with only the settings given.
    fn lake(&self, host: &str, dir: &Path, args: &[&str], env: &[(&str, String)]) -> String {
        let mut command = self.command(host, Path::new(env!("CARGO_BIN_EXE_lake")));
        without_lake_settings(&mut command);
        let out = command
            .current_dir(dir)
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("lake runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "lake {} on {host} failed:\n{stdout}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Whether `from` can open a TCP connection to `port` of `to`.
    fn connects(&self, from: &str, to: &str, port: u16) -> bool {
        let probe = format!("exec 3<>/dev/tcp/{}/{port}", address(to));
        self.command(from, Path::new("bash"))
            .args(["-c", &probe])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `GET url` from `host`, its body if it answered 2xx.
    fn get(&self, host: &str, url: &str) -> Option<String> {
        let out = self
            .command(host, Path::new("curl"))
            .args(["-fsS", "--max-time", "5", url])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        // The switch last: removing a host's namespace removes its cable.
        for namespace in self.created.iter().rev() {
            let _ = Command::new("ip")
                .args(["netns", "del", namespace])
                .status();
        }
    }
}

/// Namespaces left by a run of this test that was killed (its process is gone).
fn remove_stale_namespaces() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// A server started by the test, killed when dropped (its log shown if the test failed).
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(mut command: Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .spawn()
            .expect("server starts");
        Self { child, log }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            eprintln!(
                "--- {} (last lines) ---\n{}",
                self.log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

#[test]
fn pipeline_across_network_namespaces_matches_standalone() {
    let dir = tempfile::tempdir().expect("tmp");
    let network = Network::create();
    let binaries = Path::new(env!("CARGO_BIN_EXE_lake"))
        .parent()
        .expect("target folder")
        .to_path_buf();
    let state = dir.path().join("cluster");
    std::fs::create_dir_all(state.join("events")).expect("state folder");
    let scheduler = address("sched");

    // The object store, on the client's host.
    let s3_root = dir.path().join("s3");
    std::fs::create_dir_all(s3_root.join("lake")).expect("bucket folder");
    let mut command = network.command("client", &s3s_fs_binary());
    command
        .args(["--host", &address("client"), "--port", &S3_PORT.to_string()])
        .args(["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY])
        .arg(&s3_root);
    let _s3 = Server::start(command, dir.path().join("s3s-fs.log"));

    // The scheduler and the executors, each on its host, started the documented way.
    let mut command = network.command("sched", &binaries.join("lake-scheduler"));
    command.args([
        "--bind-host",
        "0.0.0.0",
        "--external-host",
        &scheduler,
        "--bind-port",
        &SCHEDULER_PORT.to_string(),
        "--event-log-dir",
        &state.join("events").to_string_lossy(),
    ]);
    let _scheduler = Server::start(command, state.join("scheduler.log"));
    let mut executors = Vec::new();
    for (index, host) in ["exec1", "exec2"].into_iter().enumerate() {
        let id = format!("executor-{}", index + 1);
        let work = state.join("work").join(&id);
        std::fs::create_dir_all(&work).expect("work folder");
        let mut command = network.command(host, &binaries.join("lake-executor"));
        command.args([
            "--id",
            &id,
            "--bind-host",
            "0.0.0.0",
            "--external-host",
            &address(host),
            "--bind-port",
            "50051",
            "--bind-grpc-port",
            "50052",
            "--bind-health-port",
            "50053",
            "--scheduler-host",
            &scheduler,
            "--scheduler-port",
            &SCHEDULER_PORT.to_string(),
            "--vcores",
            "2",
            "--work-dir",
            &work.to_string_lossy(),
        ]);
        executors.push(Server::start(command, state.join(format!("{id}.log"))));
    }

    // Each host reaches the others on the bridge.
    wait_for("the S3 server, from the client", PATIENCE, || {
        network.connects("client", "client", S3_PORT)
    });
    for host in ["exec1", "exec2", "client"] {
        wait_for(&format!("the scheduler, from {host}"), PATIENCE, || {
            network.connects(host, "sched", SCHEDULER_PORT)
        });
    }
    // Both executors registered, each advertising its own host's address.
    let executors_url = format!("http://{scheduler}:{SCHEDULER_PORT}/api/executors");
    let mut registered = serde_json::Value::Null;
    wait_for("two executors registered", PATIENCE, || {
        registered = network
            .get("client", &executors_url)
            .and_then(|body| serde_json::from_str(&body).ok())
            .unwrap_or_default();
        registered.as_array().is_some_and(|list| list.len() == 2)
    });
    let mut advertised: Vec<(String, String)> = registered
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["id"].as_str().unwrap_or_default().to_string(),
                e["host"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    advertised.sort();
    assert_eq!(
        advertised,
        [
            ("executor-1".to_string(), address("exec1")),
            ("executor-2".to_string(), address("exec2")),
        ]
    );

    // The whole pipeline from the client's host, over S3 on the bridge…
    let remote = dir.path().join("remote");
    let local = dir.path().join("local");
    for folder in [&remote, &local] {
        std::fs::create_dir_all(folder).expect("folder");
        ok(folder, &["generate", "--scale", "0.01", "--seed", "5"]);
    }
    let s3_env = [
        (
            "LAKE_S3_ENDPOINT",
            format!("http://{}:{S3_PORT}", address("client")),
        ),
        ("LAKE_S3_ACCESS_KEY_ID", S3_ACCESS_KEY.to_string()),
        ("LAKE_S3_SECRET_ACCESS_KEY", S3_SECRET_KEY.to_string()),
        ("LAKE_S3_REGION", "us-east-1".to_string()),
    ];
    let scheduler_url = format!("df://{scheduler}:{SCHEDULER_PORT}");
    let lake_url = "s3://lake/pipeline";
    let out = network.lake(
        "client",
        &remote,
        &["--scheduler", &scheduler_url, "--lake", lake_url, "run"],
        &s3_env,
    );
    assert!(
        out.contains(&format!("on ballista-remote {scheduler_url}")),
        "{out}"
    );
    assert!(
        s3_root.join("lake/pipeline/gold/_current.json").is_file(),
        "Gold is published on the S3 server"
    );

    // …publishes the same tables as standalone on a local folder (run without a network).
    ok(&local, &["run"]);
    let compared = network.lake(
        "client",
        &local,
        &[
            "--lake",
            "lake",
            "compare",
            lake_url,
            "--layer",
            "silver",
            "--layer",
            "gold",
            "--layer",
            "ml",
            "--skip",
            "model_report",
        ],
        &s3_env,
    );
    assert!(
        compared.contains(&format!("tables: the same rows in {lake_url}")),
        "{compared}"
    );

    // Both executors, each on its own host, ran tasks of the Silver and Gold jobs.
    let jobs = network.lake(
        "client",
        dir.path(),
        &[
            "--scheduler",
            &scheduler_url,
            "jobs",
            "--state-dir",
            &state.to_string_lossy(),
            "--limit",
            "1000",
            "--format",
            "json",
        ],
        &[],
    );
    let jobs: Vec<serde_json::Value> =
        serde_json::from_str(&jobs).unwrap_or_else(|e| panic!("lake jobs JSON: {e}: {jobs}"));
    let mut tasks = std::collections::BTreeMap::<String, u64>::new();
    for job in &jobs {
        assert_eq!(job["status"], "Completed", "{job}");
        for entry in job["tasks"].as_str().unwrap_or_default().split_whitespace() {
            let (executor, n) = entry.split_once(':').expect("executor:count");
            *tasks.entry(executor.to_string()).or_default() += n.parse::<u64>().expect("count");
        }
    }
    assert!(
        tasks.len() == 2 && tasks.values().all(|n| *n > 0),
        "tasks per executor: {tasks:?}"
    );
}
