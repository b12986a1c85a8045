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
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::SessionConfig;
use lake_core::table_write::LakeQueryPlanner;
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
Tasks: --task-distribution defaults to round-robin here (Ballista's default, bias, fills one \
executor's slots before the next, which then holds every task's memory).\n\n\
Example: lake-scheduler --bind-host 0.0.0.0 --bind-port 50050 --event-log-dir /var/lib/lake/events";

/// A session with S3 support, every lake UDF and the lake's planner (its parallel table writes),
/// for planning the jobs clients submit.
fn lake_session(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let state = session_state_with_s3_support(config)?;
    let mut state = SessionStateBuilder::new_from_existing(state)
        .with_query_planner(Arc::new(LakeQueryPlanner))
        .build();
    lake_udfs::register_all(&mut state)?;
    Ok(state)
}

/// Ballista's scheduler flags, with the lake's name, help and defaults.
fn command() -> clap::Command {
    Config::command()
        .name("lake-scheduler")
        .about(
            "The lake's Ballista 55 scheduler: plans the SQL jobs clients submit (lake \
             --scheduler df://HOST:PORT …) and hands tasks to lake-executor processes. Every lake \
             UDF is registered; s3:// paths are read with the S3 settings below.",
        )
        .after_help(S3_HELP)
        // Ballista's default policy ("bias") fills one executor's slots before the next: with
        // two executors of two slots and two partitions per stage, one executor ran every task
        // and held all the memory (SF 100: 12 GB against 1.7 GB for the other). Round-robin
        // hands each executor a task in turn.
        .mut_arg("task_distribution", |arg| arg.default_value("round-robin"))
}

#[tokio::main]
async fn main() -> ballista_core::error::Result<()> {
    let options = Config::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
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
    // The lake's plan nodes travel in the plans clients submit and the tasks executors run.
    let config = SchedulerConfig {
        override_logical_codec: Some(lake_core::codec::logical()),
        override_physical_codec: Some(lake_core::codec::physical()),
        ..config
    };
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, address, Arc::new(config)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballista_scheduler::config::TaskDistribution;

    #[test]
    fn tasks_are_handed_round_robin_unless_asked_otherwise() {
        let parse = |args: &[&str]| {
            Config::from_arg_matches(&command().get_matches_from(args)).expect("valid flags")
        };
        let default = parse(&["lake-scheduler"]);
        assert!(
            matches!(default.task_distribution, TaskDistribution::RoundRobin),
            "{:?}",
            default.task_distribution
        );
        let asked = parse(&["lake-scheduler", "--task-distribution", "bias"]);
        assert!(
            matches!(asked.task_distribution, TaskDistribution::Bias),
            "{:?}",
            asked.task_distribution
        );
    }
}
