//! `lake-scheduler`: a Ballista 55 scheduler whose sessions know the lake's UDFs and read S3
//! (MinIO) from session options or the `AWS_*` environment. Every flag is Ballista's
//! (`lake-scheduler --help`); the REST API (`/api/executors`, `/api/jobs`, …) shares the gRPC port.

use std::sync::Arc;

use ballista_core::error::BallistaError;
use ballista_core::object_store::{session_config_with_s3_support, session_state_with_s3_support};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::{Config, SchedulerConfig};
use ballista_scheduler::scheduler_process::start_server;
use clap::Parser;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionConfig;
use tracing_subscriber::EnvFilter;

/// A session with S3 support and every lake UDF, for planning the jobs clients submit.
fn lake_session(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let mut state = session_state_with_s3_support(config)?;
    lake_udfs::register_all(&mut state)?;
    Ok(state)
}

#[tokio::main]
async fn main() -> ballista_core::error::Result<()> {
    let options = Config::parse();
    let filter =
        std::env::var(EnvFilter::DEFAULT_ENV).unwrap_or_else(|_| options.log_level_setting.clone());
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter(EnvFilter::new(filter))
        .init();

    let address = format!("{}:{}", options.bind_host, options.bind_port)
        .parse()
        .map_err(|e: std::net::AddrParseError| BallistaError::Configuration(e.to_string()))?;
    let config: SchedulerConfig = options.try_into()?;
    let config = config
        .with_override_config_producer(Arc::new(session_config_with_s3_support))
        .with_override_session_builder(Arc::new(lake_session));
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, address, Arc::new(config)).await
}
