//! Errors of the models and of the ML stage, naming what was wrong with the input.

#[derive(Debug, thiserror::Error)]
pub enum MlError {
    #[error("not enough rows to cluster: {rows} row(s) for up to {k} clusters")]
    TooFewRows { rows: usize, k: usize },

    #[error("invalid k range {min}..={max}: need 2 <= min <= max")]
    BadKRange { min: usize, max: usize },

    #[error("feature column {column} holds a non-finite value at row {row}")]
    NonFinite { column: usize, row: usize },

    #[error("KMeans with k = {k} failed: {reason}")]
    KMeans { k: usize, reason: String },

    #[error("{what}: expected {expected} rows, found {found}")]
    Misaligned {
        what: &'static str,
        expected: usize,
        found: usize,
    },

    #[error(
        "churn labels need at least {needed} clients of each class, found {positives} churned and {negatives} retained"
    )]
    OneSidedLabels {
        positives: usize,
        negatives: usize,
        needed: usize,
    },

    #[error("logistic regression failed: {0}")]
    Training(String),

    #[error("query {query}: column {column} is missing or not of type {expected}")]
    Column {
        query: String,
        column: String,
        expected: &'static str,
    },

    #[error("query {query}: {reason}")]
    Feature { query: String, reason: String },

    #[error(transparent)]
    Lake(#[from] lake_core::LakeError),

    #[error("ML stage: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
}
