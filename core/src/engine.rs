//! The query engine a lake job runs on: Ballista standalone (in-process scheduler and executor,
//! the default), a remote Ballista cluster (`df://host:port`), or plain DataFusion in this
//! process (a reference without distribution). All three get the lake's UDFs and object store.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{LakeError, Result};
use crate::storage::Lake;

/// Where SQL jobs run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineKind {
    /// Ballista scheduler and executor started inside this process.
    Standalone,
    /// A Ballista scheduler at `df://host:port` with its executors.
    Remote(String),
    /// DataFusion alone, in this process.
    DataFusion,
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineKind::Standalone => f.write_str("ballista-standalone"),
            EngineKind::Remote(url) => write!(f, "ballista-remote {url}"),
            EngineKind::DataFusion => f.write_str("datafusion"),
        }
    }
}

impl FromStr for EngineKind {
    type Err = LakeError;

    /// `standalone`, `datafusion`, or a scheduler URL `df://host:port`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "standalone" | "ballista-standalone" => Ok(EngineKind::Standalone),
            "datafusion" => Ok(EngineKind::DataFusion),
            url if url.starts_with("df://") => Ok(EngineKind::Remote(url.to_string())),
            other => Err(LakeError::BadSetting {
                name: "engine".into(),
                reason: format!(
                    "{other:?}: expected standalone, datafusion or a scheduler URL df://host:port"
                ),
            }),
        }
    }
}

/// Partitions per query: one per core by default.
pub fn default_partitions() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn runtime_for(lake: &Lake) -> Result<Arc<RuntimeEnv>> {
    let runtime = RuntimeEnvBuilder::new().build_arc()?;
    if lake.is_s3() {
        runtime.register_object_store(lake.store_url(), lake.store());
    }
    Ok(runtime)
}

/// Opens a session on the chosen engine, with the lake's UDFs and object store registered.
pub async fn connect(kind: &EngineKind, lake: &Lake, partitions: usize) -> Result<SessionContext> {
    let setup_error = |e: datafusion::error::DataFusionError| LakeError::EngineSetup {
        engine: kind.to_string(),
        reason: e.to_string(),
    };
    let ctx = match kind {
        EngineKind::DataFusion => {
            let config = SessionConfig::new().with_target_partitions(partitions);
            let state = SessionStateBuilder::new()
                .with_config(config)
                .with_runtime_env(runtime_for(lake)?)
                .with_default_features()
                .build();
            SessionContext::new_with_state(state)
        }
        EngineKind::Standalone => {
            let config = SessionConfig::new_with_ballista()
                .with_target_partitions(partitions)
                .with_ballista_standalone_parallelism(partitions);
            let mut state = SessionStateBuilder::new()
                .with_config(config)
                .with_runtime_env(runtime_for(lake)?)
                .with_default_features()
                .build();
            // The in-process scheduler and executor take their functions from this state.
            lake_udfs::register_all(&mut state).map_err(setup_error)?;
            SessionContext::standalone_with_state(state)
                .await
                .map_err(setup_error)?
        }
        EngineKind::Remote(url) => {
            let config = SessionConfig::new_with_ballista().with_target_partitions(partitions);
            let state = SessionStateBuilder::new()
                .with_config(config)
                .with_runtime_env(runtime_for(lake)?)
                .with_default_features()
                .build();
            SessionContext::remote_with_state(url, state)
                .await
                .map_err(setup_error)?
        }
    };
    // Ballista rebuilds the client state's function list: register on the final context too.
    for udf in lake_udfs::all_udfs() {
        ctx.register_udf(udf.as_ref().clone());
    }
    Ok(ctx)
}
