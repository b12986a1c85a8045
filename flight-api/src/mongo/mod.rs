//! MongoDB as the serving store (the brief's choice): the collections `lake mongo load` writes
//! ([`load`]), and the layout both sides share ([`layout`]). The reader is
//! [`crate::store::mongo::MongoStore`].
//!
//! Layout: each load writes one collection per table, named `<table>__<version>`, then replaces
//! one pointer document (`_serving`, `_id: "current"`) naming the version and its collections.
//! A reader resolves the pointer once per request, so it sees one whole version; a load that
//! dies leaves the pointer, and so the previous version, untouched. Documents are the API's
//! JSON rows: dates and timestamps as ISO strings (which sort like the values), money as
//! doubles. Only commands MongoDB 8 and FerretDB 1.24 both support are used (no `bulkWrite`, no
//! transactions, no `$lookup`).

pub mod layout;
pub mod load;

pub use lake_mongo::{SERVER_TIMEOUT, connect};
