//! S3: s3s-fs serving a folder, one bucket `lake`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{free_port, installed_tool, wait_for_port};

/// A real S3 server (s3s-fs over a folder, installed by `scripts/ensure-test-servers.sh`) on a
/// free loopback port, with one bucket `lake`; stopped when dropped.
pub struct S3Server {
    child: Child,
    log: PathBuf,
    /// The folder the server keeps its buckets in (one sub-folder per bucket).
    pub root: PathBuf,
    /// Its loopback port.
    pub port: u16,
}

/// The access key id of the test S3 server.
pub const S3_ACCESS_KEY: &str = "lake-test";
/// Its secret access key.
pub const S3_SECRET_KEY: &str = "lake-test-secret";

/// The S3 server's program (for tests that start it themselves, e.g. in a network namespace).
pub fn s3s_fs_binary() -> PathBuf {
    installed_tool(
        "LAKE_TOOLS_DIR",
        "lake-tools",
        "bin/s3s-fs",
        "scripts/ensure-test-servers.sh",
    )
}

impl S3Server {
    /// Starts a server over `dir/s3` with the bucket `lake`, and waits until it listens.
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
        wait_for_port(port, Duration::from_secs(30), "the S3 server", &server.log);
        server
    }

    /// Its `http://` endpoint.
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
