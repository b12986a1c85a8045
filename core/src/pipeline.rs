//! Running a layer's SQL models on the engine and publishing the result.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDateTime;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::common::TableReference;
use datafusion::prelude::SessionContext;

use object_store::{ObjectMeta, ObjectStoreExt};
use parquet::file::metadata::ParquetMetaDataReader;

use crate::catalog;
use crate::error::{LakeError, Result};
use crate::models::{Layer, Materialized, Model, SqlProject};
use crate::publish::{self, InputRef, LayerManifest, RunBuilder, RunRecord};
use crate::storage::Lake;
use crate::table_write;

/// The settings SQL models are rendered with (`{{ name }}` placeholders).
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// Reference time of the run: purchases after it are quarantined (A9).
    pub as_of: NaiveDateTime,
    /// Amounts above this are aberrant (A6).
    pub seuil_montant_aberrant: f64,
    /// Largest share of quarantined rows per entity before the run stops (blocking).
    pub seuil_quarantaine: f64,
    /// Largest share of missing values per client column (reported, not blocking).
    pub seuil_completude: f64,
    /// Largest share of purchases dated before the client's registration (reported).
    pub seuil_coherence: f64,
}

impl RunSettings {
    pub fn new(as_of: NaiveDateTime) -> Self {
        Self {
            as_of,
            seuil_montant_aberrant: 10_000.0,
            seuil_quarantaine: 0.05,
            seuil_completude: 0.05,
            seuil_coherence: 0.01,
        }
    }

    /// SQL literals for the templates.
    pub fn template_vars(&self) -> BTreeMap<String, String> {
        let number = |x: f64| format!("{x:?}");
        BTreeMap::from([
            (
                "as_of".to_string(),
                format!("TIMESTAMP '{}'", self.as_of.format("%Y-%m-%d %H:%M:%S")),
            ),
            (
                "seuil_montant_aberrant".to_string(),
                number(self.seuil_montant_aberrant),
            ),
            (
                "seuil_quarantaine".to_string(),
                number(self.seuil_quarantaine),
            ),
            (
                "seuil_completude".to_string(),
                number(self.seuil_completude),
            ),
            ("seuil_coherence".to_string(), number(self.seuil_coherence)),
        ])
    }

    /// The settings as a layer's manifest records them.
    pub fn recorded(&self) -> BTreeMap<String, String> {
        let mut vars = self.template_vars();
        vars.insert(
            "as_of".into(),
            self.as_of.format("%Y-%m-%d %H:%M:%S").to_string(),
        );
        vars
    }
}

/// The manifest setting that fingerprints what a layer's models compute: the SHA-256 of every
/// model's rendered SQL (and, for Silver, of the reference tables), so a run from edited SQL
/// (`--sql-dir`) or another catalogue is never mistaken for an up-to-date one.
pub const SQL_FINGERPRINT: &str = "sql_sha256";

/// The settings a layer run records in its manifest: `settings` and the SQL fingerprint.
pub fn recorded_settings(
    project: &SqlProject,
    layer: Layer,
    settings: &RunSettings,
) -> Result<BTreeMap<String, String>> {
    use sha2::{Digest, Sha256};
    let vars = settings.template_vars();
    let mut hasher = Sha256::new();
    for model in project.in_order(layer)? {
        hasher.update(model.file.as_bytes());
        hasher.update(model.render(&vars)?.as_bytes());
    }
    if layer == Layer::Silver {
        for (key, text) in project.references() {
            hasher.update(key.as_bytes());
            hasher.update(text.as_bytes());
        }
    }
    let digest = hasher.finalize();
    let mut recorded = settings.recorded();
    recorded.insert(
        SQL_FINGERPRINT.to_string(),
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    );
    Ok(recorded)
}

/// Progress of a layer run, for display.
#[derive(Debug, Clone)]
pub enum ModelEvent<'a> {
    Started {
        model: &'a Model,
        index: usize,
        total: usize,
    },
    Finished {
        model: &'a Model,
        rows: Option<u64>,
        seconds: f64,
    },
    /// A table left out of a `--select` rebuild, copied from the run it was carried from.
    Carried {
        model: &'a Model,
        rows: u64,
        from_run: &'a str,
    },
}

/// A rebuild of part of a layer: the models to run, and the published run the others' tables
/// are copied from.
#[derive(Debug, Clone)]
pub struct Selection {
    pub models: BTreeSet<String>,
    pub carried: LayerManifest,
}

/// The name of a model's Ballista job, as `lake jobs` shows it.
pub fn job_name(model: &Model) -> String {
    format!("lake {}.{}", model.layer.name(), model.table)
}

