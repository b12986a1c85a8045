//! The Rust side of the benchmark harness, run by the `lake bench` subcommands: [`refresh`]
//! (how long a new Gold takes to be served from MongoDB, end to end) and [`stream`] (the
//! stream processor's throughput and detection latency on Kafka), with the sample figures of
//! [`stats`]. The Python harnesses beside this crate (`engines/`, `dashboard/`, `serving/`)
//! drive the `lake` binary and write to `results/` the same way.

#![warn(missing_docs)]

/// `lake bench refresh`.
pub mod refresh;
/// Medians, percentiles and counts for the reports.
pub mod stats;
/// `lake bench stream`.
pub mod stream;

use std::path::PathBuf;

/// A MongoDB database.
#[derive(Debug, Clone)]
pub struct Mongo {
    /// `mongodb://127.0.0.1:27017`.
    pub mongo_url: String,
    /// Database name.
    pub mongo_db: String,
}

/// A Kafka cluster and the events topic.
#[derive(Debug, Clone)]
pub struct Kafka {
    /// Bootstrap servers.
    pub brokers: String,
    /// Events topic.
    pub topic: String,
}

/// Where the lake is, as `lake-api` is told by environment variables.
#[derive(Debug, Clone, Default)]
pub struct LakeLocation {
    /// A folder or `s3://bucket/prefix`.
    pub lake: String,
    /// The S3 connection settings, when the lake is on S3.
    pub s3: lake_core::S3Options,
}

/// Where a benchmark writes its `<name>-<date>-<label>.json` and `.md`.
#[derive(Debug, Clone)]
pub struct Output {
    /// Results folder; `None`: print only.
    pub out: Option<PathBuf>,
    /// Label of the result files.
    pub label: String,
}
