//! The real servers the tests talk to over loopback (S3, FerretDB, Kafka, and our `lake-api`
//! process), the first three from the tools folder
//! `scripts/ensure-test-servers.sh` fills (`$LAKE_TOOLS_DIR`, default `~/.cache/lake-tools`).
//! Each starts on free ports, is waited for with a bound, prints its log when it fails to come
//! up, and stops on drop.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod api;
mod kafka;
mod s3;

pub use api::ApiProcess;
pub use kafka::Kafka;
pub use s3::{S3_ACCESS_KEY, S3_SECRET_KEY, S3Server, s3s_fs_binary};

/// How many cases a property test tries: `PROPTEST_CASES` when set (to search longer), else
/// `default` (what `make test` runs).
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A free loopback port (free when asked; the server binds it right after). Never the same port
/// twice in one test process: the system may hand a just-released port out again before the
/// server that was given it has bound it.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Waits until `port` accepts connections, or panics after `limit` with `log`'s content.
pub fn wait_for_port(port: u16, limit: Duration, what: &str, log: &Path) {
    let deadline = Instant::now() + limit;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on port {port} within {} s:\n{}",
            limit.as_secs(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The interpreter of the project's Python venv (scripts/ensure-python.sh): `$LAKE_VENV/bin/python`,
/// else `~/.cache/lake-venv/bin/python`.
pub fn venv_python() -> PathBuf {
    installed_tool(
        "LAKE_VENV",
        "lake-venv",
        "bin/python",
        "scripts/ensure-python.sh",
    )
}

/// A tool the project's scripts install outside the clone: `$ENV_VAR/relative` when the
/// variable is set, else `~/.cache/<default_dir>/relative`; panics naming the script to run.
pub fn installed_tool(env_var: &str, default_dir: &str, relative: &str, script: &str) -> PathBuf {
    let base = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache")
                .join(default_dir)
        });
    let path = base.join(relative);
    assert!(
        path.is_file(),
        "{} is missing: run {script} (make test does)",
        path.display()
    );
    path
}

/// A FerretDB server (MongoDB wire protocol over SQLite) on a free loopback port, from the tools
/// folder scripts/ensure-test-servers.sh fills; stopped on drop.
pub struct FerretDb {
    child: Option<Child>,
    dir: PathBuf,
    /// Its loopback port.
    pub port: u16,
}

impl FerretDb {
    fn binary() -> PathBuf {
        installed_tool(
            "LAKE_TOOLS_DIR",
            "lake-tools",
            "bin/ferretdb",
            "scripts/ensure-test-servers.sh",
        )
    }

    /// Starts a server keeping its data under `dir/ferretdb`, and waits until it accepts
    /// connections.
    pub fn start(dir: &Path) -> Self {
        let port = free_port();
        let mut server = Self {
            child: None,
            dir: dir.join("ferretdb"),
            port,
        };
        server.restart();
        server
    }

    /// Starts (again) on the same port and data folder, and waits until it accepts connections.
    pub fn restart(&mut self) {
        std::fs::create_dir_all(&self.dir).expect("ferretdb folder");
        let log = std::fs::File::create(self.dir.join("ferretdb.log")).expect("log file");
        let child = Command::new(Self::binary())
            .arg("--handler=sqlite")
            .arg(format!("--sqlite-url=file:{}/", self.dir.display()))
            .arg(format!("--listen-addr=127.0.0.1:{}", self.port))
            .arg(format!("--state-dir={}", self.dir.display()))
            .args(["--telemetry=disable", "--debug-addr=-", "--log-level=warn"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("ferretdb starts");
        self.child = Some(child);
        let log = self.dir.join("ferretdb.log");
        wait_for_port(self.port, Duration::from_secs(30), "FerretDB", &log);
    }

    /// Kills the server (its data stays; [`FerretDb::restart`] brings it back).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its `mongodb://` connection string.
    pub fn url(&self) -> String {
        format!("mongodb://127.0.0.1:{}/", self.port)
    }
}

impl Drop for FerretDb {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The hand-worked golden dataset (`core/tests/fixtures/golden/`) and the settings its expected
/// figures were worked out with, shared by every suite that runs it.
pub mod golden {
    use std::path::PathBuf;

    /// The source files, copied into a sources folder as they are.
    pub const FILES: [&str; 3] = ["clients.csv", "achats.csv", "achats_2025-07.csv"];
    /// The reference time of the runs: 2025-07-01 00:00:00.
    pub const AS_OF: &str = "2025-07-01 00:00:00";
    /// The blocking quarantine threshold: 10 of the 24 purchase rows are quarantined on purpose,
    /// so the default (5 %) is lifted to 50 %.
    pub const SEUIL_QUARANTAINE: f64 = 0.5;

    /// The folder of the golden fixtures.
    pub fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/golden")
    }
}