/// Executes one model: a view is registered, a table is written as Parquet under `prefix`
/// and registered from there. Returns the rows written (tables only).
async fn execute_model(
    ctx: &SessionContext,
    lake: &Lake,
    model: &Model,
    prefix: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Option<(String, u64)>> {
    let sql = model.render(vars)?;
    let name = TableReference::partial(model.layer.schema(), model.table.as_str());
    let fail = |e: datafusion::error::DataFusionError| LakeError::model(&model.file, e);
    crate::engine::name_next_jobs(ctx, &job_name(model));
    let df = ctx.sql(&sql).await.map_err(fail)?;
    match model.materialized {
        Materialized::External => Err(LakeError::model(
            &model.file,
            "an external table is written by its own stage, not by SQL".to_string(),
        )),
        Materialized::View => {
            ctx.deregister_table(name.clone())?;
            ctx.register_table(name, df.into_view()).map_err(fail)?;
            Ok(None)
        }
        Materialized::Table | Materialized::Staging => {
            let key = if model.materialized == Materialized::Staging {
                format!("{prefix}_staging/{}/", model.table)
            } else {
                format!("{prefix}{}/", model.output_folder())
            };
            let schema = Arc::new(df.schema().as_arrow().clone());
            // One write task per partition (crate::table_write), each returning its row count.
            let write = table_write::write_plan(df.into_unoptimized_plan(), lake.url(&key));
            let written = ctx
                .execute_logical_plan(write)
                .await
                .map_err(fail)?
                .collect()
                .await
                .map_err(fail)?;
            let rows = written
                .iter()
                .filter_map(|b| b.column_by_name(table_write::COUNT_COLUMN))
                .filter_map(|c| c.as_primitive_opt::<UInt64Type>())
                .flat_map(|c| c.iter().flatten())
                .sum();
            let files = check_written_rows(lake, &key, rows, &model.file).await?;
            if files == 0 {
                // An empty result leaves no file, and a folder without files has no schema for
                // its readers: write the table as one Parquet file of zero rows.
                publish::write_parquet(lake, &key, schema, &[]).await?;
            }
            catalog::register_parquet_folder(ctx, name, &lake.url(&key)).await?;
            Ok(Some((key, rows)))
        }
    }
}

/// The commit check of a table write: the Parquet files in its folder hold exactly the rows the
/// write tasks reported. Each task attempt writes files of its own name, so a difference means
/// output the job did not account for: a copy left by an attempt the scheduler gave up on (an
/// executor lost after its task wrote), or another writer in the run's folder. The run then
/// fails here, before anything is published.
/// Returns the number of Parquet files found.
async fn check_written_rows(lake: &Lake, key: &str, reported: u64, model: &str) -> Result<usize> {
    let mut found: u64 = 0;
    let mut files = 0;
    for (file_key, meta) in lake.list(key).await? {
        if !file_key.ends_with(".parquet") {
            continue;
        }
        files += 1;
        let rows = parquet_rows(lake, &meta)
            .await
            .map_err(|reason| LakeError::model(model, format!("{file_key}: {reason}")))?;
        found += rows;
    }
    if found == reported {
        Ok(files)
    } else {
        Err(LakeError::model(
            model,
            format!(
                "the write job reported {reported} rows but {files} Parquet file(s) under {} \
                 hold {found}: output the write tasks did not account for; nothing was published",
                lake.url(key)
            ),
        ))
    }
}

/// Rows of a Parquet file, from its footer: the last 8 bytes give the metadata length, the
/// metadata gives the row count.
async fn parquet_rows(lake: &Lake, meta: &ObjectMeta) -> std::result::Result<u64, String> {
    let store = lake.store();
    let size = meta.size;
    if size < 12 {
        return Err(format!("{size} bytes is too short for a Parquet file"));
    }
    let tail = store
        .get_range(&meta.location, size - 8..size)
        .await
        .map_err(|e| e.to_string())?;
    if tail.len() != 8 || &tail[4..] != b"PAR1" {
        return Err("no Parquet footer".into());
    }
    let length = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    let start = size
        .checked_sub(8 + length)
        .ok_or("the footer length exceeds the file size")?;
    let footer = store
        .get_range(&meta.location, start..size - 8)
        .await
        .map_err(|e| e.to_string())?;
    let metadata = ParquetMetaDataReader::decode_metadata(&footer).map_err(|e| e.to_string())?;
    u64::try_from(metadata.file_metadata().num_rows()).map_err(|e| e.to_string())
}

/// What a layer run needs from the session.
pub struct LayerContext<'a> {
    pub ctx: &'a SessionContext,
    pub lake: &'a Lake,
    pub project: &'a SqlProject,
    /// Engine description recorded in the manifest.
    pub engine: &'a str,
    /// Longest one model's job may run.
    pub job_timeout: Option<std::time::Duration>,
}

/// How long one job (a model, a query) may run unless told otherwise: long enough for the
/// largest model at SF 100 on a small machine, short enough that a job that cannot finish fails
/// the run instead of holding it for ever.
pub const DEFAULT_JOB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// Names of the jobs this process is running now (see [`jobs_in_flight`]).
static JOBS_IN_FLIGHT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// The jobs this process has started and not seen end, by name: what to cancel on a cluster
/// when the command is interrupted (the scheduler keeps running a job its client left).
pub fn jobs_in_flight() -> Vec<String> {
    JOBS_IN_FLIGHT
        .lock()
        .map(|jobs| jobs.clone())
        .unwrap_or_default()
}

/// A job's entry in [`JOBS_IN_FLIGHT`], removed when the job's future ends or is dropped.
struct InFlight(String);

