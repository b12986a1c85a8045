//! MongoDB as the serving store (the brief's choice): the collections `lake mongo load` writes
//! ([`load`]), the layout both sides share ([`layout`]), and the views named after the tables
//! that BI tools read ([`views`]). The reader is [`crate::store::mongo::MongoStore`].
//!
//! Layout: each load writes one collection per table, named `<table>__<version>_<load time>`,
//! then replaces one pointer document (`_serving`, `_id: "current"`) naming the version and its
//! collections, then points the view `<table>` at them (where the server has views).
//! A reader resolves the pointer once per request, so it sees one whole version; a load that
//! dies leaves the pointer, and so the previous version, untouched. Documents are the API's
//! JSON rows: dates and timestamps as ISO strings (which sort like the values), money as
//! doubles. Only commands MongoDB 8 and FerretDB 1.24 both support are used (no `bulkWrite`, no
//! transactions, no `$lookup`).

pub mod layout;
pub mod load;
pub mod views;

pub use lake_mongo::{SERVER_TIMEOUT, connect};
