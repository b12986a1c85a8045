//! A `lake-api` process for the tests that call it over HTTP (and Flight SQL), on the free
//! loopback ports it picks itself (`--bind 127.0.0.1:0`) and prints.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `lake-api`, stopped on drop.
pub struct ApiProcess {
    child: Child,
    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub base: String,
    /// `grpc://127.0.0.1:PORT` (`grpc+tls://` with TLS), unless started with
    /// `--flight-bind off`.
    pub flight: Option<String>,
}

impl ApiProcess {
    /// Starts `binary` with `args` in `dir` (its working folder, e.g. for a relative `--lake`)
    /// and reads the addresses it prints first; panics with what it printed instead when it
    /// exits before. `args` should bind port 0 (`--bind 127.0.0.1:0 --flight-bind 127.0.0.1:0`).
    pub fn start(binary: &Path, dir: Option<&Path>, args: &[&str]) -> Self {
        let flight_off = args.windows(2).any(|w| w == ["--flight-bind", "off"]);
        let mut command = Command::new(binary);
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let mut child = command
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", binary.display()));
        let stdout = child.stdout.take().expect("lake-api's stdout");
        // The first lines name the addresses; the process exits (EOF) if it cannot start.
        let mut lines = BufReader::new(stdout).lines();
        let mut next = |prefix: &str| {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("lake-api exited before printing {prefix:?}"))
                .expect("read lake-api's stdout");
            line.trim()
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
                .to_string()
        };
        // `http://…` or, with TLS, `https://…`; `grpc://…` or `grpc+tls://…`.
        let base = next("listening on ");
        let flight = (!flight_off).then(|| next("flight sql on "));
        Self {
            child,
            base,
            flight,
        }
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
