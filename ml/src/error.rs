//! Errors of the models, naming what was wrong with the input.

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
}
