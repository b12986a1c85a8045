//! MongoDB as the lake uses it: one way to connect ([`connect`]), the classification of write
//! errors shared by every writer ([`errors`]), and what the stream processor writes, named once
//! for the processor, the API that serves it and the benchmarks that read it ([`stream`]).
//!
//! The serving layout and the Gold loader stay in `flight-api` (`flight-api/src/mongo/`): they read
//! Parquet with DataFusion, which the stream processor has no use for.

#![warn(missing_docs)]

/// Which write errors to retry, which only mean "already written".
pub mod errors;
/// What the stream processor writes: collections, event types, rules, the default topic.
pub mod stream;

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
