//! `lake-executor`: a Ballista 55 executor that can run the lake's UDFs and read and write S3
//! (MinIO) from session options or the `AWS_*` environment. Every flag is Ballista's
//! (`lake-executor --help`); `/healthz` and `/readyz` answer on `--bind-health-port`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::RuntimeProducer;
use ballista_core::error::BallistaError;
use ballista_core::object_store::{runtime_env_with_s3_support, session_config_with_s3_support};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::config::Config;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_executor::health::spawn_health_server;
use clap::{CommandFactory, FromArgMatches};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use lake_core::execution_engine::WithoutOperatorMetrics;
use lake_core::memory::{self, SpillCounter};
use tracing_subscriber::EnvFilter;

// mimalloc, not glibc's allocator: DataFusion's operators allocate and free many short-lived
// buffers from every worker thread, and glibc's per-thread arenas kept freed memory mapped
// (the README's "Memory" notes give the measured difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const S3_HELP: &str = "S3 / MinIO: each task carries the client's s3.endpoint, s3.access_key_id, \
s3.secret_access_key, s3.region and s3.allow_http session options (lake sets them from its --s3-* \
flags); unset ones come from this process's environment: AWS_ENDPOINT, AWS_ACCESS_KEY_ID, \
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ALLOW_HTTP.\n\n\
Memory: --memory-pool-size bounds the operators of this executor's tasks (split across \
--vcores); sorts and aggregates past their share spill into <work dir>/spill, and each task that \
spilled logs how much. `lake cluster up --executor-memory` sets it.\n\n\
Health: GET /healthz and /readyz on --bind-health-port. Logs: RUST_LOG (default: \
--log-level-setting).\n\n\
Example: lake-executor --scheduler-host 127.0.0.1 --scheduler-port 50050 --bind-port 50051 \
--bind-grpc-port 50052 --bind-health-port 50053 --vcores 2 --work-dir /var/lib/lake/work";

/// Every function a default DataFusion session has (nested ones such as `generate_series`
/// included, which Ballista's default registry lacks), plus every lake UDF.
fn lake_functions() -> BallistaFunctionRegistry {
    let state = SessionStateBuilder::new().with_default_features().build();
    let mut registry = BallistaFunctionRegistry::from(&state);
    for udf in lake_udfs::all_udfs() {
        registry
            .scalar_functions
            .insert(udf.name().to_string(), udf);
    }
    registry
}

/// Ballista's S3-aware runtime, spilling into `<work dir>/spill` (the system's temporary
/// directory without --work-dir). The memory pool is Ballista's: --memory-pool-size, split
/// across the task slots.
fn runtime_with_counted_spills(work_dir: Option<&str>) -> RuntimeProducer {
    let spill_dir = work_dir.map(|dir| PathBuf::from(dir).join("spill"));
    let spilled = Arc::new(SpillCounter::default());
    Arc::new(move |session_config| {
        let base = runtime_env_with_s3_support(session_config)?;
        memory::with_counted_spills(
            RuntimeEnvBuilder::from_runtime_env(&base),
            spill_dir.as_deref(),
            spilled.clone(),
        )?
        .build_arc()
    })
}

#[tokio::main]
async fn main() -> ballista_core::error::Result<()> {
    let command = Config::command()
        .name("lake-executor")
        .about(
            "The lake's Ballista 55 executor: runs the tasks of lake-scheduler's jobs, with every \
             lake UDF, reading and writing s3:// with the S3 settings below.",
        )
        .after_help(S3_HELP);
    let options = Config::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    let health_address: SocketAddr = format!("{}:{}", options.bind_host, options.bind_health_port)
        .parse()
        .map_err(|e| BallistaError::General(format!("invalid --bind-health-port address: {e}")))?;

    let mut config: ExecutorProcessConfig = options.try_into()?;
    config.override_config_producer = Some(Arc::new(session_config_with_s3_support));
    config.override_runtime_producer =
        Some(runtime_with_counted_spills(config.work_dir.as_deref()));
    config.override_function_registry = Some(Arc::new(lake_functions()));
    // The lake's plan nodes (its parallel table writes) come in the tasks' plans.
    config.override_logical_codec = Some(lake_core::codec::logical());
    config.override_physical_codec = Some(lake_core::codec::physical());
    // Ballista's scheduler can refuse a finished task's status over its operator metrics and
    // wait for ever (see lake_core::execution_engine): report none.
    config.override_execution_engine = Some(Arc::new(WithoutOperatorMetrics::new()));

    let filter = std::env::var(EnvFilter::DEFAULT_ENV)
        .unwrap_or_else(|_| config.special_mod_log_level.clone());
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter(EnvFilter::new(filter))
        .init();

    let (health_stop, health_stopped) = tokio::sync::oneshot::channel();
    let health = spawn_health_server(health_address, config.health.clone(), health_stopped);
    let result = start_executor_process(Arc::new(config)).await;
    let _ = health_stop.send(());
    let _ = health.await;
    result
}
