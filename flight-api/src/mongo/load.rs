//! `lake mongo load`: the published Gold (and ML) tables into versioned MongoDB collections,
//! then one pointer switch. Idempotent (the version served is not loaded again), atomic for
//! readers (the pointer moves only once every collection and index is written), and retried on
//! transient errors; a load that fails leaves the previous version serving.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use datafusion::common::TableReference;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use futures::TryStreamExt;
use lake_core::publish::{self, LayerManifest};
use lake_core::serving::{ServedTable, ServingCatalogue};
use lake_core::{Lake, LakeError, Layer};
use lake_mongo::errors::{only_duplicates, transient};
use mongodb::Database;
use mongodb::IndexModel;
use mongodb::bson::{Document, doc};

use super::layout::{
    POINTER_COLLECTION, POINTER_ID, Pointer, collection_name, indexes, load_tag, pointer_key,
    version_of_collection,
};
use super::views::{ViewError, ViewsOutcome, switch_views};
use crate::store::rows_from_batches;

/// Documents per insert.
const CHUNK: usize = 5_000;
/// Inserts of one collection in flight at once: the next chunk is converted while the server
/// writes the previous ones.
const INSERTS_IN_FLIGHT: usize = 4;
/// Attempts of one write before the load fails.
const ATTEMPTS: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("reading {table} from the lake: {reason}")]
    Read { table: String, reason: String },
    #[error("MongoDB {what}: {source}")]
    Mongo {
        what: String,
        #[source]
        source: mongodb::error::Error,
    },
    #[error("Gold has table {0} missing: run `lake run` (or `lake gold`) first")]
    MissingTable(String),
    #[error(
        "the pointer was switched to version {version}, but the views named after the tables \
         still show the previous one (the next load retries): {source}"
    )]
    Views {
        version: String,
        #[source]
        source: Box<ViewError>,
    },
}

/// What a load did.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadOutcome {
    /// The version was already served: nothing written.
    Unchanged { version: String },
    Loaded {
        version: String,
        /// Per table: (rows, seconds).
        tables: BTreeMap<String, (u64, f64)>,
        /// Collections of older versions dropped after the switch.
        dropped: Vec<String>,
        /// The views named after the tables, for BI tools.
        views: ViewsOutcome,
        seconds: f64,
    },
}

fn mongo(what: impl Into<String>) -> impl FnOnce(mongodb::error::Error) -> LoadError {
    let what = what.into();
    move |source| LoadError::Mongo { what, source }
}

/// Inserts one chunk, retrying transient errors with backoff. Rows carry their row number as
/// `_id`, so a retry that repeats rows already written is recognised and ignored.
async fn insert_chunk(
    collection: &mongodb::Collection<Document>,
    documents: &[Document],
) -> Result<(), mongodb::error::Error> {
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match collection.insert_many(documents).ordered(false).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt > 1 && only_duplicates(&e) => return Ok(()),
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                log::warn!("insert into {} failed ({e}); retrying", collection.name());
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Waits for one spawned insert. A panicked insert task is reported as an internal error
/// rather than propagated as a panic.
async fn finish_one(
    inserts: &mut tokio::task::JoinSet<Result<(), mongodb::error::Error>>,
) -> Result<(), mongodb::error::Error> {
    match inserts.join_next().await {
        Some(Ok(result)) => result,
        Some(Err(join)) => Err(mongodb::error::Error::custom(format!(
            "insert task failed: {join}"
        ))),
        None => Ok(()),
    }
}

/// How to load.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Load even when this Gold (and ML) is already served, as a new generation of collections
    /// (its version gets a `@<loaded at>` suffix). For benchmarks of the refresh, and to repair
    /// collections damaged by hand.
    pub reload: bool,
    /// Leave the views named after the tables (for BI tools) alone.
    pub skip_views: bool,
}

/// What a load reports while it runs.
#[derive(Debug, Clone, Copy)]
pub enum LoadEvent<'a> {
    /// One table is written and indexed.
    Table {
        table: &'a str,
        rows: u64,
        seconds: f64,
    },
    /// The pointer now names `version`, loaded at `loaded_at` (the `/freshness` field): readers
    /// see it from here on.
    Switched {
        version: &'a str,
        loaded_at: &'a str,
    },
}

