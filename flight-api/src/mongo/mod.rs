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

use std::time::Duration;

use mongodb::options::ClientOptions;
use mongodb::{Client, Database};

/// How long a command waits for a reachable server before failing (then 503 for readers).
pub const SERVER_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects to `url` (e.g. `mongodb://127.0.0.1:27017`) and opens database `name`.
pub async fn connect(url: &str, name: &str) -> Result<Database, mongodb::error::Error> {
    let mut options = ClientOptions::parse(url).await?;
    options.server_selection_timeout = Some(SERVER_TIMEOUT);
    options.connect_timeout = Some(SERVER_TIMEOUT);
    options.app_name = Some("lake".into());
    Ok(Client::with_options(options)?.database(name))
}
