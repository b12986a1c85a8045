//! The query engine a lake job runs on: Ballista standalone (in-process scheduler and executor,
//! the default), a remote Ballista cluster (`df://host:port`), or plain DataFusion in this
//! process (a reference without distribution). All three get the lake's UDFs and object store.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use std::net::ToSocketAddrs;
use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::config::{BALLISTA_ADAPTIVE_PLANNER_ENABLED, BALLISTA_JOB_NAME, BallistaConfig};
use ballista_core::extension::SessionStateExt;
use ballista_core::object_store::S3Options as ClusterS3Options;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{LakeError, Result};
use crate::memory::{self, MemorySettings, SpillCounter};
use crate::storage::{Lake, S3Options};
use crate::table_write::LakeQueryPlanner;

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

/// The session setting holding the partitions per query.
pub const TARGET_PARTITIONS: &str = "datafusion.execution.target_partitions";

/// Purchases per partition that keep a cluster's executors bounded (see [`cluster_partitions`]).
pub const PURCHASES_PER_PARTITION: u64 = 1_000_000;

/// Most partitions sized from the data: the largest count measured (SF 100, 1 GiB per
/// executor). Each shuffle writes partitions × partitions files, so more is not free.
pub const MAX_PARTITIONS_FROM_DATA: usize = 32;

/// Partitions per query on a cluster for `purchases` in Bronze: about a million purchases each
/// (SF 10: 10, SF 100: 32 at most), never fewer than `floor` (the default, one per core).
///
/// Ballista 55 holds a shuffle partition fetched from another executor whole in memory,
/// outside the executor's pool, so on a cluster a partition's size bounds an executor's
/// memory; on one process (standalone, DataFusion) partitions are read as streams, and the
/// count stays one per core.
pub fn cluster_partitions(purchases: u64, floor: usize) -> usize {
    let by_size = purchases.div_ceil(PURCHASES_PER_PARTITION);
    usize::try_from(by_size)
        .unwrap_or(usize::MAX)
        .min(MAX_PARTITIONS_FROM_DATA)
        .max(floor)
}

/// The runtime of this process's queries: the lake's object store, the memory pool of
/// `memory`, and spill files counted by `spill`.
fn runtime_for(
    lake: &Lake,
    memory: &MemorySettings,
    spill: Arc<SpillCounter>,
) -> Result<Arc<RuntimeEnv>> {
    let runtime = memory::runtime_builder(memory, spill)?.build_arc()?;
    if lake.is_s3() {
        runtime.register_object_store(lake.store_url(), lake.store());
    }
    Ok(runtime)
}

/// How long the scheduler may take to accept a connection before the CLI gives up.
const SCHEDULER_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Fails fast, naming the URL, when nothing listens at a `df://host:port` scheduler URL
/// (Ballista's client would otherwise retry for a long time).
fn check_scheduler_reachable(url: &str) -> Result<()> {
    let unreachable = |reason: String| LakeError::EngineSetup {
        engine: format!("ballista-remote {url}"),
        reason: format!(
            "{reason}. Is the scheduler running? Start a local cluster with `lake cluster up`, \
             or check --scheduler / LAKE_SCHEDULER"
        ),
    };
    let host_port = url
        .strip_prefix("df://")
        .unwrap_or(url)
        .trim_end_matches('/');
    let addresses: Vec<_> = host_port
        .to_socket_addrs()
        .map_err(|e| {
            unreachable(format!(
                "cannot resolve {host_port:?} (expected host:port): {e}"
            ))
        })?
        .collect();
    let mut last_error = None;
    for address in &addresses {
        match std::net::TcpStream::connect_timeout(address, SCHEDULER_CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last_error = Some(format!("cannot connect to {address}: {e}")),
        }
    }
    Err(unreachable(last_error.unwrap_or_else(|| {
        format!("{host_port:?} resolves to no address")
    })))
}

/// The lake's S3 settings as `s3.*` session options: they travel with every job, so the
/// scheduler and executors reach the same endpoint with the same credentials as this client.
/// Unset ones are left to the cluster's own `AWS_*` environment.
fn cluster_s3_config(config: SessionConfig, lake: &Lake, s3: &S3Options) -> Result<SessionConfig> {
    let mut config = config.with_option_extension(ClusterS3Options::default());
    let mut settings: Vec<(&str, String)> = Vec::new();
    if let Some(endpoint) = lake.endpoint() {
        settings.push(("s3.endpoint", endpoint.to_string()));
    }
    if let (Some(key), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
        settings.push(("s3.access_key_id", key.clone()));
        settings.push(("s3.secret_access_key", secret.clone()));
    }
    if let Some(region) = &s3.region {
        settings.push(("s3.region", region.clone()));
    }
    if s3.allow_http || lake.endpoint().is_some_and(|e| e.starts_with("http://")) {
        settings.push(("s3.allow_http", "true".into()));
    }
    for (key, value) in settings {
        config.options_mut().set(key, &value)?;
    }
    Ok(config)
}

/// Names the Ballista jobs this context submits next (shown by `lake jobs` and the scheduler's
/// REST API). Plain DataFusion sessions have no job names and are left as they are.
pub fn name_next_jobs(ctx: &SessionContext, name: &str) {
    let state = ctx.state_ref();
    let mut state = state.write();
    let options = state.config_mut().options_mut();
    if options.extensions.get::<BallistaConfig>().is_some() {
        // The key is Ballista's own and the value a plain string: setting it cannot fail.
        let _ = options.set(BALLISTA_JOB_NAME, name);
    }
}

