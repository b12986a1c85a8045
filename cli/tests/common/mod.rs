//! Running the `lake` binary from the integration tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `lake` in `dir` with the default paths (`data/sources`, `lake/`), ignoring the caller's
/// `LAKE_ROOT` / `LAKE_SCHEDULER`.
pub fn lake(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lake"))
        .current_dir(dir)
        .args(args)
        .env_remove("LAKE_ROOT")
        .env_remove("LAKE_SCHEDULER")
        .output()
        .expect("lake runs")
}

/// Runs `lake` and returns its standard output; fails the test with both outputs otherwise.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = lake(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "lake {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
