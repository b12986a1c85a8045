//! `lake-scheduler`: a Ballista 55 scheduler whose sessions know the lake's UDFs and read S3
//! (MinIO) from session options or the `AWS_*` environment. Every flag is Ballista's
//! (`lake-scheduler --help`); the REST API (`/api/executors`, `/api/jobs`, …) shares the gRPC port.

use std::sync::Arc;

use ballista_core::error::BallistaError;
use ballista_core::object_store::{session_config_with_s3_support, session_state_with_s3_support};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::{Config, SchedulerConfig};
use ballista_scheduler::scheduler_process::start_server;
use clap::{CommandFactory, FromArgMatches};
use datafusion::execution::SessionState;
use datafusion::prelude::SessionConfig;
use tracing_subscriber::EnvFilter;

// mimalloc, not glibc's allocator: DataFusion's operators allocate and free many short-lived
// buffers from every worker thread, and glibc's per-thread arenas kept freed memory mapped
// (the README's "Memory" notes give the measured difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const S3_HELP: &str = "S3 / MinIO: each job carries the client's s3.endpoint, s3.access_key_id, \
s3.secret_access_key, s3.region and s3.allow_http session options (lake sets them from its --s3-* \
flags); unset ones come from this process's environment: AWS_ENDPOINT, AWS_ACCESS_KEY_ID, \
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ALLOW_HTTP.\n\n\
REST API on the same port: /api/executors, /api/jobs, /api/job/{id}, /api/job/{id}/stages, \
/api/metrics. Logs: RUST_LOG (default: --log-level-setting).\n\n\
Example: lake-scheduler --bind-host 0.0.0.0 --bind-port 50050 --event-log-dir /var/lib/lake/events";

/// A session with S3 support and every lake UDF, for planning the jobs clients submit.
fn lake_session(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let mut state = session_state_with_s3_support(config)?;
    lake_udfs::register_all(&mut state)?;
    Ok(state)
}

#[tokio::main]
async fn main() -> ballista_core::error::Result<()> {
    let command = Config::command()
        .name("lake-scheduler")
        .about(
            "The lake's Ballista 55 scheduler: plans the SQL jobs clients submit (lake \
             --scheduler df://HOST:PORT …) and hands tasks to lake-executor processes. Every lake \
             UDF is registered; s3:// paths are read with the S3 settings below.",
        )
        .after_help(S3_HELP);
    let options = Config::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    // Our executors report no operator metrics on purpose (lake_core::execution_engine): the
    // warning that a stage has none would repeat for every stage.
    let filter = std::env::var(EnvFilter::DEFAULT_ENV).unwrap_or_else(|_| {
        format!(
            "{},ballista_scheduler::state::execution_stage=error",
            options.log_level_setting
        )
    });
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
