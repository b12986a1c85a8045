//! `lake-executor`: a Ballista 55 executor that can run the lake's UDFs and read and write S3
//! (MinIO) from session options or the `AWS_*` environment. Every flag is Ballista's
//! (`lake-executor --help`); `/healthz` and `/readyz` answer on `--bind-health-port`.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::error::BallistaError;
use ballista_core::object_store::{runtime_env_with_s3_support, session_config_with_s3_support};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::config::Config;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_executor::health::spawn_health_server;
use clap::Parser;
use datafusion::execution::SessionStateBuilder;
use tracing_subscriber::EnvFilter;

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

#[tokio::main]
async fn main() -> ballista_core::error::Result<()> {
    let options = Config::parse();
    let health_address: SocketAddr = format!("{}:{}", options.bind_host, options.bind_health_port)
        .parse()
        .map_err(|e| BallistaError::General(format!("invalid --bind-health-port address: {e}")))?;

    let mut config: ExecutorProcessConfig = options.try_into()?;
    config.override_config_producer = Some(Arc::new(session_config_with_s3_support));
    config.override_runtime_producer = Some(Arc::new(runtime_env_with_s3_support));
    config.override_function_registry = Some(Arc::new(lake_functions()));

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
