//! Running the `lake` binary from the integration tests, and the real servers they talk to.

#![allow(dead_code)]

use std::path::Path;
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
    for name in [
        "LAKE_ROOT",
        "LAKE_SCHEDULER",
        "LAKE_CLUSTER_DIR",
        "LAKE_ENGINE",
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
    command.envs(env.iter().copied());
    command
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

/// `&[(String, String)]` → `&[(&str, &str)]` for `lake_with`.
pub fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
