//! The lake: object-store zones (`sources/`, `bronze/`, `silver/`, `gold/`), CSV ingestion,
//! the SQL models of `sql/` run on Ballista (standalone or remote) or DataFusion, and atomic
//! publishing of each layer with its manifest.
//!
//! One module per concept: [`storage`] (object_store), [`ingest`] (CSV → Bronze), [`engine`]
//! (sessions), [`catalog`] (table registration), [`models`] (SQL files), [`pipeline`] (running a
//! layer), [`publish`] (run folders, pointer, manifest), [`serving`] (what the API serves, as
//! the models' headers declare it), [`session`] (the stages of `lake run`), [`standalone`] (the
//! in-process scheduler and executor), [`execution_engine`] (the executors' query stages,
//! standalone's and the cluster's), [`table_write`] (tables written by one task per partition),
//! [`codec`] (how that plan node travels between client, scheduler and executors) and [`lease`]
//! (one writer at a time).

pub mod catalog;
pub mod clock;
pub mod codec;
pub mod engine;
pub mod error;
pub mod execution_engine;
pub mod ingest;
pub mod lease;
pub mod memory;
pub mod models;
pub mod pipeline;
pub mod publish;
pub mod serving;
pub mod session;
pub mod standalone;
pub mod storage;
pub mod table_write;
pub mod write_gate;

pub use engine::EngineKind;
pub use error::{LakeError, Result};
pub use models::Layer;
pub use pipeline::{ModelEvent, RunSettings};
pub use session::{LakeOptions, LakeSession, SizedPartitions};
pub use storage::{Lake, S3Options};
