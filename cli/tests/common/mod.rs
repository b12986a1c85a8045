//! Running the `lake` binary from the integration tests, and the real servers they talk to.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs `lake` in `dir` with the default paths (`data/sources`, `lake/`), ignoring the caller's
/// `LAKE_*` settings.
pub fn lake(dir: &Path, args: &[&str]) -> Output {
    lake_with(dir, args, &[])
}

/// `lake` with extra environment variables.
pub fn lake_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    lake_command(dir, args, env).output().expect("lake runs")
}

/// The `lake` command, not started yet.
pub fn lake_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lake"));
    command.current_dir(dir).args(args);
    without_lake_settings(&mut command);
    command.envs(env.iter().copied());
    command
}

/// `command` without the caller's `LAKE_*`, `AWS_*` and server settings.
pub fn without_lake_settings(command: &mut Command) {
    for name in [
        "LAKE_ROOT",
        "LAKE_SCHEDULER",
        "LAKE_CLUSTER_DIR",
        "LAKE_ENGINE",
        "LAKE_MEMORY_LIMIT",
        "LAKE_SPILL_DIR",
        "LAKE_LEASE_WAIT",
        "LAKE_LEASE_TTL",
        "LAKE_S3_ENDPOINT",
        "LAKE_S3_ACCESS_KEY_ID",
        "LAKE_S3_SECRET_ACCESS_KEY",
        "LAKE_S3_REGION",
        "LAKE_S3_ALLOW_HTTP",
        "AWS_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "LAKE_MONGO_URL",
        "LAKE_MONGO_DB",
        "LAKE_KAFKA_BROKERS",
        "LAKE_KAFKA_TOPIC",
    ] {
        command.env_remove(name);
    }
}

/// Runs `lake` and returns its standard output; fails the test with both outputs otherwise.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    ok_with(dir, args, &[])
}

pub fn ok_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = lake_with(dir, args, env);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "lake {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `lake --lake LAKE compare OTHER` over Silver, Gold and ML but the model report (it holds
/// timings and run ids), run in `dir` with `env`; succeeds only when every table is the same.
/// Returns what it printed.
pub fn compare_every_layer(dir: &Path, lake: &str, other: &str, env: &[(&str, &str)]) -> String {
    let layers = ["--layer", "silver", "--layer", "gold", "--layer", "ml"];
    let args = [
        &["--lake", lake, "compare", other][..],
        &layers[..],
        &["--skip", "model_report"][..],
    ]
    .concat();
    ok_with(dir, &args, env)
}

/// Runs `lake`, expects it to fail, and returns its standard error.
pub fn fails_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = lake_with(dir, args, env);
    assert!(
        !out.status.success(),
        "lake {args:?} should have failed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Waits (bounded) until `done` holds, polling every 100 ms.
pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let clock = Instant::now();
    while !done() {
        assert!(
            clock.elapsed() < limit,
            "gave up after {} s waiting for {what}",
            limit.as_secs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[allow(unused_imports)]
pub use lake_testkit::{S3Server, free_port};

/// The engines benchmark harness (`benches/engines/bench_engines.py`) in the project's Python
/// venv, pointed at the binaries under test (`--lake-bin`); add its other options.
pub fn engines_harness() -> Command {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/engines/bench_engines.py");
    let binaries = Path::new(env!("CARGO_BIN_EXE_lake"))
        .parent()
        .expect("binary folder")
        .to_path_buf();
    let mut command = Command::new(lake_testkit::venv_python());
    command.arg(harness).arg("--lake-bin").arg(binaries);
    command
}

/// `&[(String, String)]` → `&[(&str, &str)]` for `lake_with`.
pub fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A `lake cluster up` in `dir/cluster`, stopped with `lake cluster down` when dropped; prints
/// the processes' logs when the test fails.
pub struct Cluster {
    dir: PathBuf,
    pub state_dir: String,
    pub scheduler: String,
}

impl Cluster {
    pub fn up(dir: &Path, extra: &[&str]) -> Self {
        let state_dir = dir.join("cluster").to_string_lossy().into_owned();
        let mut args = vec![
            "cluster",
            "up",
            "--state-dir",
            &state_dir,
            "--scheduler-port",
            "0",
            "--executor-base-port",
            "0",
        ];
        // Two task slots per executor unless the test chooses.
        if !extra.contains(&"--vcores") {
            args.extend_from_slice(&["--vcores", "2"]);
        }
        args.extend_from_slice(extra);
        ok(dir, &args);
        let state = read_json(&Path::new(&state_dir).join("cluster.json"));
        let scheduler = state["scheduler_url"]
            .as_str()
            .expect("scheduler url")
            .to_string();
        Self {
            dir: dir.to_path_buf(),
            state_dir,
            scheduler,
        }
    }

    pub fn pid(&self, name: &str) -> u32 {
        let state = read_json(&Path::new(&self.state_dir).join("cluster.json"));
        state["processes"]
            .as_array()
            .expect("processes")
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["pid"].as_u64())
            .unwrap_or_else(|| panic!("no {name} in cluster.json")) as u32
    }

    /// `lake jobs --format json` of this cluster.
    pub fn jobs(&self) -> Vec<serde_json::Value> {
        let out = ok(
            &self.dir,
            &[
                "jobs",
                "--state-dir",
                &self.state_dir,
                "--limit",
                "1000",
                "--format",
                "json",
            ],
        );
        if out.trim().is_empty() {
            return Vec::new();
        }
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("lake jobs JSON: {e}: {out}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for log in ["scheduler", "executor-1", "executor-2"] {
                let path = Path::new(&self.state_dir).join(format!("logs/{log}.log"));
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                eprintln!(
                    "--- {} (last lines) ---\n{}",
                    path.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
        }
        let _ = lake(
            &self.dir,
            &["cluster", "down", "--state-dir", &self.state_dir],
        );
    }
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Tables a layer published, from its local manifest.
pub fn published_tables(lake_dir: &Path, layer: &str) -> Vec<String> {
    let manifest = read_json(&lake_dir.join(format!("{layer}/_current.json")));
    manifest["tables"]
        .as_object()
        .expect("tables")
        .keys()
        .cloned()
        .collect()
}
