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

    #[error("invalid setting {name}: {reason}")]
    BadSetting { name: String, reason: String },
}

pub type Result<T, E = LakeError> = std::result::Result<T, E>;

impl LakeError {
    pub fn storage(location: impl std::fmt::Display, source: object_store::Error) -> Self {
        LakeError::Storage {
            location: location.to_string(),
            source,
        }
    }

    pub fn model(model: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        LakeError::Model {
            model: model.into(),
            reason: reason.to_string(),
        }
    }
}