impl InFlight {
    fn enter(job: &str) -> Self {
        if let Ok(mut jobs) = JOBS_IN_FLIGHT.lock() {
            jobs.push(job.to_string());
        }
        Self(job.to_string())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut jobs) = JOBS_IN_FLIGHT.lock()
            && let Some(at) = jobs.iter().position(|job| *job == self.0)
        {
            jobs.remove(at);
        }
    }
}

/// Runs a job, failing with [`LakeError::JobTimeout`] when it outlives `limit`.
pub async fn bounded<T>(
    limit: Option<std::time::Duration>,
    job: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let _in_flight = InFlight::enter(job);
    match limit {
        None => work.await,
        Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
            Err(LakeError::JobTimeout {
                job: job.to_string(),
                seconds: limit.as_secs(),
                stopped: Vec::new(),
            })
        }),
    }
}

/// Runs every model of a layer into a new run folder, checks the quality gate (Silver), and
/// publishes the run. On any error nothing is published and readers keep the previous run.
pub async fn run_layer(
    context: &LayerContext<'_>,
    layer: Layer,
    settings: &RunSettings,
    inputs: Vec<InputRef>,
    selection: Option<&Selection>,
    mut on_event: impl FnMut(ModelEvent<'_>),
) -> Result<LayerManifest> {
    let LayerContext {
        ctx,
        lake,
        project,
        engine,
        job_timeout,
    } = *context;
    let mut run = RunBuilder::start(lake, layer).await?;
    let prefix = run.prefix();
    let vars = settings.template_vars();
    let models = project.in_order(layer)?;
    for (index, model) in models.iter().enumerate() {
        if let Some(selection) = selection
            && !selection.models.contains(&model.table)
        {
            if model.materialized == Materialized::Table {
                let (path, rows) = carry_table(lake, model, &prefix, &selection.carried).await?;
                on_event(ModelEvent::Carried {
                    model,
                    rows,
                    from_run: &selection.carried.run_id,
                });
                run.add_table(&model.table, path, rows, 0.0);
            }
            continue;
        }
        on_event(ModelEvent::Started {
            model,
            index,
            total: models.len(),
        });
        let clock = Instant::now();
        let job = job_name(model);
        let written = bounded(
            job_timeout,
            &job,
            execute_model(ctx, lake, model, &prefix, &vars),
        )
        .await?;
        let seconds = clock.elapsed().as_secs_f64();
        on_event(ModelEvent::Finished {
            model,
            rows: written.as_ref().map(|(_, rows)| *rows),
            seconds,
        });
        if let (Some((path, rows)), Materialized::Table) = (written, model.materialized) {
            run.add_table(&model.table, path, rows, seconds);
        }
    }
    if layer == Layer::Silver {
        quality_gate(ctx, lake, &prefix).await?;
    }
    let record = RunRecord {
        as_of: settings.as_of.format("%Y-%m-%d %H:%M:%S").to_string(),
        engine: engine.to_string(),
        inputs,
        settings: recorded_settings(project, layer, settings)?,
    };
    run.publish(lake, record).await
}

/// Copies `model`'s table from the run `carried` into this run's folder: its path there and
/// its rows.
async fn carry_table(
    lake: &Lake,
    model: &Model,
    prefix: &str,
    carried: &LayerManifest,
) -> Result<(String, u64)> {
    let table = carried.tables.get(&model.table).ok_or_else(|| {
        LakeError::Selection(format!(
            "the published {} run {} has no table {} to carry over: rebuild the whole layer \
             (without --select)",
            carried.layer, carried.run_id, model.table
        ))
    })?;
    let path = format!("{prefix}{}/", model.output_folder());
    lake.copy_prefix(&table.path, &path).await?;
    Ok((path, table.rows))
}

/// Fails when a blocking check of `silver.quality` is not ok.
async fn quality_gate(ctx: &SessionContext, lake: &Lake, prefix: &str) -> Result<()> {
    crate::engine::name_next_jobs(ctx, "lake silver quality gate");
    let failed = ctx
        .sql(
            "SELECT \"table\", controle, nb_echecs, observe, pct_echecs, seuil \
             FROM silver.quality WHERE bloquant AND NOT ok ORDER BY \"table\", controle",
        )
        .await?
        .collect()
        .await?;
    let mut lines = Vec::new();
    for batch in &failed {
        let text = datafusion::arrow::util::display::ArrayFormatter::try_new;
        let columns: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| text(c.as_ref(), &Default::default()))
            .collect::<std::result::Result<_, _>>()
            .map_err(datafusion::error::DataFusionError::from)?;
        for row in 0..batch.num_rows() {
            let v = |i: usize| columns[i].value(row).to_string();
            lines.push(format!(
                "  {}.{}: {} of {} rows ({}) above the threshold {}",
                v(0),
                v(1),
                v(2),
                v(3),
                v(4),
                v(5)
            ));
        }
    }
    if lines.is_empty() {
        Ok(())
    } else {
        Err(LakeError::QualityGate {
            failures: lines.join("\n"),
            report: lake.url(&format!("{prefix}quality/")),
        })
    }
}
