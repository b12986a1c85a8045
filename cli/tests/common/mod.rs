//! Running the `lake` binary from the integration tests, and the real servers they talk to.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
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

/// A real S3 server (s3s-fs over a folder, installed by `scripts/ensure-test-servers.sh`) on a
/// free loopback port, with one bucket `lake`; stopped when dropped.
pub struct S3Server {
    child: Child,
    log: PathBuf,
    pub root: PathBuf,
    pub port: u16,
}

pub const S3_ACCESS_KEY: &str = "lake-test";
pub const S3_SECRET_KEY: &str = "lake-test-secret";

fn s3s_fs_binary() -> PathBuf {
    let path = std::env::var_os("LAKE_S3S_FS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/lake-tools/bin/s3s-fs")
        });
    assert!(
        path.is_file(),
        "the S3 test server {} is missing: run scripts/ensure-test-servers.sh (make test does)",
        path.display()
    );
    path
}

impl S3Server {
    pub fn start(dir: &Path) -> Self {
        let root = dir.join("s3");
        std::fs::create_dir_all(root.join("lake")).expect("bucket folder");
        let port = free_port();
        let log = dir.join("s3s-fs.log");
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(s3s_fs_binary())
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--access-key",
                S3_ACCESS_KEY,
                "--secret-key",
                S3_SECRET_KEY,
            ])
            .arg(&root)
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        let server = Self {
            child,
            log,
            root,
            port,
        };
        wait_for("the S3 server to listen", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        server
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `LAKE_S3_*` variables for a lake on this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LAKE_S3_ENDPOINT", self.endpoint()),
            ("LAKE_S3_ACCESS_KEY_ID", S3_ACCESS_KEY.to_string()),
            ("LAKE_S3_SECRET_ACCESS_KEY", S3_SECRET_KEY.to_string()),
            ("LAKE_S3_REGION", "us-east-1".to_string()),
        ]
    }

    /// The folder of an object key of bucket `lake`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.root.join("lake").join(key)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- s3s-fs log ---\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// `&[(String, String)]` → `&[(&str, &str)]` for `lake_with`.
pub fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