/// Applies `key=value` session settings (`datafusion.*`, `ballista.*`, `s3.*`); an unknown key
/// or a bad value is an error naming it. On Ballista they travel with every job.
pub fn apply_settings(ctx: &SessionContext, settings: &[(String, String)]) -> Result<()> {
    let state = ctx.state_ref();
    let mut state = state.write();
    for (key, value) in settings {
        state
            .config_mut()
            .options_mut()
            .set(key, value)
            .map_err(|e| LakeError::BadSetting {
                name: key.clone(),
                reason: e.to_string(),
            })?;
    }
    Ok(())
}

/// The session settings of every Ballista job, standalone or on a cluster.
///
/// - **The static planner.** Ballista 55's adaptive planner (AQE) re-plans a job after each
///   stage. When a finished stage turns out empty it can drop a join side that is still running
///   ("there are stages to be cancelled but its not implemented"), and the job then never
///   completes: seen on standalone with a one-month dataset, whose `gold.kpi_retention` has no
///   row (one core at 100 % for ever). It also left a job running for ever after an executor
///   was killed mid-stage on the cluster, where the static planner reschedules the lost tasks on
///   the survivors. `--set ballista.planner.adaptive.enabled=true` brings AQE back.
/// - **Partitioned hash joins.** Ballista's session defaults to sort-merge joins, which the
///   static planner keeps; hash joins halve Silver (the de-duplication's anti-join: 3.9 s → 1.4 s
///   at SF 1 on the cluster). Only partitioned ones: a "collect left" hash join builds its small
///   side in every task, and tasks on different executors do not share which build rows matched,
///   so a semi or anti join on a small table returned wrong rows (seen at SF 0.01 on the
///   cluster: silver.achats lost two thirds of its rows).
///
/// The lake's plan codecs ([`crate::codec`]) go with it: the client encodes its writes with
/// them, and the standalone scheduler and executor take them from this config.
fn ballista_config(partitions: usize) -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(crate::codec::logical())
        .with_ballista_physical_extension_codec(crate::codec::physical())
        .with_target_partitions(partitions)
        .set_bool(BALLISTA_ADAPTIVE_PLANNER_ENABLED, false)
        .set_bool("datafusion.optimizer.prefer_hash_join", true)
        .set_usize(
            "datafusion.optimizer.hash_join_single_partition_threshold",
            0,
        )
        .set_usize(
            "datafusion.optimizer.hash_join_single_partition_threshold_rows",
            0,
        )
}

/// What an open engine holds beside its context: the in-process standalone scheduler, its
/// executor's work folder (removed when the session ends), and what this process spilled.
#[derive(Debug, Default)]
pub struct EngineResources {
    _work_dir: Option<tempfile::TempDir>,
    /// The in-process scheduler, on standalone.
    pub standalone: Option<crate::standalone::StandaloneScheduler>,
    /// The spill files of this process's queries (a cluster's executors count their own).
    pub spill: Arc<SpillCounter>,
}

/// Opens a session on the chosen engine, with the lake's UDFs and object store registered.
pub async fn connect(
    kind: &EngineKind,
    lake: &Lake,
    s3: &S3Options,
    partitions: usize,
    memory: &MemorySettings,
) -> Result<(SessionContext, EngineResources)> {
    let mut resources = EngineResources::default();
    let runtime = runtime_for(lake, memory, resources.spill.clone())?;
    let setup_error = |e: datafusion::error::DataFusionError| LakeError::EngineSetup {
        engine: kind.to_string(),
        reason: e.to_string(),
    };
    let ctx = match kind {
        EngineKind::DataFusion => {
            let config = SessionConfig::new().with_target_partitions(partitions);
            let state = SessionStateBuilder::new()
                .with_config(config)
                .with_runtime_env(runtime.clone())
                .with_default_features()
                .with_query_planner(Arc::new(LakeQueryPlanner))
                .build();
            SessionContext::new_with_state(state)
        }
        EngineKind::Standalone => {
            let config =
                ballista_config(partitions).with_ballista_standalone_parallelism(partitions);
            // The in-process scheduler plans with this state's planner (the lake's nodes); the
            // client's is replaced by Ballista's below.
            let mut state = SessionStateBuilder::new()
                .with_config(config)
                .with_runtime_env(runtime.clone())
                .with_default_features()
                .with_query_planner(Arc::new(LakeQueryPlanner))
                .build();
            // The in-process scheduler and executor take their functions from this state.
            lake_udfs::register_all(&mut state).map_err(setup_error)?;
            let started = crate::standalone::start(&state, partitions).await?;
            resources._work_dir = Some(started.work_dir);
            resources.standalone = Some(started.scheduler);
            let state = state
                .upgrade_for_ballista(started.scheduler_url)
                .map_err(setup_error)?;
            SessionContext::new_with_state(state)
        }
        EngineKind::Remote(url) => {
            check_scheduler_reachable(url)?;
            let mut config = ballista_config(partitions);
            if lake.is_s3() {
                config = cluster_s3_config(config, lake, s3)?;
            }
            let state = SessionStateBuilder::new()
                .with_config(config)
                .with_runtime_env(runtime.clone())
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
    Ok((ctx, resources))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_partitions_hold_about_a_million_purchases_each() {
        // SF 1, SF 10, SF 100 of the generator, with two cores.
        assert_eq!(cluster_partitions(1_000_000, 2), 2);
        assert_eq!(cluster_partitions(10_000_000, 2), 10);
        assert_eq!(cluster_partitions(10_000_001, 2), 11);
        assert_eq!(cluster_partitions(100_000_000, 2), MAX_PARTITIONS_FROM_DATA);
    }

    #[test]
    fn cluster_partitions_never_fall_below_the_floor() {
        assert_eq!(cluster_partitions(0, 2), 2);
        assert_eq!(cluster_partitions(3_000_000, 8), 8);
        assert_eq!(cluster_partitions(u64::MAX, 64), 64);
    }
}
