//! Which write errors a writer may retry, and which only say that the data is already there.

use mongodb::error::{ErrorKind, RETRYABLE_WRITE_ERROR, WriteFailure};

/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// Whether retrying may help (network, server selection, a primary stepping down).
pub fn transient(e: &mongodb::error::Error) -> bool {
    e.contains_label(RETRYABLE_WRITE_ERROR)
        || matches!(
            *e.kind,
            ErrorKind::Io(_)
                | ErrorKind::ServerSelection { .. }
                | ErrorKind::ConnectionPoolCleared { .. }
        )
}

/// Every failure of an `insert_many` is a duplicate `_id`: the rows were already written (by a
/// retried insert that had reached the server, or a replay).
pub fn only_duplicates(e: &mongodb::error::Error) -> bool {
    match &*e.kind {
        ErrorKind::InsertMany(failure) => {
            failure.write_concern_error.is_none()
                && failure
                    .write_errors
                    .as_ref()
                    .is_some_and(|errors| errors.iter().all(|w| w.code == DUPLICATE_KEY))
        }
        _ => false,
    }
}

/// A single write refused for a duplicate key.
pub fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    matches!(&*e.kind, ErrorKind::Write(WriteFailure::WriteError(w)) if w.code == DUPLICATE_KEY)
}