/// Loads the lake's current Gold (and ML) into `db` unless that version is already served.
pub async fn load(
    lake: &Lake,
    db: &Database,
    options: LoadOptions,
    mut on_event: impl FnMut(LoadEvent<'_>),
) -> Result<LoadOutcome, LoadError> {
    let clock = Instant::now();
    let gold =
        publish::current(lake, Layer::Gold)
            .await?
            .ok_or_else(|| LakeError::NotPublished {
                layer: "gold".into(),
            })?;
    let ml = publish::current(lake, Layer::Ml).await?;
    let ml_version = ml.as_ref().map(|m| m.run_id.clone());
    let mut version = match &ml_version {
        Some(ml) => format!("{}+{ml}", gold.run_id),
        None => gold.run_id.clone(),
    };
    let pointers = db.collection::<Pointer>(POINTER_COLLECTION);
    let previous = pointers
        .find_one(doc! { "_id": POINTER_ID })
        .await
        .map_err(mongo("reading the pointer"))?;
    let served = previous
        .as_ref()
        .is_some_and(|p| p.gold_version == gold.run_id && p.ml_version == ml_version);
    if served && !options.reload {
        let version = previous.map(|p| p.version).unwrap_or(version);
        return Ok(LoadOutcome::Unchanged { version });
    }
    let loaded_at = lake_core::clock::now();
    let tag = load_tag(&version, &loaded_at);
    if options.reload {
        version = format!("{version}@{}", compact_stamp(&loaded_at));
    }

    let ctx = lake_core::catalog::local_reader(&[lake], Default::default());
    let mut collections = BTreeMap::new();
    let mut tables = BTreeMap::new();
    let silver = publish::silver_of(lake, &gold).await?;
    let sources = table_sources(&gold, silver.as_ref(), ml.as_ref())?;
    for (served, folder) in sources {
        let table = served.key.clone();
        let started = Instant::now();
        let name = collection_name(&table, &tag);
        let rows = copy_table(&ctx, lake, &folder, served, db, &name).await?;
        let seconds = started.elapsed().as_secs_f64();
        on_event(LoadEvent::Table {
            table: &table,
            rows,
            seconds,
        });
        tables.insert(table.clone(), (rows, seconds));
        collections.insert(pointer_key(&table), name);
    }

    // The switch: one replace of the pointer document.
    let kept: Vec<String> = previous.iter().map(|p| p.version.clone()).collect();
    let pointer = Pointer {
        id: POINTER_ID.into(),
        version: version.clone(),
        gold_version: gold.run_id.clone(),
        ml_version,
        as_of: gold.as_of.clone(),
        gold_published_at: gold.finished_at.clone(),
        loaded_at: loaded_at.clone(),
        collections,
        previous_versions: kept,
    };
    pointers
        .replace_one(doc! { "_id": POINTER_ID }, &pointer)
        .upsert(true)
        .await
        .map_err(mongo("switching the pointer"))?;
    on_event(LoadEvent::Switched {
        version: &version,
        loaded_at: &loaded_at,
    });

    // The stable names for BI tools, before the previous version's collections can go.
    let views = if options.skip_views {
        ViewsOutcome::Skipped
    } else {
        switch_views(db, &pointer.collections)
            .await
            .map_err(|source| LoadError::Views {
                version: version.clone(),
                source: Box::new(source),
            })?
    };

    // Collections no reader can reach any more: older versions and the leftovers of dead loads
    // (the previous version's are kept for readers that resolved the pointer just before the
    // switch).
    let keep: Vec<&String> = pointer
        .collections
        .values()
        .chain(previous.iter().flat_map(|p| p.collections.values()))
        .collect();
    let mut dropped = Vec::new();
    for name in db
        .list_collection_names()
        .await
        .map_err(mongo("listing collections"))?
    {
        if version_of_collection(&name).is_some() && !keep.contains(&&name) {
            db.collection::<Document>(&name)
                .drop()
                .await
                .map_err(mongo(format!("dropping {name}")))?;
            dropped.push(name);
        }
    }
    Ok(LoadOutcome::Loaded {
        version,
        tables,
        dropped,
        views,
        seconds: clock.elapsed().as_secs_f64(),
    })
}

/// `2026-11-29T00:15:00.123Z` → `20261129T001500123Z`.
fn compact_stamp(timestamp: &str) -> String {
    timestamp
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Every table of the serving catalogue with its folder in the published manifests: all the
/// served Gold tables (a load needs them all), the served Silver tables of the Silver run that
/// Gold was built on, and the ML tables once `lake ml` has published them.
fn table_sources(
    gold: &LayerManifest,
    silver: Option<&LayerManifest>,
    ml: Option<&LayerManifest>,
) -> Result<Vec<(&'static ServedTable, String)>, LoadError> {
    let catalogue = ServingCatalogue::embedded()?;
    let mut out = Vec::new();
    for served in catalogue.tables() {
        let manifest = match served.layer {
            Layer::Gold => Some(gold),
            Layer::Silver => silver,
            Layer::Ml => ml,
        };
        match manifest.and_then(|m| m.tables.get(&served.table)) {
            Some(published) => out.push((served, published.path.clone())),
            None if served.layer == Layer::Gold => {
                return Err(LoadError::MissingTable(served.table.clone()));
            }
            None => {}
        }
    }
    Ok(out)
}

/// Streams one table's Parquet into a new collection, then creates its indexes.
async fn copy_table(
    ctx: &SessionContext,
    lake: &Lake,
    folder: &str,
    served: &ServedTable,
    db: &Database,
    collection_name: &str,
) -> Result<u64, LoadError> {
    let table = served.key.as_str();
    let read = |e: datafusion::error::DataFusionError| LoadError::Read {
        table: table.to_string(),
        reason: e.to_string(),
    };
    let name = TableReference::bare(format!("load_{table}"));
    ctx.register_parquet(
        name.clone(),
        &lake.url(folder),
        ParquetReadOptions::default(),
    )
    .await
    .map_err(read)?;
    let mut stream = ctx
        .table(name.clone())
        .await
        .map_err(read)?
        .execute_stream()
        .await
        .map_err(read)?;
    let collection = db.collection::<Document>(collection_name);
    db.create_collection(collection_name)
        .await
        .map_err(mongo(format!("creating {collection_name}")))?;
    let mut row_number: i64 = 0;
    let mut pending: Vec<Document> = Vec::with_capacity(CHUNK);
    let mut inserts = tokio::task::JoinSet::new();
    let failed = |e| mongo(format!("inserting into {collection_name}"))(e);
    while let Some(batch) = stream.try_next().await.map_err(read)? {
        let rows = rows_from_batches(&[batch]).map_err(|reason| LoadError::Read {
            table: table.to_string(),
            reason,
        })?;
        for row in rows {
            let mut document = Document::new();
            document.insert("_id", row_number);
            for (key, value) in row {
                let value = mongodb::bson::Bson::try_from(value).map_err(|e| LoadError::Read {
                    table: table.to_string(),
                    reason: format!("column {key} of row {row_number}: {e}"),
                })?;
                document.insert(key, value);
            }
            row_number += 1;
            pending.push(document);
            if pending.len() == CHUNK {
                if inserts.len() == INSERTS_IN_FLIGHT {
                    finish_one(&mut inserts).await.map_err(failed)?;
                }
                let chunk = std::mem::replace(&mut pending, Vec::with_capacity(CHUNK));
                let collection = collection.clone();
                inserts.spawn(async move { insert_chunk(&collection, &chunk).await });
            }
        }
    }
    if !pending.is_empty() {
        let collection = collection.clone();
        inserts.spawn(async move { insert_chunk(&collection, &pending).await });
    }
    while !inserts.is_empty() {
        finish_one(&mut inserts).await.map_err(failed)?;
    }
    let models: Vec<IndexModel> = indexes(served)
        .into_iter()
        .map(|keys| IndexModel::builder().keys(keys).build())
        .collect();
    if !models.is_empty() {
        collection
            .create_indexes(models)
            .await
            .map_err(mongo(format!("indexing {collection_name}")))?;
    }
    ctx.deregister_table(name).map_err(read)?;
    Ok(row_number as u64)
}
