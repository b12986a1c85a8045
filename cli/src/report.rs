//! What a command did, for orchestrators. With `--format json`, `run`, `ingest`, `silver`,
//! `gold`, `ml`, `status`, `compare` and `mongo load` print one JSON document on standard output
//! when they end, successful or not; their progress lines go to standard error instead. The
//! document (README, "Driving lake from an orchestrator"):
//!
//! ```json
//! {"command": "run", "ok": true, "outcome": "success", "exit_code": 0, "seconds": 12.3,
//!  "lake": "lake", "error": null, "ingest": {…}, "silver": {…}, "gold": {…}, "ml": {…}, …}
//! ```
//!
//! Each command adds its own sections ([`section`]); `main` adds the first fields and prints it
//! ([`finish`]). One command runs per process, so the document is the process's.

use std::sync::Mutex;
use std::time::Instant;

use clap::ValueEnum;
use serde_json::{Map, Value, json};

use crate::exit::Exit;

/// How a command reports what it did.
#[derive(Debug, Clone, Copy, Default, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    /// Lines for people, on standard output.
    #[default]
    Text,
    /// One JSON document on standard output at the end; the lines go to standard error.
    Json,
}

struct Document {
    command: String,
    started: Instant,
    sections: Map<String, Value>,
}

static DOCUMENT: Mutex<Option<Document>> = Mutex::new(None);

fn document() -> std::sync::MutexGuard<'static, Option<Document>> {
    DOCUMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts the JSON document of `command` (nothing to do for text).
pub fn begin(command: &str, format: ReportFormat) {
    if format == ReportFormat::Json {
        *document() = Some(Document {
            command: command.to_string(),
            started: Instant::now(),
            sections: Map::new(),
        });
    }
}

/// Whether the command reports as JSON (its lines then go to standard error).
pub fn is_json() -> bool {
    document().is_some()
}

/// Sets the section `name` of the document (no-op for text).
pub fn section(name: &str, value: Value) {
    if let Some(doc) = document().as_mut() {
        doc.sections.insert(name.to_string(), value);
    }
}

/// Prints the document, with how the command ended and its exit status: `error` is its
/// message, `None` on success.
pub fn finish(exit: Exit, code: u8, error: Option<&anyhow::Error>) {
    let Some(doc) = document().take() else {
        return;
    };
    let mut out = Map::new();
    out.insert("command".into(), json!(doc.command));
    out.insert("ok".into(), json!(exit.is_success()));
    out.insert("outcome".into(), json!(exit.name()));
    out.insert("exit_code".into(), json!(code));
    out.insert(
        "seconds".into(),
        json!(round_seconds(doc.started.elapsed().as_secs_f64())),
    );
    out.insert(
        "error".into(),
        error.map_or(Value::Null, |e| json!(format!("{e:#}"))),
    );
    out.extend(doc.sections);
    match serde_json::to_string_pretty(&Value::Object(out)) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("cannot write the JSON report: {e}"),
    }
}

/// Record batches as an array of JSON objects, one per row.
pub fn rows(batches: &[datafusion::arrow::array::RecordBatch]) -> anyhow::Result<Value> {
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(serde_json::from_slice(&bytes)?)
}

/// Seconds to the millisecond, as the documents give them.
pub fn round_seconds(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// A line for people: on standard output, or on standard error when the command reports as
/// JSON (standard output then holds the document alone).
macro_rules! say {
    ($($arg:tt)*) => {
        if $crate::report::is_json() {
            eprintln!($($arg)*);
        } else {
            println!($($arg)*);
        }
    };
}
pub(crate) use say;
