//! Errors of the lake, each naming what was wrong and where.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("invalid lake location {location:?}: {reason}")]
    BadLocation { location: String, reason: String },

    #[error("storage error on {location}: {source}")]
    Storage {
        location: String,
        #[source]
        source: object_store::Error,
    },

    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{file}: {reason}")]
    RefusedFile { file: String, reason: String },

    #[error("invalid manifest {location}: {reason}")]
    BadManifest { location: String, reason: String },

    #[error(
        "the {layer} layer has not been published yet: run `lake run` (or `lake ingest` for bronze) first"
    )]
    NotPublished { layer: String },

    /// `--select` cannot rebuild part of a layer: an unknown model, or a published run built from
    /// other inputs or settings than the rebuild would use.
    #[error("{0}")]
    Selection(String),

    /// A query named a table that is not there: its layer was never published (the message
    /// names the command that publishes it), or the published run has no such table.
    #[error("{0}")]
    MissingTable(String),

    #[error(
        "no {entity}*.csv file has been ingested: Silver needs at least one clients*.csv and one \
         achats*.csv (a file with the header row alone declares an empty table)"
    )]
    MissingSource { entity: String },

    #[error("SQL model {model}: {reason}")]
    Model { model: String, reason: String },

    #[error("query failed: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),

    #[error("engine {engine}: {reason}")]
    EngineSetup { engine: String, reason: String },

    #[error(
        "blocking quality checks failed, Silver and Gold were not published:\n{failures}\nFull report: {report}"
    )]
    QualityGate { failures: String, report: String },

    #[error(
        "job {job:?} did not finish within {seconds} s and was abandoned{}; nothing was published. \
         The limit is --job-timeout-seconds (LAKE_JOB_TIMEOUT, 0 for none)",
        if stopped.is_empty() { String::new() } else { format!(" ({})", stopped.join("; ")) }
    )]
    JobTimeout {
        job: String,
        seconds: u64,
        /// Where the engine's jobs of that name stopped, when the engine could tell.
        stopped: Vec<String>,
    },

    #[error(
        "{job} needed more memory than its limit allows ({reason}). Raise --memory-limit (LAKE_MEMORY_LIMIT) on standalone and DataFusion, or \
         the executors' memory on a cluster (`lake cluster up --executor-memory`, \
         lake-executor --memory-pool-size){hint}",
        hint = memory_hint(.reason)
    )]
    MemoryLimit {
        /// What ran out: "SQL model <file>", "the query".
        job: String,
        /// DataFusion's account of the refusal.
        reason: String,
    },

    #[error("invalid setting {name}: {reason}")]
    BadSetting { name: String, reason: String },

    #[error(
        "another writer holds the lake {lake}: {holder}{}. One writer at a time: let it finish, \
         or wait for it with --lease-wait <seconds> (LAKE_LEASE_WAIT); a writer that died \
         leaves a lease that expires, then is taken over",
        if waited.is_zero() { String::new() } else { format!("; waited {} s", waited.as_secs()) }
    )]
    LeaseHeld {
        lake: String,
        holder: String,
        waited: std::time::Duration,
    },

    #[error(
        "{layer} was published by another writer (run {other}) since this run started from \
         {started_from}; nothing of this run was published (its folder is removed by a later \
         publish)"
    )]
    PublishConflict {
        layer: String,
        started_from: String,
        other: String,
    },
}

/// A query's failure; a refusal of the memory pool becomes [`LakeError::MemoryLimit`].
pub fn query_error(error: datafusion::error::DataFusionError) -> LakeError {
    match memory_refusal(&error.to_string()) {
        Some(reason) => LakeError::MemoryLimit {
            job: "the query".into(),
            reason,
        },
        None => LakeError::Engine(error),
    }
}

/// The heart of a memory pool's refusal in an error's text, or `None` when the error is not
/// one. DataFusion displays it as "Resources exhausted: …"; an executor's refusal reaches the
/// client as the debug form of the error (`ResourcesExhausted("…")`). The reason kept is
/// DataFusion's last line, "Failed to allocate … for the total memory pool: …", when found.
pub fn memory_refusal(text: &str) -> Option<String> {
    let start = ["Resources exhausted", "ResourcesExhausted"]
        .iter()
        .filter_map(|marker| text.find(marker))
        .min()?;
    let refusal = &text[start..];
    let reason = match refusal.find("Failed to allocate") {
        Some(at) => &refusal[at..],
        None => refusal,
    };
    // Cut the debug form's closing quote and brackets, and its escaped line breaks.
    let reason = reason.split(['"', '\n']).next().unwrap_or(reason);
    let reason = reason.split("\\n").next().unwrap_or(reason);
    Some(reason.trim().to_string())
}

