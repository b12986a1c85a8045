//! Publishing a layer: a run writes its tables under `<layer>/runs/<run_id>/`, then one object,
//! `<layer>/_current.json`, is replaced to point readers at it. Until that single put, readers
//! keep seeing the previous run, whole; a run that dies leaves only an unreferenced folder,
//! removed by the next successful publish.
//!
//! The switch is conditional: a run reads the pointer's version when it starts, and replaces
//! the pointer only if it is still that version (created only if still absent). Writers take
//! the lake's lease ([`crate::lease`]) so this never refuses in normal use; should two writers
//! overlap anyway, the later one fails with [`LakeError::PublishConflict`] instead of switching
//! the layer from under the other.

use std::collections::BTreeMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use parquet::arrow::async_writer::AsyncArrowWriter;
use serde::{Deserialize, Serialize};

use crate::error::{LakeError, Result};
use crate::models::Layer;
use crate::storage::{Lake, ObjectVersion};

/// Published runs kept per layer (the current one and the one before, for readers that resolved
/// the previous pointer just before the switch).
const RUNS_KEPT: usize = 2;

/// The manifest of one published layer run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerManifest {
    pub layer: String,
    pub run_id: String,
    pub as_of: String,
    pub engine: String,
    pub started_at: String,
    pub finished_at: String,
    /// What the run read: Bronze files with their SHA-256, or the Silver run it built on.
    pub inputs: Vec<InputRef>,
    /// Settings the SQL was rendered with (thresholds, as_of).
    pub settings: BTreeMap<String, String>,
    pub tables: BTreeMap<String, PublishedTable>,
    /// Runs published before this one, newest first (for retention).
    #[serde(default)]
    pub previous_runs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputRef {
    pub name: String,
    /// SHA-256 of a Bronze file, or the run id of a layer.
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublishedTable {
    /// Folder of the table's Parquet files, relative to the lake root.
    pub path: String,
    pub rows: u64,
    pub seconds: f64,
}

pub fn current_key(layer: Layer) -> String {
    format!("{}/_current.json", layer.root())
}

pub fn run_prefix(layer: Layer, run_id: &str) -> String {
    format!("{}/runs/{run_id}/", layer.root())
}

/// A run id that sorts by start time, to the millisecond: `20261128T160102123Z-1a2b3c4d`
/// (retention removes only runs that started before the current one).
pub fn new_run_id() -> String {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ");
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{stamp}-{}", &suffix[..8])
}

/// The manifest readers currently see, if the layer was ever published.
pub async fn current(lake: &Lake, layer: Layer) -> Result<Option<LayerManifest>> {
    lake.get_json(&current_key(layer)).await
}

/// The manifest of one run of a layer, if that run is still kept.
pub async fn run_manifest(
    lake: &Lake,
    layer: Layer,
    run_id: &str,
) -> Result<Option<LayerManifest>> {
    lake.get_json(&format!("{}_manifest.json", run_prefix(layer, run_id)))
        .await
}

/// The Silver a Gold run was built on (its quality report and quarantine explain that Gold's
/// figures), or the current Silver when that run is no longer kept.
pub async fn silver_of(lake: &Lake, gold: &LayerManifest) -> Result<Option<LayerManifest>> {
    let named = gold
        .inputs
        .iter()
        .find(|input| input.name == Layer::Silver.name());
    if let Some(input) = named
        && let Some(manifest) = run_manifest(lake, Layer::Silver, &input.version).await?
    {
        return Ok(Some(manifest));
    }
    current(lake, Layer::Silver).await
}

/// A run of one layer being written: its id and folder, and the tables written so far. Nothing
/// of it is visible until [`RunBuilder::publish`] switches the layer's pointer; dropped
/// unpublished, it leaves a folder no reader sees, removed by a later publish.
#[derive(Debug)]
pub struct RunBuilder {
    layer: Layer,
    run_id: String,
    started_at: String,
    /// The layer's pointer when the run started: the run it named and its version (`None`:
    /// the layer was not published).
    started_from: Option<(String, ObjectVersion)>,
    tables: BTreeMap<String, PublishedTable>,
}

/// What a run records about itself in its manifest, besides its tables.
#[derive(Debug, Clone, Default)]
pub struct RunRecord {
    /// The reference time of the data (`2026-01-01 00:00:00`).
    pub as_of: String,
    /// The engine that computed it.
    pub engine: String,
    /// What it read: Bronze files, or the run of the layer below.
    pub inputs: Vec<InputRef>,
    /// The settings it ran with.
    pub settings: BTreeMap<String, String>,
}

impl RunBuilder {
    /// A new run of `layer`, with a fresh id, started now from the layer's current pointer.
    pub async fn start(lake: &Lake, layer: Layer) -> Result<Self> {
        let started_from = current_versioned(lake, layer)
            .await?
            .map(|(manifest, version)| (manifest.run_id, version));
        Ok(Self {
            layer,
            run_id: new_run_id(),
            started_at: crate::clock::now(),
            started_from,
            tables: BTreeMap::new(),
        })
    }

    /// `20261128T160102123Z-1a2b3c4d`.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The run's folder, `gold/runs/<run id>/`.
    pub fn prefix(&self) -> String {
        run_prefix(self.layer, &self.run_id)
    }

    /// Records a table the run wrote into `path` (relative to the lake root).
    pub fn add_table(&mut self, table: &str, path: String, rows: u64, seconds: f64) {
        self.tables.insert(
            table.to_string(),
            PublishedTable {
                path,
                rows,
                seconds,
            },
        );
    }

    /// Writes batches computed outside the engine as `<prefix><table>/part-00000.parquet` and
    /// records the table; returns the rows written.
    pub async fn write_table(
        &mut self,
        lake: &Lake,
        table: &str,
        schema: SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<u64> {
        let clock = std::time::Instant::now();
        let folder = format!("{}{table}/", self.prefix());
        let rows = write_parquet(lake, &folder, schema, batches).await?;
        self.add_table(table, folder, rows, clock.elapsed().as_secs_f64());
        Ok(rows)
    }

    /// Writes the run's manifest and makes it the layer's current run.
    pub async fn publish(self, lake: &Lake, record: RunRecord) -> Result<LayerManifest> {
        let manifest = LayerManifest {
            layer: self.layer.name().to_string(),
            run_id: self.run_id,
            as_of: record.as_of,
            engine: record.engine,
            started_at: self.started_at,
            finished_at: crate::clock::now(),
            inputs: record.inputs,
            settings: record.settings,
            tables: self.tables,
            previous_runs: Vec::new(),
        };
        publish(lake, self.layer, manifest, self.started_from).await
    }
}

/// The manifest readers currently see with the pointer's version, if the layer was published.
async fn current_versioned(
    lake: &Lake,
    layer: Layer,
) -> Result<Option<(LayerManifest, ObjectVersion)>> {
    let key = current_key(layer);
    let Some((bytes, version)) = lake.get_versioned(&key).await? else {
        return Ok(None);
    };
    let manifest = serde_json::from_slice(&bytes).map_err(|e| LakeError::BadManifest {
        location: lake.url(&key),
        reason: e.to_string(),
    })?;
    Ok(Some((manifest, version)))
}

/// Makes a finished run the current one if the layer's pointer is still the one the run
/// started from, then removes runs no reader can reach any more.
async fn publish(
    lake: &Lake,
    layer: Layer,
    mut manifest: LayerManifest,
    started_from: Option<(String, ObjectVersion)>,
) -> Result<LayerManifest> {
    let conflict = |other: String| LakeError::PublishConflict {
        layer: layer.name().to_string(),
        started_from: started_from
            .as_ref()
            .map_or("an unpublished layer".to_string(), |(run, _)| {
                format!("run {run}")
            }),
        other,
    };
    let previous = current_versioned(lake, layer).await?;
    match (&previous, &started_from) {
        (None, None) => {}
        (Some((_, now)), Some((_, then))) if now == then => {}
        (Some((other, _)), _) => return Err(conflict(other.run_id.clone())),
        (None, Some(_)) => return Err(conflict("none: the pointer was removed".into())),
    }
    manifest.previous_runs = previous
        .map(|(p, _)| {
            std::iter::once(p.run_id)
                .chain(p.previous_runs)
                .take(RUNS_KEPT - 1)
                .collect()
        })
        .unwrap_or_default();
    let prefix = run_prefix(layer, &manifest.run_id);
    lake.put_json(&format!("{prefix}_manifest.json"), &manifest)
        .await?;
    // The switch: one atomic, conditional put.
    let key = current_key(layer);
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| LakeError::BadManifest {
        location: lake.url(&key),
        reason: e.to_string(),
    })?;
    let switched = match &started_from {
        None => lake.create_if_absent(&key, text).await?,
        Some((_, version)) => lake.update_if_unchanged(&key, text, version).await?,
    };
    if switched.is_none() {
        let other = current(lake, layer)
            .await?
            .map_or("none: the pointer was removed".to_string(), |m| m.run_id);
        return Err(conflict(other));
    }
    remove_unreachable_runs(lake, layer, &manifest).await?;
    Ok(manifest)
}

/// Removes the run folders of `layer` newer than its published run (all of them when the layer
/// is unpublished): what interrupted runs left. Only a writer holding the lake's lease may call
/// it, since another writer's run in progress would look the same. Returns the runs removed.
pub async fn remove_unpublished_runs(lake: &Lake, layer: Layer) -> Result<Vec<String>> {
    let published = current(lake, layer).await?.map(|m| m.run_id);
    let mut removed = Vec::new();
    for run in lake.list_dirs(&format!("{}/runs", layer.root())).await? {
        if published.as_ref().is_none_or(|current| run > *current) {
            lake.delete_prefix(&run_prefix(layer, &run)).await?;
            removed.push(run);
        }
    }
    Ok(removed)
}

async fn remove_unreachable_runs(lake: &Lake, layer: Layer, current: &LayerManifest) -> Result<()> {
    let keep: Vec<&str> = std::iter::once(current.run_id.as_str())
        .chain(current.previous_runs.iter().map(String::as_str))
        .collect();
    for run in lake.list_dirs(&format!("{}/runs", layer.root())).await? {
        // Only runs older than the current one: a newer folder may belong to a run in progress.
        if !keep.contains(&run.as_str()) && run < current.run_id {
            lake.delete_prefix(&run_prefix(layer, &run)).await?;
        }
    }
    Ok(())
}

/// Writes record batches computed outside the engine (the ML stage's) as one Parquet file,
/// `<folder>part-00000.parquet` (the name of a write's first partition); returns the rows written.
pub async fn write_parquet(
    lake: &Lake,
    folder: &str,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<u64> {
    let key = format!("{folder}{}", crate::table_write::part_file_name(0));
    let fail = |e: parquet::errors::ParquetError| LakeError::model(lake.url(&key), e);
    let mut writer = AsyncArrowWriter::try_new(lake.writer(&key), schema, None).map_err(fail)?;
    let mut rows = 0;
    for batch in batches {
        writer.write(batch).await.map_err(fail)?;
        rows += batch.num_rows() as u64;
    }
    writer.close().await.map_err(fail)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RunRecord {
        RunRecord {
            as_of: "2026-01-01 00:00:00".into(),
            engine: "test".into(),
            ..RunRecord::default()
        }
    }

    #[tokio::test]
    async fn of_two_overlapping_runs_the_later_publish_is_refused_and_moves_nothing() {
        let dir = tempfile::tempdir().expect("tmp");
        let lake = Lake::open(
            dir.path().to_str().expect("utf-8 path"),
            &crate::S3Options::default(),
        )
        .expect("opens");
        // Both start while Silver is unpublished.
        let first = RunBuilder::start(&lake, Layer::Silver)
            .await
            .expect("start");
        let second = RunBuilder::start(&lake, Layer::Silver)
            .await
            .expect("start");
        let first_id = first.run_id().to_string();
        first.publish(&lake, record()).await.expect("first publish");

        let refused = second
            .publish(&lake, record())
            .await
            .expect_err("the pointer moved since the second run started");
        assert!(
            matches!(&refused, LakeError::PublishConflict { other, .. } if *other == first_id),
            "{refused}"
        );
        let now = current(&lake, Layer::Silver)
            .await
            .expect("read")
            .expect("published");
        assert_eq!(now.run_id, first_id);

        // A run started from the first one publishes over it.
        let third = RunBuilder::start(&lake, Layer::Silver)
            .await
            .expect("start");
        let third_id = third.run_id().to_string();
        let published = third.publish(&lake, record()).await.expect("third publish");
        assert_eq!(published.previous_runs, vec![first_id]);
        let now = current(&lake, Layer::Silver)
            .await
            .expect("read")
            .expect("published");
        assert_eq!(now.run_id, third_id);
    }
}
