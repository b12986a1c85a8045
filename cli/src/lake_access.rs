//! Opening the lake from the command line's shared arguments: with an engine (a session) or
//! without one (the store alone, for loaders and benchmarks that read Parquet themselves).

use std::time::Duration;

use anyhow::{Context, Result};
use lake_core::memory::MemorySettings;
use lake_core::{EngineKind, LakeOptions, LakeSession, S3Options};

use crate::args::{LakeArgs, LocalEngine};

/// The lake's location, S3 settings, engine and session settings from the arguments.
pub fn lake_options(args: &LakeArgs) -> Result<LakeOptions> {
    let engine = match (&args.scheduler, args.engine) {
        (Some(url), _) => url
            .parse::<EngineKind>()
            .with_context(|| format!("--scheduler {url}"))?,
        (None, LocalEngine::Standalone) => EngineKind::Standalone,
        (None, LocalEngine::Datafusion) => EngineKind::DataFusion,
    };
    Ok(LakeOptions {
        location: args.lake.clone(),
        s3: S3Options {
            endpoint: args.s3_endpoint.clone(),
            access_key_id: args.s3_access_key_id.clone(),
            secret_access_key: args.s3_secret_access_key.clone(),
            region: args.s3_region.clone(),
            allow_http: args.s3_allow_http,
        },
        engine,
        partitions: args.partitions,
        sql_dir: args.sql_dir.clone(),
        settings: args.settings.clone(),
        job_timeout: (args.job_timeout_seconds > 0)
            .then_some(Duration::from_secs(args.job_timeout_seconds)),
        memory: MemorySettings {
            limit: args.memory_limit,
            spill_dir: args.spill_dir.clone(),
        },
    })
}

/// A session on the lake with the engine the arguments choose.
pub async fn open(args: &LakeArgs) -> Result<LakeSession> {
    let options = lake_options(args)?;
    LakeSession::open(&options).await.with_context(|| {
        format!(
            "cannot open the lake {} on {}",
            options.location, options.engine
        )
    })
}

/// The lake (without an engine: loaders and benchmarks read Parquet themselves).
pub async fn open_lake(lake: &LakeArgs) -> Result<lake_core::Lake> {
    let options = lake_options(lake)?;
    let store = lake_core::Lake::open(&options.location, &options.s3)?;
    if store.is_s3() {
        store.probe().await?;
    }
    Ok(store)
}