/// What else helps when the refused operator is one whose need does not shrink with the pool:
/// the operators that cannot spill, and the sort's merge reservation. Starts with "; " or is
/// empty; part of [`LakeError::MemoryLimit`]'s message.
fn memory_hint(reason: &str) -> &'static str {
    if reason.contains("ParquetSink") {
        "; or make the Parquet writers hold less: they keep a whole row group per column until \
         it is written, --set datafusion.execution.parquet.max_row_group_size=<rows> (default \
         1048576; 8192 fits a 32 MiB pool)"
    } else if reason.contains("HashJoin") {
        "; or plan sort-merge joins, whose sorts spill (a hash join's build side cannot): \
         --set datafusion.optimizer.prefer_hash_join=false"
    } else if reason.contains("ExternalSorterMerge") {
        "; or lower what each sort reserves to merge its spilled runs: --set \
         datafusion.execution.sort_spill_reservation_bytes=<bytes> (default 10 MiB)"
    } else {
        ""
    }
}

pub type Result<T, E = LakeError> = std::result::Result<T, E>;

impl LakeError {
    pub fn storage(location: impl std::fmt::Display, source: object_store::Error) -> Self {
        LakeError::Storage {
            location: location.to_string(),
            source,
        }
    }

    /// A model's failure; a refusal of the memory pool (DataFusion's "Resources exhausted",
    /// raised here or on an executor) becomes [`LakeError::MemoryLimit`].
    pub fn model(model: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        let (model, reason) = (model.into(), reason.to_string());
        match memory_refusal(&reason) {
            Some(refusal) => LakeError::MemoryLimit {
                job: format!("SQL model {model}"),
                reason: refusal,
            },
            None => LakeError::Model { model, reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_of_the_pool_names_the_memory_settings() {
        let error = LakeError::model(
            "gold/kpis/kpi_clv.sql",
            "Job failed: Resources exhausted: Failed to allocate 8.0 MB for HashJoinInput",
        );
        let message = error.to_string();
        assert!(matches!(error, LakeError::MemoryLimit { .. }), "{message}");
        assert!(message.contains("kpi_clv.sql"), "{message}");
        assert!(message.contains("Failed to allocate 8.0 MB"), "{message}");
        assert!(message.contains("--memory-limit"), "{message}");
        assert!(message.contains("--executor-memory"), "{message}");
    }

    #[test]
    fn an_executors_refusal_keeps_datafusions_last_line() {
        let text = "Execution error: Job 038HGFE9CA000 failed: Job failed due to stage 4 failed: \
            Task failed due to runtime execution error: DataFusionError(Shared(External(\
            DataFusionError(ResourcesExhausted(\"Additional allocation failed for \
            ParquetSink(ArrowColumnWriter) with top memory consumers (across reservations) \
            as:\\n  ParquetSink(ArrowColumnWriter)#11(can spill: false) consumed 1832.8 KB, \
            peak 1832.8 KB.\\nError: Failed to allocate additional 292.7 KB for \
            ParquetSink(ArrowColumnWriter) with 544.3 KB already allocated for this reservation \
            - 263.4 KB remain available for the total memory pool: fair(pool_size: 16.0 MB)\")))))";
        let error = LakeError::model("silver/achats_normalises.sql", text);
        let LakeError::MemoryLimit { reason, .. } = error else {
            panic!("not a memory error: {error}");
        };
        assert_eq!(
            reason,
            "Failed to allocate additional 292.7 KB for ParquetSink(ArrowColumnWriter) with \
             544.3 KB already allocated for this reservation - 263.4 KB remain available for the \
             total memory pool: fair(pool_size: 16.0 MB)"
        );
    }

    #[test]
    fn a_refusal_names_the_setting_that_shrinks_the_refused_operator() {
        let refusal = |operator: &str| {
            LakeError::model(
                "silver/achats.sql",
                format!("Resources exhausted: Failed to allocate 1.0 MB for {operator}"),
            )
            .to_string()
        };
        let writer = refusal("ParquetSink(ArrowColumnWriter)");
        assert!(writer.contains("parquet.max_row_group_size"), "{writer}");
        let join = refusal("HashJoinInput[0]");
        assert!(join.contains("prefer_hash_join=false"), "{join}");
        let merge = refusal("ExternalSorterMerge[1]");
        assert!(merge.contains("sort_spill_reservation_bytes"), "{merge}");
        let aggregate = refusal("GroupedHashAggregateStream[0]");
        assert!(aggregate.ends_with("--memory-pool-size)"), "{aggregate}");
    }

    #[test]
    fn other_failures_stay_model_errors() {
        let error = LakeError::model("silver/achats.sql", "column x not found");
        assert!(matches!(error, LakeError::Model { .. }));
    }
}
